"""A disk alarm blocks publishers: every emitter says so, waits, and carries on or gives up.

The alarm is raised with `rabbitmqctl set_disk_free_limit` above the free disk space, on a
throwaway node of the tests' own (scripts/local_broker.sh): the broker on 5672 never sees
it. The original limit is always restored.
"""

from __future__ import annotations

from pathlib import Path

import pika
import pika.exceptions
import pytest

from tests.support import Child, script_env

pytestmark = pytest.mark.broker

BLOCKED = "RabbitMQ is blocking publishers (low on disk): "
QUEUE_OF = {"v1": "task_queue", "v2": "task_queue2"}


def start_emitter(script: str, url: str, log_dir: Path) -> Child:
    env = script_env(url, log_dir=log_dir)
    return Child(script, env=env, out_path=log_dir / f"{script}.out")


def ready_count(url: str, queue: str) -> int:
    """Messages ready in a queue of the scratch broker; 0 if there is no such queue yet."""
    with pika.BlockingConnection(pika.URLParameters(url)) as connection:
        try:
            return connection.channel().queue_declare(queue, passive=True).method.message_count
        except pika.exceptions.ChannelClosedByBroker as error:
            if error.reply_code == 404:
                return 0
            raise


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_a_blocked_emitter_says_why_then_carries_on_when_the_alarm_clears(
    scratch_broker, tmp_path, disk_alarm, version
):
    queue = QUEUE_OF[version]
    before = ready_count(scratch_broker.url, queue)
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
