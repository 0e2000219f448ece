"""The lab (tools.lab), run as a user runs it, each experiment's verdict read back and checked.

The verdict logic is also tested on made-up lines, with no broker.

Every experiment runs at a small SECONDS_PER_DOT against the real broker (restart on a
throwaway node of the lab's own), and leaves nothing behind: no vhost of its, no node, no
child; the broker's other vhosts, and the test's own, untouched.
"""

from __future__ import annotations

import os
import re
import signal
import sys
import tempfile
from pathlib import Path

import pytest

from harness.broker import api
from harness.children import Child, script_env, wait_until
from tests.lab_verdicts import ReadVerdict, read_verdict
from tests.support import MANAGEMENT_ARGS, check_a_tool_refused, run_tool
from tools.lab import cli, confirms, crash, heartbeat, node, poison, restart
from tools.lab.session import Side
from tools.lab.verdict import Column, Verdict, verdict_lines
from tools.management import ManagementError, quoted
from tools.supervisor import RoundLog
from utils.console_lines import named_rows, parse_all_received, parse_not_confirmed, rows_named
from utils.outcome import Outcome, failure_line

SPEED = "0.1"  # seconds per dot: tasks.csv is 3 s of work in all
ALL_ROWS = list(range(1, 19))


@pytest.fixture
def lab_node() -> None:
    """The restart experiment starts a node of its own. Where it cannot (not Linux, RabbitMQ
    not installed) its tests skip on a developer's machine, and fail in CI (CI set)."""
    why = node.unavailable()
    if why is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"the lab cannot start its throwaway node here: {why}")
    pytest.skip(why)


# --- running the lab, and what it must leave behind ------------------------------------------


def run_lab(name: str, url: str, tmp_path: Path, timeout: float = 90) -> tuple[str, ReadVerdict]:
    """`python -m tools.lab NAME --seconds-per-dot SPEED`: its output and its verdict, after
    checking that it succeeded and left nothing behind."""
    args = ("--seconds-per-dot", SPEED, *MANAGEMENT_ARGS)
    result = run_tool("lab", name, *args, url=url, log_dir=tmp_path, timeout=timeout)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""
    left_nothing_behind(result.stdout)
    verdict = read_verdict(result.stdout)
    assert verdict.experiment == name
    return result.stdout, verdict


def left_nothing_behind(output: str) -> None:
    """The vhost the lab made is gone, and so are its node and the node's files."""
    for vhost in re.findall(r"vhost (lab-\S+) on ", output):
        with pytest.raises(ManagementError) as gone:
            api("GET", f"/vhosts/{quoted(vhost)}")
        assert gone.value.status == 404
    for name in re.findall(r"(rmqlab\d+)@localhost on ", output):
        assert name not in node_names()
    for state in re.findall(r"\(state in (/\S+)\)", output):
        assert not Path(state).exists()


def node_names() -> set[str]:
    """The names of the RabbitMQ nodes running on this machine."""
    names = set()
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            for setting in environ.read_bytes().split(b"\0"):
                if setting.startswith(b"RABBITMQ_NODENAME="):
                    names.add(setting.split(b"=", 1)[1].decode().split("@")[0])
        except OSError:  # gone, or not ours to read
            continue
    return names


def children_of(pid: int) -> list[int]:
    """The processes whose parent is `pid`."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


def node_launched(lab_pid: int) -> bool:
    """Whether the lab's node (rmqlab<pid>, in its own rmq-lab-* temporary directory) has
    been launched: scripts/local_broker.sh writes the launcher's pid once it has."""
    temp = Path(tempfile.gettempdir())
    return any(temp.glob(f"rmq-lab-*/rmqlab{lab_pid}/launcher.pid"))


def side_output(output: str, key: str) -> str:
    """The lines of one side's run: from its '── with:' (or without) heading to the next."""
    parts = re.split(r"^lab +\| ── (with|without): ", output, flags=re.MULTILINE)
    return "".join(text for tag, text in zip(parts[1::2], parts[2::2], strict=True) if tag == key)


# --- each experiment against the real broker ------------------------------------------------


@pytest.mark.broker
def test_crash_auto_ack_loses_the_killed_task_and_what_it_held_manual_ack_none(vhost, tmp_path):
    vhost.publish("task_queue3", [b"not the lab's.", b"nor this."])  # in the URL's vhost
    output, verdict = run_lab("crash", vhost.url, tmp_path)
    rows = verdict.rows

    assert rows["tasks sent"] == ["18", "18"]
    # with manual ack: nothing lost, the killed task redelivered to another worker and done
    assert rows["done"][0] == "18 of 18" and rows["lost"][0] == "none"
    killed = re.fullmatch(
        r"row (\d+): redelivered, done by worker ([13])", rows["worker 2's task when killed"][0]
    )
    assert killed, rows["worker 2's task when killed"]
    redelivered = [r for r in parse_all_received(side_output(output, "with")) if r.note]
    assert [(r.row, r.worker) for r in redelivered] == [(int(killed[1]), killed[2])]
    # with auto-ack: the killed task is lost, with the tasks the broker had sent that worker
    # (auto-ack knows no prefetch limit), and nothing else
    gone = re.fullmatch(r"row (\d+): lost", rows["worker 2's task when killed"][1])
    assert gone, rows["worker 2's task when killed"]
    lost_row = int(gone[1])
    lost = named_rows(rows["lost"][1].split(": ")[1])
    also = rows["also lost with worker 2"][1]
    assert lost_row in lost and sorted(lost) == sorted([lost_row, *named_rows(also.split(": ")[1])])
    started = {r.row for r in parse_all_received(side_output(output, "without"))}
    assert set(lost) - {lost_row} <= set(ALL_ROWS) - started  # never started by anyone
    assert rows["done"][1] == f"{18 - len(lost)} of 18"
    assert rows["done twice"] == ["none", "none"]
    assert "╳" in output and "├" + str(int(killed[1])) + "*" in output  # marked on the timeline
    assert vhost.ready_count("task_queue3") == 2  # the lab never touched it


@pytest.mark.broker
def test_heartbeat_the_callback_sleeper_runs_the_task_twice_the_v3_worker_once(vhost, tmp_path):
    output, verdict = run_lab("heartbeat", vhost.url, tmp_path)
    rows = verdict.rows

    assert rows["times its work ran"][0] == "1"
    assert rows["times its work ran"][1].startswith("2, the second redelivered to worker ")
    assert rows["acked"] == ["1: done", "0: no ack reached the broker"]
    assert rows["connections lost"] == ["none", "2: worker 1, worker 2"]
    assert rows["left in the queue"] == ["none", "1: it would go round again"]
    assert "?heartbeat=1" in output


@pytest.mark.broker
def test_poison_kills_every_original_worker_in_turn_and_v3_sets_it_aside(vhost, tmp_path):
    output, verdict = run_lab("poison", vhost.url, tmp_path)
    rows = verdict.rows

    assert rows["done"][0] == "18 of 18" and rows["stuck in the queue"][0] == "none"
    assert rows["workers still running"] == ["3 of 3", "0 of 3, each died on it"]
    assert rows["the message that is not UTF-8"] == [
        "set aside in poison-set-aside.dead-letter",
        "back in the queue, after killing 3 workers",
    ]
    done = int(rows["done"][1].split(" of ")[0])
    stuck = named_rows(rows["stuck in the queue"][1].split(": ")[1])
    assert 3 <= done < 18 and len(stuck) == 18 - done  # rows 1-3 came before the poison
    without = side_output(output, "without")
    assert without.count("ERROR: something went wrong.") == 3
    assert len(re.findall(r"^lab +\| worker \d exited, status 1$", without, re.MULTILINE)) == 3


@pytest.mark.broker
def test_confirms_name_the_8_refused_rows_and_without_them_they_vanish(vhost, tmp_path):
    _output, verdict = run_lab("confirms", vhost.url, tmp_path)
    rows = verdict.rows

    assert rows["rows sent"] == ["18", "18"]
    assert rows["rows it names refused"] == ["8: rows 11-18", "none"]
    assert rows["rows in the queue"] == ["10: rows 1-10", "10: rows 1-10"]
    assert rows["lost without a word"] == ["none", "8: rows 11-18"]
    assert rows["the emitter's exit status"][0].startswith("1: ")
    assert rows["the emitter's exit status"][1] == "0: it believes all 18 stored"


@pytest.mark.broker
@pytest.mark.own_node
def test_restart_keeps_only_a_durable_queue_of_persistent_messages(lab_node, tmp_path):
    output, verdict = run_lab("restart", "amqp://guest:guest@127.0.0.1:1/", tmp_path)
    rows = verdict.rows

    assert rows["in the queue before the restart"] == ["18: rows 1-18"] * 3
    assert rows["in the queue after the restart"] == ["18: rows 1-18", "empty", "no such queue"]
    assert rows["lost"] == ["none", "18: rows 1-18", "18: rows 1-18"]
    assert re.search(r"throwaway RabbitMQ node of the lab's own, rmqlab\d+@localhost", output)


# --- stopping, and refusing -------------------------------------------------------------------


def start_lab(name: str, url: str, tmp_path: Path) -> Child:
    env = script_env(url, log_dir=tmp_path, COLUMNS="100")
    return Child(
        "-m",
        "tools.lab",
        name,
        "--seconds-per-dot",
        "0.2",
        *MANAGEMENT_ARGS,
        env=env,
        out_path=tmp_path / f"{name}.out",
    )


@pytest.mark.broker
def test_ctrl_c_stops_the_children_and_deletes_the_vhost(vhost, tmp_path):
    lab = start_lab("crash", vhost.url, tmp_path)
    try:
        lab.wait_for("killed worker 2 (SIGKILL)", timeout=30)
        # the killed worker stays a child until the lab reaps it: the two left, once it has
        wait_until(lambda: len(children_of(lab.pid)) == 2, "the lab to reap worker 2", 10)
        children = children_of(lab.pid)
        assert lab.stop(signal.SIGINT, timeout=20).code == 130
    finally:
        lab.kill()

    assert "interrupted: cleaning up" in lab.output
    assert not [pid for pid in children if Path(f"/proc/{pid}").exists()]
    assert "Verdict" not in lab.output
    left_nothing_behind(lab.output)


@pytest.mark.broker
@pytest.mark.own_node
def test_ctrl_c_while_the_node_starts_still_stops_the_node(lab_node, tmp_path):
    lab = start_lab("restart", "amqp://guest:guest@127.0.0.1:1/", tmp_path)
    try:
        lab.wait_for("starting a throwaway RabbitMQ node", timeout=10)
        # scripts/local_broker.sh up has launched rabbitmq-server (it boots in 6-30 s)
        wait_until(lambda: node_launched(lab.pid), "the lab's node to be launched", 30)
        lab.send(signal.SIGINT)
        lab.send(signal.SIGINT)  # a second Ctrl+C must not cut the cleaning short
        assert lab.wait(timeout=90).code == 130
    finally:
        lab.kill()

    assert "waiting for the node to finish starting, to stop it" in lab.output
    assert "local_broker: down (removed " in lab.output
    left_nothing_behind(lab.output)
    assert re.search(r"rmqlab\d+@localhost", lab.output)


def test_an_unreachable_broker_gives_one_line_and_exit_1(tmp_path):
    check_a_tool_refused("lab", "confirms", log_dir=tmp_path)


def test_with_no_experiment_it_lists_them_all(tmp_path):
    result = run_tool("lab", url="amqp://guest:guest@127.0.0.1:1/", log_dir=tmp_path)

    assert result.returncode == 0, result.stderr
    listed = re.findall(r"^  (\w+)  +\S", result.stdout, re.MULTILINE)
    assert listed == ["crash", "restart", "confirms", "heartbeat", "poison"]


def test_too_few_seconds_per_dot_for_a_kill_mid_task_is_bad_usage(tmp_path):
    result = run_tool(
        "lab", "crash", "--seconds-per-dot", "0.01", url="amqp://x@127.0.0.1:1/", log_dir=tmp_path
    )

    assert result.returncode == 2 and result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("lab: error: crash needs at least 0.05 s per dot (got 0.01)")


def test_restart_says_why_it_cannot_run_and_skips(monkeypatch, capsys):
    monkeypatch.setattr(sys, "platform", "darwin")

    assert cli.main(["restart"]) == 0
    assert capsys.readouterr().out == (
        "lab: skipped restart: it needs Linux, to run scripts/local_broker.sh (this is darwin)\n"
    )


def test_without_rabbitmq_installed_restart_is_unavailable(monkeypatch, tmp_path):
    monkeypatch.setattr(node, "RABBITMQ_SCRIPTS", tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path) + os.pathsep + "/bin")
    monkeypatch.delenv("RMQ_SCRIPTS_DIR", raising=False)

    assert "RabbitMQ is not installed on this machine" in node.unavailable()


# --- the verdict logic, on made-up lines (no broker) ---------------------------------------


def log_of(lines: list[tuple[int | None, str]], ended: dict[int, float] | None = None) -> RoundLog:
    log = RoundLog()
    for worker, line in lines:
        log.feed(worker, line)
    log.ended.update(ended or {})
    return log


def sent(*rows: int) -> list[tuple[None, str]]:
    return [(None, f" [x] Sent row {row}: task {row}.") for row in rows]


def received(worker: int, row: int, note: str = "") -> tuple[int, str]:
    noted = f" ({note})" if note else ""
    return worker, f" [x] Received row {row}{noted} by worker {worker} at 10:00:00.000: task."


def done(worker: int, row: int) -> tuple[int, str]:
    return worker, f" [x] Done row {row} by worker {worker} in 0.10 s."


def test_a_verdict_reads_back_as_it_was_written():
    table = Verdict(
        "x",
        "what was done",
        [Column("with: a", "a.py"), Column("without: b", "python -m b")],
        [("lost", ["none", "2: rows 4, 7"]), ("done", ["5 of 5", ""])],
    )
    lines = verdict_lines(table)

    assert lines[0] == "Verdict (x): what was done"
    assert len({line.index("│") for line in lines[1:] if "│" in line}) == 1  # aligned
    back = read_verdict("noise\n" + "\n".join(lines) + "\n\nafter")
    assert back == ReadVerdict(
        "x", ["with: a", "without: b"], {"lost": ["none", "2: rows 4, 7"], "done": ["5 of 5", ""]}
    )


def test_crash_verdict_names_the_killed_task_redelivered_or_lost():
    side = crash.SIDES[0]
    rescued = log_of(
        [
            *sent(1, 2),
            received(2, 1),
            received(1, 2),
            done(1, 2),
            received(1, 1, "redelivered"),
            done(1, 1),
        ]
    )
    lost = log_of([*sent(1, 2, 3), received(2, 1), received(1, 2), done(1, 2)], ended={2: 36000.0})

    assert dict(crash.column(crash.Run(side, rescued, 1))) == {
        "tasks sent": "2",
        "done": "2 of 2",
        "done twice": "none",
        "lost": "none",
        "worker 2's task when killed": "row 1: redelivered, done by worker 1",
        "also lost with worker 2": "none",
    }
    facts = dict(crash.column(crash.Run(crash.SIDES[1], lost, 1)))
    assert facts["lost"] == "2: rows 1, 3"
    assert facts["worker 2's task when killed"] == "row 1: lost"
    assert facts["also lost with worker 2"] == "1: row 3"
    late = log_of([*sent(1), received(2, 1), done(2, 1)])
    assert (
        "done before the kill landed"
        in dict(crash.column(crash.Run(side, late, 1)))["worker 2's task when killed"]
    )


def test_heartbeat_verdict_counts_runs_acks_and_lost_connections():
    twice = log_of(
        [*sent(1), received(2, 1), received(1, 1, "redelivered")], ended={1: 1.0, 2: 1.0}
    )
    once = log_of([*sent(1), received(2, 1), done(2, 1)])

    assert dict(heartbeat.column(heartbeat.Run(heartbeat.SIDES[1], twice, {1: 1, 2: 1}, 1))) == {
        "tasks sent": "1",
        "times its work ran": "2, the second redelivered to worker 1",
        "acked": "0: no ack reached the broker",
        "connections lost": "2: worker 1, worker 2",
        "left in the queue": "1: it would go round again",
    }
    facts = dict(heartbeat.column(heartbeat.Run(heartbeat.SIDES[0], once, {}, 0)))
    assert (facts["times its work ran"], facts["acked"], facts["connections lost"]) == (
        "1",
        "1: done",
        "none",
    )


@pytest.mark.parametrize("per_dot", [1.0, 0.5, 0.3, 0.1, 0.01])
def test_the_long_task_lasts_four_heartbeats_or_more(per_dot):
    beat, dots = heartbeat.plan(per_dot)

    assert beat in (1, 2) and dots >= 10
    assert dots * per_dot >= 4 * beat


def test_poison_verdict_tells_set_aside_from_killing():
    side = poison.SIDES[1]
    log = log_of([*sent(1, 2, 3), received(1, 1), done(1, 1)])

    facts = dict(poison.column(poison.Run(side, log, {1: 1, 2: 1, 3: 1}, left=3, set_aside=0)))
    assert facts["stuck in the queue"] == "2: rows 2-3"
    assert facts["workers still running"] == "0 of 3, each died on it"
    assert facts["the message that is not UTF-8"] == "back in the queue, after killing 3 workers"
    facts = dict(poison.column(poison.Run(poison.SIDES[0], log, {}, left=0, set_aside=1)))
    assert facts["the message that is not UTF-8"] == "set aside in poison-set-aside.dead-letter"


def test_confirms_verdict_splits_named_refusals_from_silent_losses():
    failure = failure_line(Outcome(sent=18, confirmed=10, refused=list(range(11, 19))))
    named = log_of([*sent(*ALL_ROWS), (None, f"v3_emitter_of_tasks: error: {failure}")])
    silent = log_of(sent(*ALL_ROWS))
    kept = list(range(1, 11))

    facts = dict(confirms.column(confirms.Run(confirms.SIDES[0], named, 1, kept)))
    assert (facts["rows it names refused"], facts["lost without a word"]) == (
        "8: rows 11-18",
        "none",
    )
    facts = dict(confirms.column(confirms.Run(confirms.SIDES[1], silent, 0, kept)))
    assert (facts["rows it names refused"], facts["lost without a word"]) == (
        "none",
        "8: rows 11-18",
    )
    assert facts["the emitter's exit status"] == "0: it believes all 18 stored"


def test_the_v3_emitters_failure_line_reads_back_row_by_row():
    outcome = Outcome(
        sent=30, confirmed=20, refused=[3, 7, 8, 9], unroutable=[12, 13], unconfirmed=[30]
    )
    line = f"v3_emitter_of_tasks: error: {failure_line(outcome)}"

    facts = parse_not_confirmed(line)
    assert facts is not None
    assert (facts.failed, facts.sent, facts.confirmed) == (7, 30, 20)
    assert facts.rows == [3, 7, 8, 9, 12, 13, 30]
    assert facts.causes == "4 refused by the broker, 2 unroutable (no such queue), 1 with no answer"
    assert parse_not_confirmed(" [x] Sent row 3: Third task....") is None


def test_named_rows_undo_rows_named():
    for rows in ([1], [3, 7, 8, 9, 12], list(range(1, 19))):
        assert named_rows(rows_named(rows)) == rows
    assert named_rows(rows_named(range(1, 100, 2))) == list(range(1, 40, 2))  # 20 runs named


def test_restart_verdict_tells_an_empty_queue_from_a_deleted_one():
    log = log_of(sent(1, 2))
    facts = [
        dict(restart.column(restart.Run(restart.SIDES[0], log, [1, 2], after)))
        for after in ([1, 2], [], None)
    ]

    assert [f["in the queue after the restart"] for f in facts] == [
        "2: rows 1-2",
        "empty",
        "no such queue",
    ]
    assert [f["lost"] for f in facts] == ["none", "2: rows 1-2", "2: rows 1-2"]


def test_a_side_names_the_program_as_a_user_types_it():
    assert Side("without", "x", ("-m", "tools.lab.worker_without", "manual-ack"), "x").program == (
        "python -m tools.lab.worker_without manual-ack"
    )
    assert crash.SIDES[0].program == "v3_listening_worker.py"
