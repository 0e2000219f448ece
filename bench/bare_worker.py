"""The tutorial's worker without its sleep: the limit of a pika consumer at prefetch 1.

    RABBITMQ_URL=... python -m bench.bare_worker [--queue Q]

It prints the tutorial's two lines per task (flushed, as on a terminal) and acks in its
callback, on pika's own thread. SIGINT or SIGTERM stops it, exit status 0.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys

import pika

QUEUE = "task_queue3"


def callback(channel, method, _properties, body: bytes) -> None:
    """The tutorial's callback, minus time.sleep: print both lines and ack.

    It acks before printing "Done" (the tutorial prints first), as the v3 worker does, so
    that a "Done" line always means an acked task.
    """
    print(f" [x] Received {body.decode()}", flush=True)
    channel.basic_ack(delivery_tag=method.delivery_tag)
    print(" [x] Done", flush=True)


def main(argv: list[str] | None = None) -> int:
    """Consume from the queue until SIGINT or SIGTERM."""
    parser = argparse.ArgumentParser(description="The tutorial's worker, without the sleep.")
    parser.add_argument("--queue", default=QUEUE)
    queue = parser.parse_args(argv).queue
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.default_int_handler)
    connection = pika.BlockingConnection(pika.URLParameters(os.environ["RABBITMQ_URL"]))
    channel = connection.channel()
    channel.queue_declare(queue=queue, durable=True)
    channel.basic_qos(prefetch_count=1)
    channel.basic_consume(queue=queue, on_message_callback=callback)
    print(" [*] Waiting for messages. To exit press CTRL+C", flush=True)
    try:
        channel.start_consuming()
    except KeyboardInterrupt:
        with contextlib.suppress(pika.exceptions.AMQPError, OSError):  # closing anyway
            connection.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
