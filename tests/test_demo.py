"""The demo runner and the queue watcher, run as a user runs them; and the timeline drawing."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.support import PROJECT_ROOT, script_env, wait_until
from tools.demo import RoundLog
from tools.schedule_view import (
    Block,
    common_scale,
    draw_timeline,
    ideal_schedule,
    lane_text,
)
from utils.tasks import TaskFile, work_seconds

ALL_ROWS = list(range(1, 19))  # tasks.csv
UNREACHABLE_URL = "amqp://guest:guest@127.0.0.1:1/%2F"  # nothing listens on port 1


def run_module(
    module: str, *args: str, url: str, timeout: float = 60
) -> subprocess.CompletedProcess:
    """Run `python -m tools.<module>` to completion, output captured (so: no colours)."""
    return subprocess.run(
        [sys.executable, "-m", f"tools.{module}", *args],
        cwd=PROJECT_ROOT,
        env=dict(os.environ, RABBITMQ_URL=url, PYTHONUNBUFFERED="1", COLUMNS="100"),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def final_table(output: str) -> dict[int, list[int]]:
    """The demo's 'worker N: rows 1, 4, 7' lines."""
    table = {}
    for worker, rows in re.findall(r"^worker (\d+): (rows [\d, ]+|no rows)$", output, re.MULTILINE):
        table[int(worker)] = [] if rows == "no rows" else [int(r) for r in rows[5:].split(", ")]
    return table


def logged_rows(output: str) -> dict[int, list[int]]:
    """The rows each worker logged done, from the demo's prefixed 'worker N | ...' lines."""
    logged: dict[int, list[int]] = {}
    for prefix, row, worker in re.findall(
        r"^worker (\d+) \| +\[x\] Done row (\d+) by worker (\d+) ", output, re.MULTILINE
    ):
        assert prefix == worker, "a line prefixed with the wrong worker"
        logged.setdefault(int(worker), []).append(int(row))
    return logged


def consumers_and_ready(vhost, queue: str = "task_queue3") -> tuple[int, int]:
    """Exact counts, from a passive declare."""
    with vhost.connection() as connection:
        method = connection.channel().queue_declare(queue, passive=True).method
        return method.consumer_count, method.message_count


@pytest.mark.broker
def test_demo_runs_every_row_once_and_reports_who_did_which(vhost):
    result = run_module("demo", "--seconds-per-dot", "0.05", url=vhost.url)

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
def test_demo_refuses_to_mix_in_leftover_messages(vhost):
    vhost.publish("task_queue3", [b"left over.", b"and me."])

    result = run_module("demo", "--seconds-per-dot", "0", url=vhost.url)

    assert result.returncode == 1
    assert result.stdout == ""  # no worker, no emitter started
    [line] = result.stderr.splitlines()
    assert "task_queue3 holds 2 messages left from an earlier run" in line
    assert "run it with --purge to empty the queue first (make demo DEMO_ARGS=--purge)" in line
    assert consumers_and_ready(vhost) == (0, 2)


@pytest.mark.broker
def test_the_demo_purges_leftover_messages_when_asked(vhost):
    vhost.publish("task_queue3", [b"left over.", b"and me."])

    result = run_module("demo", "--seconds-per-dot", "0", "--purge", url=vhost.url)

    assert result.returncode == 0, result.stderr
    assert sorted(row for rows in final_table(result.stdout).values() for row in rows) == ALL_ROWS
    assert consumers_and_ready(vhost) == (0, 0)


@pytest.mark.broker
def test_the_demo_will_not_share_its_queue_with_workers_running_elsewhere(vhost, workers):
    worker = workers("v3_listening_worker.py", env=script_env(vhost.url))
    worker.wait_for("ready for work")

    result = run_module("demo", "--seconds-per-dot", "0", "--purge", url=vhost.url)

    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert "task_queue3 has 1 consumers (workers running elsewhere)" in line
    assert "stop those workers (Ctrl+C in their terminals)" in line


@pytest.mark.broker
def test_ctrl_c_stops_the_demo_gracefully_and_loses_nothing(vhost, tmp_path):
    out_path = tmp_path / "demo.out"
    with open(out_path, "w") as out:
        demo = subprocess.Popen(
            [sys.executable, "-m", "tools.demo", "--seconds-per-dot", "0.2"],
            cwd=PROJECT_ROOT,
            env=dict(os.environ, RABBITMQ_URL=vhost.url, PYTHONUNBUFFERED="1"),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until(
                lambda: (
                    "18 confirmed" in out_path.read_text()
                    and "Received row" in out_path.read_text()
                ),
                timeout=20,
                what="every row sent and a task started",
            )
            demo.send_signal(signal.SIGINT)
            status = demo.wait(timeout=20)
        finally:
            if demo.poll() is None:
                demo.kill()
    output = Path(out_path).read_text()

    assert status == 130, output
    done = [row for rows in logged_rows(output).values() for row in rows]
    assert len(done) == len(set(done)) >= 1
    # each worker finished its task in hand; every other row is back in the queue
    assert consumers_and_ready(vhost) == (0, 18 - len(done))
    assert f"{18 - len(done)} rows sent but not done are still in queue task_queue3" in output


@pytest.mark.parametrize(
    "args",
    [["demo"], ["watch_queues", "--once", "--management-port", "1"]],
    ids=["demo", "watcher"],
)
def test_an_unreachable_broker_gives_one_line_and_exit_1(args):
    started = time.monotonic()
    result = run_module(*args, url=UNREACHABLE_URL, timeout=30)

    assert result.returncode == 1
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert "127.0.0.1:1" in line and "refused" in line.lower()
    assert time.monotonic() - started < 10


@pytest.mark.broker
def test_the_watcher_counts_ready_messages_and_consumers_live(vhost, workers):
    """No waiting for the broker's 5-second samples: ready and consumers are read over AMQP."""
    vhost.publish("watched", [b"long task....", b"two", b"three"])

    result = run_module("watch_queues", "--once", url=vhost.url, timeout=15)
    assert result.returncode == 0, result.stderr
    assert re.search(r"^watched +3 +\S+\* +0$", result.stdout, re.MULTILINE), result.stdout
    assert f"vhost {vhost.name} at 127.0.0.1:15672" in result.stdout

    env = script_env(vhost.url, seconds_per_dot="5")
    worker = workers("v3_listening_worker.py", "--queue", "watched", env=env)
    worker.wait_for("Received row ? by worker")  # holds the long task; two stay ready
    result = run_module("watch_queues", "--once", url=vhost.url, timeout=15)
    assert re.search(r"^watched +2 +\S+\* +1$", result.stdout, re.MULTILINE), result.stdout


# --- the timeline, without a broker -------------------------------------------------------------


def ideal_blocks_of_tasks_csv(per_dot: float = 1.0) -> list[Block]:
    tasks = list(TaskFile(PROJECT_ROOT / "tasks.csv"))
    schedule = ideal_schedule([work_seconds(task.text, per_dot) for task in tasks], 3)
    return [Block(w, task.row, start, end) for task, (w, start, end) in zip(tasks, schedule)]


@pytest.mark.parametrize("width", [40, 70, 150])
def test_every_task_is_one_block_with_its_row_and_the_lanes_fit(width):
    blocks = ideal_blocks_of_tasks_csv()
    scale = common_scale([blocks], width)
    lines = draw_timeline(blocks, ["worker 1", "worker 2", "worker 3"], scale, width)

    lanes = lines[:3]
    rows = [int(row) for lane in lanes for row in re.findall(r"├(\d+)", lane)]
    assert sorted(rows) == ALL_ROWS
    assert all(len(lane) <= len("worker 1 │") + width for lane in lanes)
    assert lines[3].startswith(" " * 9 + "└") and "0s" in lines[4]


def test_a_block_spans_its_time_and_a_zero_length_task_still_shows():
    blocks = [Block(0, 1, 0.0, 1.0), Block(0, 2, 1.0, 1.0), Block(0, 3, 1.0, 2.0)]

    assert lane_text(blocks, 10) == "├1───────┤├2┤├3────┤"  # 2 and 3 pushed right


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
