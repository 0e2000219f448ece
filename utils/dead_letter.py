"""The dead-letter queue: where a worker sets aside, confirmed, the tasks it cannot process."""

from __future__ import annotations

import time

import pika
import pika.exceptions

from utils.errors import SettingsError
from utils.queues import PERSISTENT, use_queue_as_it_is

DEAD_LETTER = ".dead-letter"  # the end of a dead-letter queue's name
# The headers a worker adds to a task's copy, and tools.dead_letters takes off to put it back
FAILURES = "x-failures"  # how many times its work failed (a retry's copy, a set-aside one)
SET_ASIDE_REASON = "x-set-aside-reason"  # why it was set aside
ORIGINAL_QUEUE = "x-original-queue"  # the queue it was set aside from


def dead_letter_queue(queue: str) -> str:
    """The name of the queue where a worker sets aside messages it cannot process."""
    return f"{queue}{DEAD_LETTER}"


def not_a_dead_letter_queue(queue: str) -> str:
    """`queue`, for a worker to take tasks from: a SettingsError if it is a dead-letter queue
    (a worker would set aside its failures in <queue>.dead-letter.dead-letter)."""
    if queue.endswith(DEAD_LETTER):
        work_queue = queue.removesuffix(DEAD_LETTER)
        raise SettingsError(
            f"{queue} holds the tasks set aside from {work_queue}, for people, not workers: to "
            f"see them, python -m tools.dead_letters --queue {work_queue}; to put them back, "
            "add --requeue"
        )
    return queue


def side_channel(connection, queue: str):
    """A confirm-mode channel of `connection`, once <queue>.dead-letter is there, ours or not."""
    side = connection.channel()
    try:
        side.queue_declare(queue=dead_letter_queue(queue), durable=True)
    except pika.exceptions.ChannelClosedByBroker as refused:
        side = use_queue_as_it_is(connection, dead_letter_queue(queue), refused)
    side.confirm_delivery()
    return side


def set_aside_headers(properties, queue: str, reason: str) -> dict:
    """A set-aside message's headers: its own, why it was set aside, and where it came from."""
    headers = dict(properties.headers or {})
    headers.update({SET_ASIDE_REASON: reason, ORIGINAL_QUEUE: queue})
    return headers


def put_back_headers(properties) -> dict:
    """A set-aside task's headers as it goes back to work: its own, without the ones a worker
    added (its failures among them: it gets every try again)."""
    added = (FAILURES, SET_ASIDE_REASON, ORIGINAL_QUEUE)
    return {key: value for key, value in (properties.headers or {}).items() if key not in added}


def persistent_copy(properties, headers: dict) -> pika.BasicProperties:
    """The properties of a message's copy: persistent, with `headers` and the same message id,
    stamped with the time it is copied (for a set-aside one: when it was set aside)."""
    return pika.BasicProperties(
        delivery_mode=PERSISTENT,
        headers=headers,
        message_id=properties.message_id,
        timestamp=int(time.time()),
    )


def set_aside(channel, queue: str, method, properties, body: bytes, reason: str) -> None:
    """Move a message that cannot be processed to <queue>.dead-letter, then ack it.

    The copy is published on a channel with publisher confirms and the original is acked
    only once the broker has confirmed the copy, so the message is never lost and never
    redelivered to loop forever.
    """
    side = side_channel(channel.connection, queue)
    side.basic_publish(
        exchange="",
        routing_key=dead_letter_queue(queue),
        body=body,
        properties=persistent_copy(properties, set_aside_headers(properties, queue, reason)),
    )
    side.close()
    channel.basic_ack(delivery_tag=method.delivery_tag)
