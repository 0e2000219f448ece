"""The course's original worker, as it handles a message: for the lab's poison experiment only.

    python -m tools.lab.original_worker [--name N] [--queue Q]

Not one of the six scripts: the consuming loop of the course's v3_listenin_worker.py
(streaming-04-multiple-consumers, A. C. Coffin, 2024, after Denise Case), kept as it was
where it matters here. Its callback decodes the body with body.decode() and nothing around
it. An exception raised in a pika callback comes out of start_consuming; the original's
`except Exception` prints "ERROR: something went wrong." and exits 1, and its `finally`
closes the connection, so the broker puts the message, never acked, back in the queue for
the next worker, which dies on it too.

Changed, for the lab to run and read it: it prints the v3 worker's Received and Done lines
(row, name, time) where the original logged " [x] Received <body> at <time>" and
" [x] Done."; it sleeps SECONDS_PER_DOT per dot instead of one second, connects to
RABBITMQ_URL instead of localhost, takes its queue from --queue, and acks before saying
Done. Like the original, it installs no signal handler.
"""

from __future__ import annotations

import argparse
import sys
import time

import pika

from utils.arguments import DEFAULT_QUEUE, queue_name
from utils.console_lines import done_line, ready_line, received_line
from utils.tasks import seconds_per_dot
from utils.urls import rabbitmq_url


def make_argument_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m tools.lab.original_worker",
        description="The course's original worker, for the lab's poison experiment.",
    )
    parser.add_argument("--name", default="1", help="how the worker names itself")
    parser.add_argument("--queue", type=queue_name, default=DEFAULT_QUEUE)
    return parser


def make_callback(name: str, per_dot: float):
    """The original's callback: decode, say Received, sleep per dot, ack, say Done."""

    def callback(ch, method, properties, body):
        row = (properties.headers or {}).get("row", "?")
        started = time.monotonic()
        # decode the binary message body to a string: the original's body.decode(), unguarded
        print(received_line(row, name, time.time(), body.decode()), flush=True)
        time.sleep(body.count(b".") * per_dot)
        ch.basic_ack(delivery_tag=method.delivery_tag)
        print(done_line(row, name, time.monotonic() - started), flush=True)

    return callback


def main(name: str, qn: str) -> None:
    """The original's main: connect, declare, prefetch 1, consume until something goes wrong."""
    try:
        connection = pika.BlockingConnection(pika.URLParameters(rabbitmq_url()))
    except Exception as e:  # noqa: BLE001 - the original's own catch-all
        print(f"ERROR: connection to RabbitMQ server failed. The error says: {e}")
        sys.exit(1)

    try:
        channel = connection.channel()
        channel.queue_declare(queue=qn, durable=True)
        channel.basic_qos(prefetch_count=1)
        channel.basic_consume(queue=qn, on_message_callback=make_callback(name, seconds_per_dot()))
        print(ready_line(name, qn), flush=True)
        channel.start_consuming()
    except Exception as e:  # noqa: BLE001 - the original's own catch-all: how it dies
        print()
        print("ERROR: something went wrong.")
        print(f"Error: Something went wrong. Error: {e}")
        sys.exit(1)
    except KeyboardInterrupt:
        print()
        print(" User interrupted continuous listening process.")
        sys.exit(0)
    finally:
        print("\nClosing connection. Goodbye.\n", flush=True)
        connection.close()


if __name__ == "__main__":
    arguments = make_argument_parser().parse_args()
    main(arguments.name, arguments.queue)
