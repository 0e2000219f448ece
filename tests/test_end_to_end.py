"""Emitters and workers together: the v1 and v2 pairs, three v3 workers, fair dispatch."""

from __future__ import annotations

import signal
from collections import Counter

import pytest

from harness.children import run_script, script_env, wait_until
from tests.support import TASKS_CSV_ROWS
from utils.console_lines import READY_WORDS, done_rows, parse_all_received

pytestmark = pytest.mark.broker


@pytest.mark.parametrize(
    ("version", "queue", "default"),
    [("v1", "task_queue", "New task..."), ("v2", "task_queue2", "Second task.....")],
)
def test_v1_v2_pair_end_to_end(vhost, workers, tmp_path, version, queue, default):
    env = script_env(vhost.url, log_dir=tmp_path)
    worker = workers(f"{version}_listening_worker.py", env=env)
    worker.wait_for("Ready for work")

    sent = run_script(f"{version}_emitter_of_tasks.py", "Hello", "world..", env=env)
    default_sent = run_script(f"{version}_emitter_of_tasks.py", env=env)

    assert sent.returncode == 0, sent.stderr
    assert " [x] Sent Hello world.." in sent.stdout
    assert default_sent.returncode == 0, default_sent.stderr
    assert f" [x] Sent {default}" in default_sent.stdout
    worker.wait_for(" [x] Done.", count=2)
    assert worker.stop(signal.SIGINT).code == 0
    assert worker.lines("Received") == [" [x] Received Hello world..", f" [x] Received {default}"]
    assert vhost.queue_info(queue)["durable"] is True
    assert vhost.ready_count(queue) == 0


def test_three_v3_workers_share_tasks_csv(vhost, workers, tmp_path):
    env = script_env(vhost.url, log_dir=tmp_path, seconds_per_dot="0.05")
    team = [workers("v3_listening_worker.py", "--name", str(n), env=env) for n in (1, 2, 3)]
    for worker in team:
        worker.wait_for(READY_WORDS)

    result = run_script("v3_emitter_of_tasks.py", env=env)

    assert result.returncode == 0, result.stderr
    assert "18 confirmed by the broker" in result.stdout
    wait_until(lambda: sum(len(done_rows(w.output)) for w in team) >= 18, what="18 rows done")
    done = Counter()
    for worker in team:
        assert worker.stop(signal.SIGTERM).code == 0
        done.update(done_rows(worker.output))
        assert done_rows(worker.output), f"worker got no work:\n{worker.output}"
    assert done == Counter(range(1, 19))  # every row once, and only once
    received = [task for worker in team for task in parse_all_received(worker.output)]
    for number, text in enumerate(TASKS_CSV_ROWS, start=1):
        assert any(
            (task.row, task.note, task.text) == (number, "", text)
            and task.worker in {"1", "2", "3"}
            for task in received
        )


def test_fair_dispatch_long_task_does_not_hold_up_short_ones(vhost, workers, tmp_path):
    """Two workers, one long task then twenty short ones: the long task's worker does <= 1 more."""
    csv_file = tmp_path / "tasks.csv"
    csv_file.write_text("Long task" + "." * 40 + "\n" + "short task.\n" * 20)
    # long: 2 s, short: 0.05 s each
    env = script_env(vhost.url, log_dir=tmp_path, seconds_per_dot="0.05")
    pair = [workers("v3_listening_worker.py", "--name", n, env=env) for n in ("a", "b")]
    for worker in pair:
        worker.wait_for(READY_WORDS)

    assert run_script("v3_emitter_of_tasks.py", str(csv_file), env=env).returncode == 0

    wait_until(lambda: sum(len(done_rows(w.output)) for w in pair) >= 21, what="21 rows done")
    holder, other = sorted(pair, key=lambda w: 1 not in done_rows(w.output))
    for worker in pair:
        assert worker.stop().code == 0
    short_rows_by_holder = [row for row in done_rows(holder.output) if row != 1]
    assert len(short_rows_by_holder) <= 1
    assert sorted(done_rows(holder.output) + done_rows(other.output)) == list(range(1, 22))
