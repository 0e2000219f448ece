"""A disk alarm blocks publishers: the v1 and v2 emitters say so, wait, and carry on or give up.

The alarm (the disk_alarm fixture, in conftest.py) is raised on a throwaway node of the
tests' own (scripts/local_broker.sh): the broker on 5672 never sees it. The v3 emitter's own
tests are in test_emitter_faults.py.
"""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace

import pika.exceptions
import pytest
from pika.adapters.select_connection import IOLoop

from tests.support import Child, ready_count, script_env
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


# --- the watch itself, on pika's I/O loop without a broker ----------------------------------


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

    def run_for(self, seconds: float) -> None:
        self.ioloop.call_later(seconds, self.ioloop.stop)
        self.ioloop.start()


def blocked_frame(reason: str) -> SimpleNamespace:
    return SimpleNamespace(method=SimpleNamespace(reason=reason))


def test_the_blocked_line_repeats_until_its_connection_is_gone(monkeypatch, caplog):
    """A script that reconnects shares one I/O loop: a dead connection's watch falls silent."""
    monkeypatch.setattr(alarms, "REPEAT_EVERY", 0.05)
    connection = UnopenedConnection()
    alarms.BlockedPublishing(connection, logging.getLogger("test_alarms"))
    with caplog.at_level(logging.WARNING, logger="test_alarms"):
        connection.blocked(connection, blocked_frame("low on disk"))
        connection.run_for(0.22)
        said = len(caplog.records)
        connection.is_closed = True
        connection.run_for(0.22)
    assert said >= 3
    assert len(caplog.records) == said
    assert all(BLOCKED in record.getMessage() for record in caplog.records)


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
