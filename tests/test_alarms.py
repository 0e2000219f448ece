"""A disk alarm blocks publishers: every emitter says so, waits, and carries on or gives up.

The alarm is raised on the local broker with `rabbitmqctl set_disk_free_limit` above the
free disk space; the original limit is always restored. It blocks every publisher of the
broker, so these tests run last, one at a time (see conftest.py).
"""

from __future__ import annotations

import subprocess

import pytest

from tests.support import rabbitmqctl, script_env, start_script, wait_until

pytestmark = [pytest.mark.broker, pytest.mark.alarm]

BLOCKED = "RabbitMQ is blocking publishers (low on disk)"


def disk_free_limit() -> str:
    """The broker's disk_free_limit now, in bytes."""
    return rabbitmqctl("eval", "rabbit_disk_monitor:get_disk_free_limit().").strip()


def disk_alarm_on() -> bool:
    return "disk" in rabbitmqctl("eval", "rabbit_alarm:get_alarms().")


@pytest.fixture
def disk_alarm():
    """A disk alarm for the duration of the test; `clear()` ends it early."""
    original = disk_free_limit()

    class Alarm:
        def clear(self) -> None:
            rabbitmqctl("set_disk_free_limit", original)
            wait_until(lambda: not disk_alarm_on(), timeout=30, what="the disk alarm to clear")

    alarm = Alarm()
    try:
        rabbitmqctl("set_disk_free_limit", "100000GB")  # far above any free space
        wait_until(disk_alarm_on, timeout=30, what="the disk alarm")
        yield alarm
    finally:
        alarm.clear()


def start_emitter(script: str, url: str, log_dir) -> subprocess.Popen:
    return start_script(
        script,
        env=script_env(url, log_dir=log_dir),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def read_until(process: subprocess.Popen, text: str) -> str:
    """The process's output up to and including the first line containing `text`."""
    seen = ""
    assert process.stdout is not None
    for line in process.stdout:
        seen += line
        if text in line:
            return seen
    raise AssertionError(f"{text!r} never came; the output was:\n{seen}")


@pytest.mark.parametrize("script", ["v1_emitter_of_tasks.py", "v2_emitter_of_tasks.py"])
def test_a_blocked_emitter_says_why_then_carries_on_when_the_alarm_clears(
    vhost, tmp_path, disk_alarm, script
):
    emitter = start_emitter(script, vhost.url, tmp_path)
    try:
        said = read_until(emitter, BLOCKED)
        assert "free disk space on the broker's machine" in said
        assert emitter.poll() is None  # still waiting, not failed
        disk_alarm.clear()
        rest, _ = emitter.communicate(timeout=30)
    finally:
        emitter.kill()
    assert emitter.returncode == 0, said + rest
    assert "RabbitMQ unblocked publishers after" in rest
    assert vhost.ready_count({"v1": "task_queue", "v2": "task_queue2"}[script[:2]]) == 1


@pytest.mark.parametrize("script", ["v1_emitter_of_tasks.py", "v2_emitter_of_tasks.py"])
def test_a_blocked_emitter_gives_up_after_the_urls_blocked_connection_timeout(
    vhost, tmp_path, disk_alarm, script
):
    emitter = start_emitter(script, vhost.url + "?blocked_connection_timeout=3", tmp_path)
    try:
        output, _ = emitter.communicate(timeout=30)
    finally:
        emitter.kill()
    assert emitter.returncode == 1, output
    assert BLOCKED in output
    last = output.strip().splitlines()[-1]
    assert last.startswith(f"{script[:-3]}: error: blocked by RabbitMQ (low on disk) for 3 s")
    assert "gave up; the broker's free disk space is below its disk_free_limit" in last
    assert "Traceback" not in output
