"""The tutorial's worker, without its sleep or with a short one: the limit of a pika consumer.

    RABBITMQ_URL=... python -m bench.bare_worker [--queue Q] [--seconds-per-dot S]

It prints the tutorial's two lines per task (flushed, as on a terminal) and acks in its
callback, on pika's own thread. With --seconds-per-dot S it sleeps S seconds per '.' of a
task in that callback, as the tutorial's worker does (it sleeps one second per dot): the
baseline of a v3 worker whose work goes to its work thread. SIGINT or SIGTERM stops it,
exit status 0.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import signal
import sys
import time

import pika

QUEUE = "task_queue3"


def callback(per_dot: float, channel, method, _properties, body: bytes) -> None:
    """The tutorial's callback: print, sleep per_dot seconds a dot (if any), ack, print.

    It acks before printing "Done" (the tutorial prints first), as the v3 worker does, so
    that a "Done" line always means an acked task.
    """
    print(f" [x] Received {body.decode()}", flush=True)
    if per_dot:  # no sleep(0) at all: the zero-work figure measures pika alone
        time.sleep(body.count(b".") * per_dot)
    channel.basic_ack(delivery_tag=method.delivery_tag)
    print(" [x] Done", flush=True)


def non_negative_seconds(text: str) -> float:
    """argparse type for --seconds-per-dot: a number of seconds, 0 or more."""
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more (got {text!r})")
    return value


def make_argument_parser() -> argparse.ArgumentParser:
    """The command line: the queue, and the work per dot."""
    parser = argparse.ArgumentParser(description="The tutorial's worker, sleeping little or not.")
    parser.add_argument("--queue", default=QUEUE)
    parser.add_argument(
        "--seconds-per-dot",
        type=non_negative_seconds,
        default=0.0,
        help="seconds of sleep per '.' of a task, in the callback (default 0: no sleep)",
    )
    return parser


def consume(queue: str, on_message, say) -> int:
    """Consume from the queue at prefetch 1 until SIGINT or SIGTERM; say() the ready line."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.default_int_handler)
    connection = pika.BlockingConnection(pika.URLParameters(os.environ["RABBITMQ_URL"]))
    channel = connection.channel()
    channel.queue_declare(queue=queue, durable=True)
    channel.basic_qos(prefetch_count=1)
    channel.basic_consume(queue=queue, on_message_callback=on_message)
    say(" [*] Waiting for messages. To exit press CTRL+C")
    try:
        channel.start_consuming()
    except KeyboardInterrupt:
        with contextlib.suppress(pika.exceptions.AMQPError, OSError):  # closing anyway
            connection.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    """Consume from the queue until SIGINT or SIGTERM."""
    args = make_argument_parser().parse_args(argv)
    on_message = functools.partial(callback, args.seconds_per_dot)
    return consume(args.queue, on_message, functools.partial(print, flush=True))


if __name__ == "__main__":
    sys.exit(main())
