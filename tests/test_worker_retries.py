"""The v3 worker retries a task whose work fails --retries times, counting failures only (a
crash is none), then sets it aside with the count and the error; a retry that succeeds is
done once.

Work fails here as it can for a user: SECONDS_PER_DOT so large that time.sleep overflows.
That setting is each worker's own, so a task can fail on one worker and succeed on another.
"""

from __future__ import annotations

import signal
import uuid

import pytest

from tests.support import run_script, script_env, wait_until
from utils.console_lines import READY_WORDS, done_rows, parse_all_received

pytestmark = pytest.mark.broker

FAILING = "1e308"  # seconds per dot: time.sleep overflows on any task with a dot
SET_ASIDE = "set aside in task_queue3.dead-letter"


def send_rows(env: dict[str, str], tmp_path, tasks: list[str]) -> None:
    """Send tasks as rows 1, 2, ... with the v3 emitter, each confirmed by the broker."""
    csv_file = tmp_path / f"tasks-{uuid.uuid4().hex[:6]}.csv"
    csv_file.write_text("".join(task + "\n" for task in tasks))
    sent = run_script("v3_emitter_of_tasks.py", str(csv_file), env=env)
    assert sent.returncode == 0, sent.stderr


def tries(output: str, row: int) -> list[str]:
    """The notes of a row's Received lines, in order."""
    return [task.note for task in parse_all_received(output) if task.row == row]


def test_with_retries_2_a_task_failing_every_time_is_tried_3_times_then_set_aside(
    vhost, workers, tmp_path
):
    env = script_env(vhost.url, log_dir=tmp_path, seconds_per_dot=FAILING)
    send_rows(env, tmp_path, ["Failing task.", "Instant task"])
    worker = workers("v3_listening_worker.py", "--retries", "2", env=env)

    worker.wait_for(SET_ASIDE)
    assert worker.stop().code == 0

    assert tries(worker.output, 1) == ["", "try 2 of 3", "try 3 of 3"]
    assert done_rows(worker.output) == [2]  # work went on: each retry went to the back
    for number in (1, 2):
        assert f" [!] row 1 failed on try {number} of 3 (OverflowError(" in worker.output
        assert f"; back to the end of task_queue3 for try {number + 1}\n" in worker.output
    assert " [!] row 1 failed on try 3 of 3 (OverflowError(" in worker.output
    [(body, properties)] = vhost.take_all("task_queue3.dead-letter")
    assert body == b"Failing task."
    assert properties.headers["x-failures"] == 3
    assert properties.headers["x-set-aside-reason"].startswith(
        "work failed on try 3 of 3: OverflowError("
    )
    assert (properties.headers["row"], properties.delivery_mode) == (1, 2)
    assert vhost.ready_count("task_queue3") == 0


def test_a_task_given_again_after_its_worker_was_killed_has_not_failed(vhost, workers, tmp_path):
    slow = script_env(vhost.url, log_dir=tmp_path, seconds_per_dot="0.1")
    send_rows(slow, tmp_path, ["A long task" + "." * 50])  # 5 s of work
    victim = workers("v3_listening_worker.py", "--name", "victim", env=slow)
    victim.wait_until(lambda output: tries(output, 1) == [""], "row 1 received")

    victim.kill()  # SIGKILL mid-task: the broker gives the task again, the same try
    failing = script_env(vhost.url, log_dir=tmp_path, seconds_per_dot=FAILING)
    rescuer = workers("v3_listening_worker.py", "--name", "rescuer", env=failing)
    rescuer.wait_for(SET_ASIDE)
    assert rescuer.stop().code == 0

    # its first failure was on the redelivery: it had one more try before it was set aside
    assert tries(rescuer.output, 1) == ["redelivered", "try 2 of 2"]
    [(_body, properties)] = vhost.take_all("task_queue3.dead-letter")
    assert properties.headers["x-failures"] == 2
    assert vhost.ready_count("task_queue3") == 0


def test_a_task_that_fails_once_then_succeeds_is_done_once_and_nothing_is_set_aside(
    vhost, workers, tmp_path
):
    failing = workers(
        "v3_listening_worker.py",
        "--name",
        "failing",
        env=script_env(vhost.url, log_dir=tmp_path, seconds_per_dot=FAILING),
    )
    failing.wait_for(READY_WORDS)
    failing.send(signal.SIGSTOP)  # paused, as by Ctrl+Z: the broker still hands it the task
    healthy_env = script_env(vhost.url, log_dir=tmp_path)
    send_rows(healthy_env, tmp_path, ["Flaky task."])
    wait_until(lambda: vhost.ready_count("task_queue3") == 0, "the paused worker to hold it")
    healthy = workers("v3_listening_worker.py", "--name", "healthy", env=healthy_env)
    healthy.wait_for(READY_WORDS)

    # the failing worker holds its task until the broker has the copy, so the copy goes to
    # the only worker free to take it
    failing.send(signal.SIGCONT)
    healthy.wait_for("Done")
    assert failing.stop().code == 0
    assert healthy.stop().code == 0

    assert tries(failing.output, 1) == [""]
    assert " [!] row 1 failed on try 1 of 2 (OverflowError(" in failing.output
    assert tries(healthy.output, 1) == ["try 2 of 2"]
    assert done_rows(failing.output + healthy.output) == [1]
    assert vhost.ready_count("task_queue3.dead-letter", missing_ok=True) == 0
    assert vhost.ready_count("task_queue3") == 0
