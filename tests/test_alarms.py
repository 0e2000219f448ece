"""A disk alarm blocks publishers: the v1 and v2 emitters say so, wait, and carry on or give up;
a v3 emitter that reconnects while blocked says so for its new connection alone.

The alarm (the disk_alarm fixture, in conftest.py) is raised on a throwaway node of the
tests' own (scripts/local_broker.sh): the broker on 5672 never sees it. The v3 emitter's
other tests of it are in test_emitter_faults.py.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from types import SimpleNamespace

import pika.exceptions
import pytest
from pika.adapters.select_connection import IOLoop

from harness.broker import ready_count
from harness.children import Child, script_env, wait_until
from utils import alarms
from utils.broker_errors import broker_error

BLOCKED = "RabbitMQ is blocking publishers (low on disk): "
QUEUE_OF = {"v1": "task_queue", "v2": "task_queue2"}


def start_emitter(script: str, url: str, log_dir: Path) -> Child:
    env = script_env(url, log_dir=log_dir)
    return Child(script, env=env, out_path=log_dir / f"{script}.out")


@pytest.mark.broker
@pytest.mark.parametrize("version", ["v1", "v2"])
def test_a_blocked_emitter_says_why_then_carries_on_when_the_alarm_clears(
    scratch_broker, tmp_path, disk_alarm, version
):
    queue = QUEUE_OF[version]
    before = ready_count(scratch_broker.url, queue, missing_ok=True)
    emitter = start_emitter(f"{version}_emitter_of_tasks.py", scratch_broker.url, tmp_path)
    try:
        emitter.wait_for(BLOCKED, timeout=10)
        assert "free disk space on the broker's machine" in emitter.output
        assert "Sent" not in emitter.output  # not before the broker has taken the task
        assert emitter.running()  # still waiting, not failed
        disk_alarm.clear()
        assert emitter.wait(timeout=30).code == 0, emitter.output
    finally:
        emitter.kill()
    assert "RabbitMQ unblocked publishers after" in emitter.output
    assert "[x] Sent" in emitter.output
    assert ready_count(scratch_broker.url, queue) == before + 1


@pytest.mark.broker
@pytest.mark.parametrize("version", ["v1", "v2"])
def test_a_blocked_emitter_gives_up_after_the_urls_blocked_connection_timeout(
    scratch_broker, tmp_path, disk_alarm, version
):
    script = f"{version}_emitter_of_tasks.py"
    url = scratch_broker.url + "?blocked_connection_timeout=3"
    emitter = start_emitter(script, url, tmp_path)
    try:
        code = emitter.wait(timeout=30).code
    finally:
        emitter.kill()
    output = emitter.output
    assert code == 1, output
    assert BLOCKED in output
    assert "Sent" not in output
    last = output.strip().splitlines()[-1]
    assert last == (
        f"{script[:-3]}: error: blocked by RabbitMQ (low on disk) for 3 s, longer than the "
        "URL's blocked_connection_timeout: gave up; the broker's free disk space is below "
        "its disk_free_limit: free disk space on the broker's machine"
    )


# --- a reconnected emitter: its old connection's watch falls silent --------------------------

RECONNECTED = " [*] reconnected to "
STILL = re.compile(r"RabbitMQ is blocking publishers \(low on disk\)(?:, still, after (\d+) s)?: ")


def blocked_for(output: str) -> list[int]:
    """The seconds each blocked line says its connection has been blocked (0: just now)."""
    return [int(found[1] or 0) for found in STILL.finditer(output)]


def one_watch_said(seconds: list[int]) -> bool:
    """Whether blocked lines are one watch's: 0 s, then one more second each time."""
    return seconds == list(range(len(seconds)))


@pytest.mark.broker
def test_a_reconnected_emitters_old_watch_falls_silent_and_its_new_one_says_blocked(
    scratch_broker, tmp_path, disk_alarm
):
    """The v3 emitter reconnects on one I/O loop, where the old connection's timers still
    run: only the new connection's watch may go on saying that it is blocked."""
    env = script_env(scratch_broker.url, log_dir=tmp_path, REPEAT_EVERY="1")
    emitter = Child("-m", "tests.emitter_hooks", env=env, out_path=tmp_path / "emitter.out")

    def since_reconnected() -> str:
        return emitter.output.partition(RECONNECTED)[2]

    try:
        emitter.wait_until(lambda output: 4 in blocked_for(output), "blocked 4 s", timeout=30)
        scratch_broker.rabbitmqctl("close_all_connections", "a test cuts the connection")
        emitter.wait_for(RECONNECTED, timeout=30)
        # blocked again as it publishes again; by the new watch's 2 s, the old one, were it
        # still running, would have said 5 s or more
        wait_until(lambda: 2 in blocked_for(since_reconnected()), "blocked 2 s anew", 30)
        while_blocked = blocked_for(since_reconnected())
        disk_alarm.clear()
        assert emitter.wait(timeout=60).code == 0, emitter.output
    finally:
        emitter.kill()
    before = blocked_for(emitter.output.partition(RECONNECTED)[0])
    assert one_watch_said(before) and len(before) >= 5, emitter.output  # once a second
    assert one_watch_said(while_blocked), emitter.output  # the new watch's lines alone
    blocked, _, unblocked = since_reconnected().partition(" [*] RabbitMQ unblocked publishers")
    assert one_watch_said(blocked_for(blocked)) and not blocked_for(unblocked), emitter.output
    assert "18 confirmed by the broker" in emitter.output


# --- the watch's words, on pika's I/O loop without a broker ------------------------------


class UnopenedConnection:
    """What BlockedPublishing uses of a SelectConnection: its callbacks, I/O loop, is_closed."""

    def __init__(self) -> None:
        self.ioloop = IOLoop()
        self.is_closed = False
        self.blocked = self.unblocked = None

    def add_on_connection_blocked_callback(self, callback) -> None:
        self.blocked = callback

    def add_on_connection_unblocked_callback(self, callback) -> None:
        self.unblocked = callback


def blocked_frame(reason: str) -> SimpleNamespace:
    return SimpleNamespace(method=SimpleNamespace(reason=reason))


def test_giving_up_names_the_setting_that_bounded_the_wait():
    connection = UnopenedConnection()
    watch = alarms.BlockedPublishing(
        connection, logging.getLogger("test_alarms"), "--blocked-timeout"
    )
    connection.blocked(connection, blocked_frame("low on memory"))
    assert str(watch.gave_up()).startswith(
        "blocked by RabbitMQ (low on memory) for 0 s, longer than --blocked-timeout: gave up; "
        "the broker uses more memory than its high watermark"
    )


def test_broker_error_names_the_alarm_of_the_watch_it_is_handed():
    """Each connection's own watch explains its timeout: a script that reconnected hands the
    newest one, and a watch of an earlier connection says nothing about this one."""
    earlier, current = UnopenedConnection(), UnopenedConnection()
    logger = logging.getLogger("test_alarms")
    alarms.say_when_blocked(earlier, logger)
    earlier.blocked(earlier, blocked_frame("low on memory"))
    watch = alarms.say_when_blocked(current, logger, "--blocked-timeout")
    current.blocked(current, blocked_frame("low on disk"))
    timeout = pika.exceptions.ConnectionBlockedTimeout()

    assert str(broker_error(timeout, watch)).startswith(
        "blocked by RabbitMQ (low on disk) for 0 s, longer than --blocked-timeout: gave up; "
        "the broker's free disk space is below its disk_free_limit"
    )
    assert str(broker_error(timeout)) == (
        "blocked by RabbitMQ longer than the URL's blocked_connection_timeout"
    )
