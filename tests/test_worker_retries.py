"""The v3 worker with its work put in as a user puts theirs (main(work=...), tests/work_hooks.py):
a task whose work raises is retried --retries times, counting failures only (a crash is
none), then set aside with the count and the error; a retry that succeeds is done once."""

from __future__ import annotations

import uuid

import pytest

from harness.children import run_script, script_env
from utils.console_lines import done_rows, parse_all_received

pytestmark = pytest.mark.broker

SET_ASIDE = "set aside in task_queue3.dead-letter"
HOOKED = ("-m", "tests.work_hooks")  # then the work's name, then the worker's options


def send_rows(env: dict[str, str], tmp_path, tasks: list[str]) -> None:
    """Send tasks as rows 1, 2, ... with the v3 emitter, each confirmed by the broker."""
    csv_file = tmp_path / f"tasks-{uuid.uuid4().hex[:6]}.csv"
    csv_file.write_text("".join(task + "\n" for task in tasks))
    sent = run_script("v3_emitter_of_tasks.py", str(csv_file), env=env)
    assert sent.returncode == 0, sent.stderr


def tries(output: str, row: int) -> list[str]:
    """The notes of a row's Received lines, in order."""
    return [task.note for task in parse_all_received(output) if task.row == row]


def test_with_retries_2_a_task_whose_work_fails_is_tried_3_times_then_set_aside(
    vhost, workers, tmp_path
):
    env = script_env(vhost.url, log_dir=tmp_path, seconds_per_dot="0")
    send_rows(env, tmp_path, ["Failing task.", "Instant task"])
    worker = workers(*HOOKED, "failing", "--retries", "2", env=env)

    worker.wait_for(SET_ASIDE)
    assert worker.stop().code == 0

    assert tries(worker.output, 1) == ["", "try 2 of 3", "try 3 of 3"]
    assert done_rows(worker.output) == [2]  # work went on: each retry went to the back
    error = "RuntimeError(\"cannot do 'Failing task.'\")"
    for number in (1, 2):
        assert (
            f" [!] row 1 failed on try {number} of 3 ({error}); back to the end of task_queue3 "
            f"for try {number + 1}\n"
        ) in worker.output
    assert f" [!] row 1 failed on try 3 of 3 ({error}); {SET_ASIDE}\n" in worker.output
    [(body, properties)] = vhost.take_all("task_queue3.dead-letter")
    assert body == b"Failing task."
    assert properties.headers["x-failures"] == 3
    assert properties.headers["x-set-aside-reason"] == f"work failed on try 3 of 3: {error}"
    assert (properties.headers["row"], properties.delivery_mode) == (1, 2)
    assert vhost.ready_count("task_queue3") == 0
    assert f" [*] worker {worker.pid} did 1 task: row 2\n" in worker.output  # named by its pid


def test_a_task_given_again_after_its_worker_was_killed_has_not_failed(vhost, workers, tmp_path):
    env = script_env(vhost.url, log_dir=tmp_path, seconds_per_dot="0.1")
    send_rows(env, tmp_path, ["A long task to fail" + "." * 50])  # 5 s of work
    victim = workers("v3_listening_worker.py", "--name", "victim", env=env)
    victim.wait_until(lambda output: tries(output, 1) == [""], "row 1 received")

    victim.kill()  # SIGKILL mid-work: the broker gives the task again, the same try
    rescuer = workers(*HOOKED, "failing", "--name", "rescuer", env=env)
    rescuer.wait_for(SET_ASIDE)
    assert rescuer.stop().code == 0

    # its first failure was on the redelivery: it had one more try before it was set aside
    assert tries(rescuer.output, 1) == ["redelivered", "try 2 of 2"]
    [(_body, properties)] = vhost.take_all("task_queue3.dead-letter")
    assert properties.headers["x-failures"] == 2
    assert vhost.ready_count("task_queue3") == 0


def test_a_task_whose_work_fails_once_then_succeeds_is_done_once_and_not_set_aside(
    vhost, workers, tmp_path
):
    env = script_env(vhost.url, log_dir=tmp_path, seconds_per_dot="0.01")
    send_rows(env, tmp_path, ["Flaky task."])
    worker = workers(*HOOKED, "flaky", env=env)

    worker.wait_for("Done")
    assert worker.stop().code == 0

    assert tries(worker.output, 1) == ["", "try 2 of 2"]
    assert " [!] row 1 failed on try 1 of 2 (RuntimeError(" in worker.output
    assert done_rows(worker.output) == [1]
    assert vhost.ready_count("task_queue3.dead-letter", missing_ok=True) == 0
    assert vhost.ready_count("task_queue3") == 0


def test_the_default_work_succeeds_and_says_received_then_done(vhost, workers, tmp_path):
    env = script_env(vhost.url, log_dir=tmp_path, seconds_per_dot="0.01")
    send_rows(env, tmp_path, ["First task.", "Second task.."])
    worker = workers(*HOOKED, "failing", env=env)  # "failing" does any other task as work() does

    worker.wait_for("Done", count=2)
    assert worker.stop().code == 0

    assert [task.row for task in parse_all_received(worker.output)] == [1, 2]
    assert done_rows(worker.output) == [1, 2]
    assert "[!]" not in worker.output
    assert "did 2 tasks: rows 1-2\n" in worker.output
