"""A worker WITHOUT one of the v3 worker's safety settings: for the lab only, never for work.

    python -m tools.lab.worker_without manual-ack  [--name N] [--queue Q]
    python -m tools.lab.worker_without work-thread [--name N] [--queue Q]

Not one of the six scripts. It is the tutorial's worker (one blocking connection, a
durable queue, prefetch 1, the work done by sleeping in pika's callback), printing the v3
worker's console lines so that the lab reads both kinds of worker alike:

- manual-ack: consumes with auto_ack=True, so the broker forgets each task the moment it
  sends it (and, with no acks to wait for, prefetch 1 no longer applies: it sends all of
  them at once). A worker that dies takes every task it was sent with it.
- work-thread: sleeps in pika's callback instead of a work thread, and acks after the work,
  as the tutorial does. While it sleeps no heartbeat goes out, so a task longer than two
  heartbeat intervals gets its connection closed by the broker, and the task redelivered.

It does not reconnect: a lost connection is one line and exit status 1. SIGINT or SIGTERM
stops it, exit status 0 (a task in hand, unacked, goes back to the queue).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time

import pika
import pika.exceptions

from tools.lab.stand_ins import stand_in_parser
from utils.connect import closed_at_the_end, connect
from utils.console_lines import done_line, ready_line, received_line
from utils.errors import ExitCode, ScriptError
from utils.parameters import connection_parameters
from utils.signals import (
    GracefulStop,
    raise_keyboard_interrupt_on_stop_signals,
    stop_consuming_when_asked,
    wait_or_stop,
)
from utils.tasks import seconds_per_dot, work_seconds
from utils.urls import rabbitmq_url

PROG = "worker_without"
WITHOUT = {
    "manual-ack": "auto_ack=True: the broker forgets a task as soon as it sends it",
    "work-thread": "the work sleeps in pika's callback: no heartbeats while it runs",
}


def make_argument_parser() -> argparse.ArgumentParser:
    """The command line."""
    description = "The tutorial's worker, without one of the v3 worker's safety settings."
    parser = stand_in_parser(PROG, description, WITHOUT)
    parser.add_argument("--name", default="1", help="how the worker names itself")
    return parser


def make_callback(name: str, per_dot: float, auto_ack: bool, stop: threading.Event):
    """The tutorial's callback, with the v3 worker's lines: Received, sleep, ack, Done; a
    stop signal cuts the sleep short, and the task is not acked (under auto_ack the broker
    has forgotten it already)."""

    def callback(channel, method, properties, body: bytes) -> None:
        text = body.decode("utf-8", errors="replace")
        row = (properties.headers or {}).get("row", "?")
        note = "redelivered" if method.redelivered else ""
        started = time.monotonic()
        print(received_line(row, name, time.time(), text, note), flush=True)
        if wait_or_stop(stop, work_seconds(text, per_dot)):  # no heartbeat goes out meanwhile
            return
        if not auto_ack:
            channel.basic_ack(delivery_tag=method.delivery_tag)
        print(done_line(row, name, time.monotonic() - started), flush=True)

    return callback


def consume(
    connection: pika.BlockingConnection,
    args: argparse.Namespace,
    per_dot: float,
    stop: GracefulStop,
) -> None:
    """Declare the queue and consume until a stop signal or a lost connection."""
    auto_ack = args.setting == "manual-ack"
    channel = connection.channel()
    channel.queue_declare(queue=args.queue, durable=True)
    channel.basic_qos(prefetch_count=1)  # ignored by the broker under auto_ack
    callback = make_callback(args.name, per_dot, auto_ack, stop.requested)
    channel.basic_consume(queue=args.queue, on_message_callback=callback, auto_ack=auto_ack)
    print(ready_line(args.name, args.queue), flush=True)
    stop_consuming_when_asked(stop, connection, channel)
    channel.start_consuming()


def main(argv: list[str] | None = None) -> int:
    """Run the worker until a signal (exit 0) or a lost connection (exit 1)."""
    args = make_argument_parser().parse_args(argv)
    raise_keyboard_interrupt_on_stop_signals()  # until connected (utils/signals.py)
    try:
        per_dot = seconds_per_dot()
        connection = connect(connection_parameters(rabbitmq_url()))
        stop = GracefulStop()
        stop.install()
        with closed_at_the_end(connection):
            consume(connection, args, per_dot, stop)
    except ScriptError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr, flush=True)
        return int(error.exit_code)
    except pika.exceptions.AMQPError as error:
        print(
            f"{PROG}: error: worker {args.name} lost its connection ({error!r}); "
            "it does not reconnect",
            file=sys.stderr,
            flush=True,
        )
        return ExitCode.FAILURE
    except KeyboardInterrupt:
        pass
    return ExitCode.OK


if __name__ == "__main__":
    sys.exit(main())
