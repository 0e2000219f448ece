"""The v3 worker against work it did not write (tests/work_hooks.py): whatever the work raises,
BaseException included, fails that task only; a work thread that dies anyway ends the worker
with its task given back; work that runs long past its expected time is said."""

from __future__ import annotations

import re
import signal

import pytest

from harness.children import script_env
from tests.test_worker_retries import send_rows, tries
from utils.console_lines import done_rows

pytestmark = pytest.mark.broker

HOOKED = ("-m", "tests.work_hooks")  # then the work's name, then the worker's options
SET_ASIDE = "set aside in task_queue3.dead-letter"


@pytest.mark.parametrize(
    ("hook", "error"),
    [
        ("exits", "SystemExit(3)"),
        ("interrupts", "KeyboardInterrupt()"),
        ("generator_exit", "GeneratorExit()"),
    ],
)
def test_work_that_exits_or_interrupts_fails_its_task_and_the_worker_goes_on(
    vhost, workers, tmp_path, hook, error
):
    env = script_env(vhost.url, log_dir=tmp_path, seconds_per_dot="0")
    send_rows(env, tmp_path, ["Failing task", "Next task."])
    worker = workers(*HOOKED, hook, "--name", "w", env=env)

    worker.wait_for(SET_ASIDE)
    worker.wait_for("Done")
    assert worker.stop().code == 0

    assert tries(worker.output, 1) == ["", "try 2 of 2"]
    assert f" [!] row 1 failed on try 2 of 2 ({error}); {SET_ASIDE}\n" in worker.output
    assert done_rows(worker.output) == [2]  # the same worker, the next task
    [(body, properties)] = vhost.take_all("task_queue3.dead-letter")
    assert body == b"Failing task"
    assert properties.headers["x-set-aside-reason"] == f"work failed on try 2 of 2: {error}"
    assert vhost.ready_count("task_queue3") == 0
    assert "Traceback" not in worker.output


def test_a_work_thread_that_dies_anyway_ends_the_worker_and_gives_its_task_back(
    vhost, workers, tmp_path
):
    env = script_env(vhost.url, log_dir=tmp_path, seconds_per_dot="0")
    send_rows(env, tmp_path, ["First task", "Second task"])
    worker = workers(*HOOKED, "breaks_the_worker", "--name", "w", env=env)

    assert worker.wait(timeout=30).code == 1
    assert done_rows(worker.output) == [1]
    [line] = worker.lines("work thread died")
    assert line.endswith(
        "worker w: its work thread died (RuntimeError('the work thread is broken')); row 2 "
        "went back to task_queue3; it cannot go on"
    )
    assert vhost.ready_count("task_queue3") == 1  # row 2, given back
    assert "Traceback" not in worker.output


def test_work_past_its_expected_time_is_said_and_so_is_a_stop_during_it(vhost, workers, tmp_path):
    env = script_env(
        vhost.url, log_dir=tmp_path, seconds_per_dot="0.5", WORK_GATE=str(tmp_path / "gate")
    )
    send_rows(env, tmp_path, ["Long task.."])  # expected: 1 s
    worker = workers(*HOOKED, "gated", "--name", "w", env=env)

    worker.wait_for("still working after", timeout=75)  # a minute past its expected second
    [line] = worker.lines("still working")
    late = re.search(r"\[!\] worker w: row 1 still working after (\d+) s \(expected 1 s\)$", line)
    assert late and 61 <= int(late[1]) <= 62, line

    worker.send(signal.SIGINT)
    worker.wait_for("stopping after row 1")
    (tmp_path / "gate").touch()
    assert worker.wait(timeout=30).code == 0
    [stopping] = worker.lines("stopping after")
    assert re.search(
        r"worker w interrupted \(Ctrl\+C\): stopping after row 1, whose work has run 6\d s, "
        r"past its expected 1 s; Ctrl\+C again to stop now$",
        stopping,
    ), stopping
    assert done_rows(worker.output) == [1]
    assert vhost.ready_count("task_queue3") == 0
