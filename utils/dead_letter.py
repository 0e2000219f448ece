"""The dead-letter queue: where a worker sets aside, confirmed, the tasks it cannot process."""

from __future__ import annotations

import pika
import pika.exceptions

from utils.queues import PERSISTENT, use_queue_as_it_is


def dead_letter_queue(queue: str) -> str:
    """The name of the queue where a worker sets aside messages it cannot process."""
    return f"{queue}.dead-letter"


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
    headers.update({"x-set-aside-reason": reason, "x-original-queue": queue})
    return headers


def persistent_copy(properties, headers: dict) -> pika.BasicProperties:
    """The properties of a message's copy: persistent, with `headers` and the same message id."""
    return pika.BasicProperties(
        delivery_mode=PERSISTENT, headers=headers, message_id=properties.message_id
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
