"""The demo runner (tools.demo), run as a user runs it; and its reading of the workers' lines."""

from __future__ import annotations

import re
import signal
import subprocess
from collections import Counter

import pytest

from harness.children import Child, script_env, start_script
from tests.support import check_a_tool_refused, run_tool
from tools.demo import RoundLog
from utils.console_lines import parse_all_received, parse_done

ALL_ROWS = list(range(1, 19))  # tasks.csv


def final_table(output: str) -> dict[int, list[int]]:
    """The demo's 'worker N: rows 1, 4, 7' lines."""
    table = {}
    for worker, rows in re.findall(r"^worker (\d+): (?:rows? ([\d, ]+)|no rows)$", output, re.M):
        table[int(worker)] = [int(r) for r in rows.split(", ")] if rows else []
    return table


def logged_rows(output: str) -> dict[int, list[int]]:
    """The rows each worker logged done, from the demo's prefixed 'worker N | ...' lines."""
    logged: dict[int, list[int]] = {}
    for line in output.splitlines():
        prefix, _, child_line = line.partition(" | ")
        done = parse_done(child_line)
        if done and prefix.startswith("worker "):
            assert prefix.rstrip() == f"worker {done.worker}", (
                "a line prefixed with the wrong worker"
            )
            logged.setdefault(int(done.worker), []).append(done.row)
    return logged


def consumers_and_ready(vhost, queue: str = "task_queue3") -> tuple[int, int]:
    """Exact counts, from a passive declare."""
    declared = vhost.declared(queue)
    return declared.consumer_count, declared.message_count


@pytest.mark.broker
def test_demo_runs_every_row_once_and_reports_who_did_which(vhost, tmp_path):
    result = run_tool("demo", "--seconds-per-dot", "0.05", url=vhost.url, log_dir=tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    table = final_table(result.stdout)
    assert set(table) == {1, 2, 3}
    assert table == logged_rows(result.stdout)
    assert Counter(row for rows in table.values() for row in rows) == Counter(ALL_ROWS)
    assert "Real timeline" in result.stdout and "Ideal timeline" in result.stdout
    assert re.search(r"Makespan real / ideal .*: [\d.]+ s / 0\.50 s = [\d.]+$", result.stdout, re.M)
    assert "\033[" not in result.stdout  # no colours in a pipe
    assert consumers_and_ready(vhost) == (0, 0)  # drained, and every worker gone


@pytest.mark.broker
def test_compare_prefetch_runs_every_row_once_each_way(vhost, tmp_path):
    """--compare-prefetch: the same tasks with prefetch 1, then with no limit, where the broker
    hands them out in turn as they arrive: 6 rows to each of the 3 workers."""
    result = run_tool(
        "demo", "--seconds-per-dot", "0.05", "--compare-prefetch", url=vhost.url, log_dir=tmp_path
    )

    assert result.returncode == 0, result.stdout + result.stderr
    fair, round_robin = result.stdout.split("Rows done by each worker (")[1:]
    for each in (fair, round_robin):
        rows = final_table(each)
        assert Counter(row for done in rows.values() for row in done) == Counter(ALL_ROWS)
    assert sorted(len(done) for done in final_table(round_robin).values()) == [6, 6, 6]
    titles = re.findall(r"^Makespan real / ideal \(([^)]+)\)", result.stdout, re.MULTILINE)
    assert titles == ["prefetch 1: fair dispatch", "unlimited prefetch: plain round robin"]
    assert consumers_and_ready(vhost) == (0, 0)


@pytest.mark.broker
def test_demo_refuses_to_mix_in_leftover_messages(vhost, tmp_path):
    vhost.publish("task_queue3", [b"left over.", b"and me."])

    result = run_tool("demo", "--seconds-per-dot", "0", url=vhost.url, log_dir=tmp_path)

    assert result.returncode == 1
    assert result.stdout == ""  # no worker, no emitter started
    [line] = result.stderr.splitlines()
    assert "task_queue3 holds 2 messages left from an earlier run" in line
    assert "run it with --purge to empty the queue first (make demo DEMO_ARGS=--purge)" in line
    assert consumers_and_ready(vhost) == (0, 2)


@pytest.mark.broker
def test_the_demo_purges_leftover_messages_when_asked(vhost, tmp_path):
    vhost.publish("task_queue3", [b"left over.", b"and me."])

    result = run_tool("demo", "--seconds-per-dot", "0", "--purge", url=vhost.url, log_dir=tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1] == (
        "demo     | --purge: deleted 2 messages left in queue task_queue3 from an earlier run"
    )
    assert sorted(row for rows in final_table(result.stdout).values() for row in rows) == ALL_ROWS
    assert consumers_and_ready(vhost) == (0, 0)


@pytest.mark.broker
def test_the_demo_will_not_share_its_queue_with_workers_running_elsewhere(vhost, workers, tmp_path):
    worker = workers("v3_listening_worker.py", env=script_env(vhost.url, log_dir=tmp_path))
    worker.wait_for("ready for work")

    result = run_tool("demo", "--seconds-per-dot", "0", "--purge", url=vhost.url, log_dir=tmp_path)

    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert "task_queue3 has 1 consumer (workers running elsewhere)" in line
    assert "stop those workers (Ctrl+C in their terminals)" in line


@pytest.mark.broker
@pytest.mark.parametrize(
    "signum", [signal.SIGINT, signal.SIGHUP], ids=["Ctrl+C", "the terminal closing"]
)
def test_ctrl_c_stops_the_demo_gracefully_and_loses_nothing(vhost, tmp_path, signum):
    demo = Child(
        *("-m", "tools.demo", "--seconds-per-dot", "0.2"),
        env=script_env(vhost.url, log_dir=tmp_path),
        out_path=tmp_path / "demo.out",
    )
    try:
        demo.wait_until(
            lambda output: "18 confirmed" in output and parse_all_received(output),
            "every row sent and a task started",
            timeout=20,
        )
        status = demo.stop(signum, timeout=20).code
    finally:
        demo.kill()
    output = demo.output

    assert status == 130, output
    assert "Traceback" not in output
    done = [row for rows in logged_rows(output).values() for row in rows]
    assert len(done) == len(set(done)) >= 1
    # each worker finished its task in hand; every other row is back in the queue
    assert consumers_and_ready(vhost) == (0, 18 - len(done))
    assert f"{18 - len(done)} rows sent but not done still in queue task_queue3" in output


@pytest.mark.broker
def test_a_reader_that_quits_early_stops_the_demo_and_its_workers_without_a_traceback(
    vhost, tmp_path
):
    """`make demo | head`: the demo's next line meets a closed pipe."""
    demo = start_script(
        *("-m", "tools.demo", "--seconds-per-dot", "0.2"),
        env=script_env(vhost.url, log_dir=tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert demo.stdout is not None and demo.stderr is not None
        lines = [demo.stdout.readline() for _ in range(3)]  # what `head -n 3` shows
        demo.stdout.close()
        status = demo.wait(timeout=60)
        errors = demo.stderr.read()
    finally:
        demo.kill()
        demo.wait()

    assert lines[0].startswith("demo     | RabbitMQ at ")
    assert status == 1, errors
    assert errors.splitlines() == [
        "demo: error: the output was closed (the program reading it quit, or the terminal "
        "closed); the workers were stopped"
    ]
    assert consumers_and_ready(vhost)[0] == 0  # no worker outlives the demo


def test_an_unreachable_broker_gives_one_line_and_exit_1(tmp_path):
    check_a_tool_refused("demo", log_dir=tmp_path)


def test_the_real_schedule_comes_from_the_workers_lines():
    log = RoundLog()
    for worker, line in [
        (1, " [*] worker 1 ready for work on task_queue3. To exit press CTRL+C"),
        (None, " [x] Sent row 1: First task...."),
        (None, " [x] Sent row 2: Don't Panic!!"),
        (1, " [x] Received row 1 by worker 1 at 23:59:59.500: First task...."),
        (1, " [x] Received row 2 (redelivered) by worker 1 at 23:59:59.600: Don't Panic!!"),
        (1, " [x] Done row 1 by worker 1 in 0.40 s."),
        (1, " [x] Done row 2 by worker 1 in 0.30 s."),
        (2, " [x] Received row 3 by worker 2 at 00:00:00.100: 42"),  # after midnight
        (2, " [x] Done row 3 by worker 2 in 0.20 s."),
    ]:
        log.feed(worker, line)

    assert log.ready == {1} and log.sent == [1, 2] and log.rows_left() == []
    assert log.rows_by_worker(2) == {1: [1, 2], 2: [3]}
    # row 2 arrived while row 1 ran (prefetch above 1): it starts when row 1 ends
    assert [(b.row, b.start, b.end) for b in log.blocks()] == [
        (1, 0.0, pytest.approx(0.4)),
        (2, pytest.approx(0.4), pytest.approx(0.4)),
        (3, pytest.approx(0.6), pytest.approx(0.8)),
    ]


def test_a_task_cut_short_ends_when_its_worker_did_and_a_redelivery_is_marked():
    log = RoundLog()
    for worker, line in [
        (2, " [x] Received row 1 by worker 2 at 10:00:00.000: First task...."),
        (1, " [x] Received row 2 by worker 1 at 10:00:00.000: Second task...."),
        (1, " [x] Done row 2 by worker 1 in 0.40 s."),
        (1, " [x] Received row 1 (redelivered) by worker 1 at 10:00:00.500: First task...."),
        (1, " [x] Done row 1 by worker 1 in 0.40 s."),
    ]:
        log.feed(worker, line)
    log.ended[2] = 10 * 3600 + 0.2  # killed 0.2 s into row 1

    blocks = sorted(log.blocks(), key=lambda b: (b.start, b.lane))
    assert [(b.lane, b.row, b.start, b.end, b.redelivered, b.cut) for b in blocks] == [
        (0, 2, 0.0, pytest.approx(0.4), False, False),
        (1, 1, 0.0, pytest.approx(0.2), False, True),
        (0, 1, pytest.approx(0.5), pytest.approx(0.9), True, False),
    ]
    assert log.starts == {1: 2, 2: 1} and log.in_hand == {1: None, 2: 1}
