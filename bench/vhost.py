"""A virtual host of the benchmark's own, created and deleted through the management API.

Nothing here touches the default vhost: every queue the benchmarks use lives in the
vhost, and deleting the vhost deletes them all.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator

import pika

from tests.support import (  # noqa: F401 - API and api re-exported
    API,
    api,
    create_vhost,
    delete_vhost,
    quoted,
)

AMQP = "amqp://guest:guest@127.0.0.1:5672"


class Vhost:
    """One vhost on the local broker: its AMQP URL, and exact queue inspection."""

    def __init__(self, prefix: str = "bench") -> None:
        self.name = f"{prefix}-{uuid.uuid4().hex[:10]}"
        self.url = f"{AMQP}/{quoted(self.name)}"

    def create(self) -> None:
        create_vhost(self.name)

    def delete(self) -> None:
        delete_vhost(self.name)

    def connection(self) -> pika.BlockingConnection:
        return pika.BlockingConnection(pika.URLParameters(self.url))

    def ready_count(self, queue: str) -> int:
        """Messages ready in a queue, exactly (a passive declare); 0 if there is no queue."""
        with self.connection() as connection:
            try:
                return connection.channel().queue_declare(queue, passive=True).method.message_count
            except pika.exceptions.ChannelClosedByBroker as error:
                if error.reply_code == 404:
                    return 0
                raise

    def wait_for_count(self, queue: str, count: int, timeout: float = 30) -> int:
        """Wait until a queue holds `count` ready messages; return the last count seen."""
        deadline = time.monotonic() + timeout
        seen = self.ready_count(queue)
        while seen != count and time.monotonic() < deadline:
            time.sleep(0.1)
            seen = self.ready_count(queue)
        return seen

    def delete_queue(self, queue: str) -> None:
        """Delete a queue and its messages, so that the next run starts from nothing."""
        with self.connection() as connection:
            connection.channel().queue_delete(queue)


@contextlib.contextmanager
def own_vhost(prefix: str = "bench") -> Iterator[Vhost]:
    """A fresh vhost for the duration of the block, deleted afterwards even on failure."""
    vhost = Vhost(prefix)
    vhost.create()
    try:
        yield vhost
    finally:
        vhost.delete()
