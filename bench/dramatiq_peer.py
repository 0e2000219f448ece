"""Dramatiq, a peer of the v3 scripts: its worker draining no-op tasks, its `send` publishing.

    RABBITMQ_URL=... python -m dramatiq bench.dramatiq_peer --processes 1 --threads 1
    RABBITMQ_URL=... python -m bench.dramatiq_peer fill N      # N no-op tasks, no confirms
    RABBITMQ_URL=... python -m bench.dramatiq_peer send CSV    # a task a row, confirmed

Dramatiq's worker has the v3 worker's design: a consumer thread owns pika's connection and
hands each message to a worker thread, which hands the ack back with
add_callback_threadsafe. Run with one process, one thread and `dramatiq_queue_prefetch=1`
in the environment (its default is two messages a thread), it does what the v3 worker does
with prefetch 1. The actor says Received through the course's logger (bench/course_worker.py:
a file and the console) and a middleware says Done once the ack is handed back: the same two
records a task as the v3 worker. Messages are Dramatiq's own (JSON, its actor's name), in its
own queue `default`. `send` runs with publisher confirms on (`confirm_delivery=True`): each
`send` returns once the broker has confirmed its message.
"""

from __future__ import annotations

import os
import sys

import dramatiq
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.middleware import Middleware

from bench import peer_client
from bench.course_worker import logger, setup_course_logger


class SayDone(Middleware):
    """The Done line, once the worker thread has handed the ack to the consumer thread."""

    def after_ack(self, broker, message) -> None:
        logger.info(" [x] Done.")


broker = RabbitmqBroker(url=os.environ["RABBITMQ_URL"], confirm_delivery=True)
broker.add_middleware(SayDone())
dramatiq.set_broker(broker)


@dramatiq.actor(max_retries=0)
def noop(text: str) -> None:
    """A no-op task that says it was received, as the v3 worker's zero-dot task does."""
    logger.info(" [x] Received %s", text)


def unconfirmed() -> None:
    """Publish without confirms, to fill the queue fast (not measured)."""
    broker.confirm_delivery = False  # read when the channel is opened: before the first send


setup_course_logger()  # in the worker's processes too, which import this module

if __name__ == "__main__":
    sys.exit(peer_client.main(None, "Dramatiq", noop.send, unconfirmed, broker.close))
