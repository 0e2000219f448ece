"""The course loop with its work on a thread: the least a worker that keeps heartbeats pays.

    RABBITMQ_URL=... python -m bench.threaded_course_worker [--queue Q] [--seconds-per-dot S]

The course loop (bench/course_worker.py), its two log records a task, with the one change
the v3 worker needs so that the broker's heartbeats are answered during long work: the
work runs on a thread of its own. Pika's I/O thread puts each delivery on a queue; one
work thread (as in the v3 worker) says Received and sleeps per dot, then hands the ack
back with add_callback_threadsafe, as in pika's examples/basic_consumer_threaded.py (which
starts a thread a delivery); the I/O thread acks and says Done. Nothing else: no retries,
no copies, no reconnection. A reference for the v3 worker's figures: the price of the two
hand-offs alone. SIGINT or SIGTERM stops it.
"""

from __future__ import annotations

import functools
import queue
import sys
import threading
import time

from bench.bare_worker import consume, make_argument_parser
from bench.course_worker import logger, setup_course_logger


def work_loop(per_dot: float, deliveries: queue.SimpleQueue) -> None:
    """On the work thread: Received, the sleep, then the ack and Done on the I/O thread."""
    while True:
        connection, channel, method, body = deliveries.get()
        logger.info(" [x] Received %s", body.decode())
        if per_dot:
            time.sleep(body.count(b".") * per_dot)
        connection.add_callback_threadsafe(functools.partial(ack, channel, method.delivery_tag))


def ack(channel, delivery_tag: int) -> None:
    """On pika's I/O thread: ack, then Done."""
    channel.basic_ack(delivery_tag=delivery_tag)
    logger.info(" [x] Done.")


def main(argv: list[str] | None = None) -> int:
    """Consume from the queue until SIGINT or SIGTERM, working on a thread."""
    args = make_argument_parser().parse_args(argv)
    setup_course_logger()
    deliveries: queue.SimpleQueue = queue.SimpleQueue()
    work = functools.partial(work_loop, args.seconds_per_dot, deliveries)
    threading.Thread(target=work, name="work", daemon=True).start()

    def hand_over(channel, method, _properties, body: bytes) -> None:
        deliveries.put((channel.connection, channel, method, body))

    return consume(args.queue, hand_over, logger.info)


if __name__ == "__main__":
    sys.exit(main())
