"""The workers against the broker: killed, signalled, slow, their queue deleted, given
poison messages or failing tasks; nothing is lost and nothing hangs."""

from __future__ import annotations

import re
import signal
import time

import pytest

from harness.children import run_script, script_env, wait_until
from tests.support import QUEUE_OF, WORKERS
from utils.console_lines import READY_WORDS, done_rows, parse_all_received, parse_done

pytestmark = pytest.mark.broker


def test_a_worker_killed_mid_task_loses_nothing(vhost, workers, tmp_path):
    env = script_env(vhost.url, log_dir=tmp_path, seconds_per_dot="0.1")
    victim = workers("v3_listening_worker.py", "--name", "victim", env=env)
    victim.wait_for(READY_WORDS)
    csv_file = tmp_path / "one.csv"
    csv_file.write_text("A long task" + "." * 50 + "\n")  # 5 s of work
    assert run_script("v3_emitter_of_tasks.py", str(csv_file), env=env).returncode == 0
    victim.wait_until(
        lambda output: [task.row for task in parse_all_received(output)] == [1], "row 1 received"
    )

    victim.kill()  # SIGKILL: no chance to finish or to say goodbye
    rescuer = workers("v3_listening_worker.py", "--name", "rescuer", env=env)

    rescuer.wait_until(lambda output: 1 in done_rows(output), "row 1 done", timeout=30)
    assert [(task.row, task.note, task.worker) for task in parse_all_received(rescuer.output)] == [
        (1, "redelivered", "rescuer")
    ]
    assert rescuer.stop().code == 0
    assert vhost.ready_count("task_queue3") == 0


@pytest.mark.parametrize("worker_script", WORKERS)
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_mid_task_exits_0_and_the_task_is_done_or_back(
    vhost, workers, tmp_path, worker_script, signum
):
    """The worker starts with SIGINT ignored, as a background job does: it must install its own."""
    version = worker_script[:2]
    env = script_env(vhost.url, log_dir=tmp_path, seconds_per_dot="0.5")
    worker = workers(worker_script, env=env)
    worker.wait_for(READY_WORDS if version == "v3" else "Ready for work")
    vhost.publish(QUEUE_OF[version], [b"Mid-task signal...."])  # 2 s of work
    worker.wait_for("Received")

    assert worker.stop(signum).code == 0

    finished = "Done" in worker.output
    waiting = vhost.ready_count(QUEUE_OF[version])
    assert (finished, waiting) in [(True, 0), (False, 1)]
    if version == "v3":  # the v3 worker finishes the task in hand before it stops
        assert finished


def test_a_second_signal_stops_the_v3_worker_at_once_and_requeues_the_task(
    vhost, workers, tmp_path
):
    env = script_env(vhost.url, log_dir=tmp_path, seconds_per_dot="1")
    worker = workers("v3_listening_worker.py", env=env)
    worker.wait_for(READY_WORDS)
    vhost.publish("task_queue3", [b"Very long task.........."])  # 10 s of work
    worker.wait_for("Received")

    worker.send(signal.SIGTERM)
    worker.wait_for("stopping after row")  # the first signal handled on its own, as a press is
    started = time.monotonic()
    assert worker.stop(signal.SIGINT).code == 0

    assert time.monotonic() - started < 5
    assert "Done" not in worker.output
    # stopped at once: the broker requeues the task once it sees the socket close
    wait_until(lambda: vhost.ready_count("task_queue3") == 1, what="the task back in the queue")


def test_work_longer_than_the_heartbeat_keeps_the_connection(vhost, workers, tmp_path):
    url = vhost.url + "?heartbeat=2"
    env = script_env(url, log_dir=tmp_path, seconds_per_dot="1")
    worker = workers("v3_listening_worker.py", env=env)
    worker.wait_for(READY_WORDS)
    vhost.publish("task_queue3", [b"Ten seconds.........."])

    worker.wait_for("Done", timeout=30)
    assert worker.stop().code == 0

    assert worker.output.count("Received") == 1
    assert "redelivered" not in worker.output
    assert "lost its connection" not in worker.output
    assert "reconnect" not in worker.output
    assert vhost.ready_count("task_queue3") == 0


def test_a_worker_whose_queue_is_deleted_starts_over_and_takes_new_tasks(vhost, workers, tmp_path):
    # Deleting the queue (in the admin panel, say) cancels its consumers; the channel and
    # the connection stay open. A worker that missed that would wait for ever, idle.
    env = script_env(vhost.url, log_dir=tmp_path)
    worker = workers("v3_listening_worker.py", env=env)
    worker.wait_for(READY_WORDS)
    vhost.delete_queue("task_queue3")

    worker.wait_for("the broker cancelled consuming: was task_queue3 deleted?; starting over")
    worker.wait_for(READY_WORDS, count=2)  # it declared the queue again
    assert run_script("v3_emitter_of_tasks.py", env=env).returncode == 0
    wait_until(lambda: len(done_rows(worker.output)) >= 18, what="18 rows done")
    assert worker.stop().code == 0

    assert sorted(done_rows(worker.output)) == list(range(1, 19))


@pytest.mark.parametrize("script", ["v1_listening_worker.py", "v2_listening_worker.py"])
def test_v1_v2_workers_whose_queue_is_deleted_say_so_and_exit_1(vhost, workers, tmp_path, script):
    queue = QUEUE_OF[script[:2]]
    worker = workers(script, env=script_env(vhost.url, log_dir=tmp_path))
    worker.wait_for("Ready for work")
    vhost.delete_queue(queue)

    assert worker.wait(timeout=10).code == 1
    [line] = worker.lines("error:")
    assert line.endswith(
        f"error: the broker cancelled consuming: was {queue} deleted? Start the worker "
        "again to declare it anew"
    )
    assert "Traceback" not in worker.output


@pytest.mark.parametrize("version", ["v1", "v2", "v3"])
def test_a_poison_message_is_set_aside_and_work_goes_on(vhost, workers, tmp_path, version):
    queue = QUEUE_OF[version]
    env = script_env(vhost.url, log_dir=tmp_path, seconds_per_dot="0")
    vhost.publish(queue, [b"before.", b"\xff\xfe not UTF-8", b"after."])
    worker = workers(f"{version}_listening_worker.py", env=env)

    worker.wait_for("Done", count=2)
    assert worker.stop().code == 0

    [(body, properties)] = vhost.take_all(f"{queue}.dead-letter")
    assert body == b"\xff\xfe not UTF-8"
    assert properties.headers["x-set-aside-reason"] == "body is not UTF-8"
    assert properties.delivery_mode == 2
    assert vhost.ready_count(queue) == 0
    assert "not UTF-8" in worker.output


def test_the_first_signal_mid_task_says_which_row_it_finishes_and_how_long_it_has_left(
    vhost, workers, tmp_path
):
    env = script_env(vhost.url, log_dir=tmp_path, seconds_per_dot="0.5")
    send_rows(env, tmp_path, ["Eight seconds................"])  # 16 dots
    worker = workers("v3_listening_worker.py", "--name", "w", env=env)
    worker.wait_for("Received")

    worker.send(signal.SIGINT)
    worker.wait_for("Ctrl+C again to stop now")
    [line] = worker.lines("stopping after")
    left = re.search(
        r"worker w interrupted \(Ctrl\+C\): stopping after row 1 \(about (\d+) s left\)", line
    )
    assert left is not None, line
    assert 0 <= int(left[1]) <= 8
    assert worker.stop(signal.SIGINT).code == 0  # the second one: at once
    assert "Done" not in worker.output
    # stopped at once: the broker requeues the task once it sees the socket close
    wait_until(lambda: vhost.ready_count("task_queue3") == 1, what="the task back in the queue")


def test_received_is_written_when_the_work_starts_with_its_own_time(vhost, workers, tmp_path):
    gate = tmp_path / "gate"
    env = script_env(vhost.url, log_dir=tmp_path, seconds_per_dot="0", WORK_GATE=str(gate))
    send_rows(env, tmp_path, ["Gated task"])
    worker = workers("-m", "tests.work_hooks", "gated", env=env)

    worker.wait_for("Received")  # the work has started, and cannot end before the gate opens
    log = tmp_path / "v3_listening_worker.log"
    assert " [x] Received row 1 " in log.read_text()
    assert "Done" not in worker.output + log.read_text()
    time.sleep(1.0)  # the work lasts at least this long: Done must say so, and be logged later
    gate.touch()
    worker.wait_for("Done")
    assert worker.stop().code == 0

    [received] = parse_all_received(worker.output)
    [received_record, done_record] = [
        line for line in log.read_text().splitlines() if "Received" in line or "Done" in line
    ]
    assert received_record.endswith(worker.lines("Received")[0].strip())  # one record, one line
    assert log_time(received_record) == pytest.approx(received.second_of_day, abs=0.1)
    assert log_time(done_record) - log_time(received_record) >= 1.0
    assert parse_done(done_record).seconds >= 1.0


def test_with_prefetch_0_a_worker_says_that_fair_dispatch_is_off(vhost, workers, tmp_path):
    worker = workers(
        "v3_listening_worker.py",
        "--prefetch",
        "0",
        "--name",
        "w",
        env=script_env(vhost.url, log_dir=tmp_path),
    )
    worker.wait_for(READY_WORDS)
    assert worker.stop().code == 0
    [line] = worker.lines("fair dispatch")
    assert line.strip() == (
        "[*] worker w: --prefetch 0, no fair dispatch: tasks may wait here while others idle"
    )


def send_rows(env: dict[str, str], tmp_path, tasks: list[str]) -> None:
    """Send tasks as rows 1, 2, ... with the v3 emitter, each confirmed by the broker."""
    csv_file = tmp_path / "tasks.csv"
    csv_file.write_text("".join(task + "\n" for task in tasks))
    sent = run_script("v3_emitter_of_tasks.py", str(csv_file), env=env)
    assert sent.returncode == 0, sent.stderr


def log_time(record: str) -> float:
    """The second of the day of a log record, from its time stamp ('2026-12-02 15:42:14,718')."""
    clock = record.split(" ")[1].split(".")[0]
    hours, minutes, seconds = clock.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds.replace(",", "."))


def test_a_worker_that_served_two_emitter_runs_says_what_its_repeated_rows_are(
    vhost, workers, tmp_path
):
    """Each emitter run numbers its rows from 1: the summary's '(twice: ...)' says that a
    repeated row number is, as a rule, another run's task, not a task done twice."""
    env = script_env(vhost.url, log_dir=tmp_path, seconds_per_dot="0")
    worker = workers("v3_listening_worker.py", "--name", "1", env=env)
    worker.wait_for("ready for work")
    for _ in range(2):
        sent = run_script("v3_emitter_of_tasks.py", env=env)
        assert sent.returncode == 0, sent.stderr
    worker.wait_for("Done", count=36)
    assert worker.stop().code == 0

    [summary] = [line for line in worker.output.splitlines() if " did 36 tasks: " in line]
    assert summary.endswith(
        " [*] worker 1 did 36 tasks: rows 1-18 (twice: 1-18); a row number done more than once "
        "is, as a rule, a task of another emitter run (each run numbers its rows from its CSV's "
        "lines), else the same task given again (marked redelivered)"
    )
