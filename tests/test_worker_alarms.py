"""While a resource alarm blocks publishing, a copy of a task (a set-aside, a retry) waits,
and the v3 worker with it: it says so, naming the alarm, takes no new task, and carries on
once the alarm clears; the task is acked once the broker has its copy. On a throwaway node
(the disk_alarm fixture, tests/conftest.py): the broker on 5672 never sees the alarm.
"""

from __future__ import annotations

import signal
import uuid

import pika
import pytest

from harness.children import script_env, wait_until

pytestmark = pytest.mark.broker

POISON = b"\xff\xfe not UTF-8"
TASKS = [POISON, b"first.", b"second.", b"third."]


def counts(scratch_broker, queue: str) -> tuple[int, int]:
    """A queue's (ready, unacked) messages, exactly, as the scratch broker counts them."""
    listed = scratch_broker.rabbitmqctl(
        "list_queues", "name", "messages_ready", "messages_unacknowledged", "--no-table-headers"
    )
    for line in listed.splitlines():
        name, ready, unacked = line.split()
        if name == queue:
            return int(ready), int(unacked)
    return 0, 0  # not declared yet


@pytest.fixture
def queued_then_blocked(scratch_broker, request) -> str:
    """A queue holding TASKS, then a disk alarm (no one could publish them after it)."""
    queue = f"alarm-{uuid.uuid4().hex[:8]}"
    with pika.BlockingConnection(pika.URLParameters(scratch_broker.url)) as connection:
        channel = connection.channel()
        channel.queue_declare(queue, durable=True)
        channel.confirm_delivery()
        for body in TASKS:
            channel.basic_publish("", queue, body, pika.BasicProperties(delivery_mode=2))
    request.getfixturevalue("disk_alarm")
    return queue


def test_a_copy_waits_for_a_blocked_publisher_and_so_does_the_worker(
    scratch_broker, queued_then_blocked, disk_alarm, workers, tmp_path
):
    queue, dead_letter = queued_then_blocked, f"{queued_then_blocked}.dead-letter"
    env = script_env(scratch_broker.url, log_dir=tmp_path, seconds_per_dot="0")
    worker = workers("v3_listening_worker.py", "--queue", queue, "--name", "w", env=env)

    # the poison message came first: its copy waits, and the worker takes no other task
    worker.wait_for("RabbitMQ is blocking publishers (low on disk): ")
    worker.wait_for(
        " [!] worker w holds a task until RabbitMQ takes its copy; no new task meanwhile"
    )
    assert counts(scratch_broker, queue) == (3, 1)
    assert "Received" not in worker.output

    disk_alarm.clear()
    worker.wait_for("Done", count=3)
    wait_until(lambda: counts(scratch_broker, queue) == (0, 0), "every task acked")
    assert worker.stop().code == 0

    assert "RabbitMQ unblocked publishers after" in worker.output
    assert counts(scratch_broker, dead_letter) == (1, 0)
    with pika.BlockingConnection(pika.URLParameters(scratch_broker.url)) as connection:
        method, properties, body = connection.channel().basic_get(dead_letter, auto_ack=True)
    assert (body, properties.headers["x-set-aside-reason"]) == (POISON, "body is not UTF-8")
    assert "Traceback" not in worker.output


def test_ctrl_c_while_a_copy_waits_says_what_the_stop_waits_for(
    scratch_broker, queued_then_blocked, disk_alarm, workers, tmp_path
):
    queue = queued_then_blocked
    env = script_env(scratch_broker.url, log_dir=tmp_path, seconds_per_dot="0")
    worker = workers("v3_listening_worker.py", "--queue", queue, "--name", "w", env=env)
    worker.wait_for(" [!] worker w holds a task until RabbitMQ takes its copy")

    worker.send(signal.SIGINT)  # the copy still waits: the line comes now, not at the clear
    worker.wait_for(
        " [*] worker w interrupted (Ctrl+C): stopping once RabbitMQ takes row ?'s copy "
        f"(it blocks publishers); Ctrl+C again to stop now (the task goes back to {queue})"
    )
    assert worker.running()

    disk_alarm.clear()
    assert worker.wait(timeout=30).code == 0
    assert "Received" not in worker.output  # no new task after the stop
    assert counts(scratch_broker, queue) == (3, 0)
    assert counts(scratch_broker, f"{queue}.dead-letter") == (1, 0)
    assert "Traceback" not in worker.output
