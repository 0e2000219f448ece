"""The command-line options both v3 scripts share: which broker, which queue, which type."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from utils.tasks import parse_seconds

DEFAULT_QUEUE = "task_queue3"
MAX_NAME_BYTES = 255  # AMQP 0-9-1 short strings


def add_queue_arguments(parser: argparse.ArgumentParser, queue_help: str) -> None:
    """--url, --queue and --queue-type; flags override RABBITMQ_URL and the defaults."""
    parser.add_argument(
        "--url",
        help="AMQP URL of the broker, or several separated by commas (overrides RABBITMQ_URL)",
    )
    parser.add_argument(
        "--queue",
        type=queue_name,
        default=DEFAULT_QUEUE,
        help=f"{queue_help} (default {DEFAULT_QUEUE})",
    )
    parser.add_argument(
        "--queue-type",
        choices=("classic", "quorum"),
        default="classic",
        help="type of the queue if this script creates it (default classic; quorum "
        "replicates it across a cluster)",
    )


def queue_name(text: str) -> str:
    """argparse type for --queue: a name the broker accepts for a queue of ours.

    An empty name would make the broker invent one (a new queue per run, left behind), and
    names starting with "amq." are the broker's own.
    """
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty (the default is task_queue3)")
    if len(text.encode("utf-8")) > MAX_NAME_BYTES:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_NAME_BYTES} bytes long")
    if text.startswith("amq."):
        raise argparse.ArgumentTypeError(f"{text!r}: names starting with 'amq.' are reserved")
    return text


def seconds(text: str) -> float:
    """argparse type for a duration: a number of seconds, 0 or more."""
    value = parse_seconds(text)
    if value is None:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, 0 or more (got {text!r})")
    return value


def up_to(most: int) -> Callable[[str], int]:
    """The argparse type of a whole number from 0 to `most` (a count, such as --retries)."""

    def whole_number(text: str) -> int:
        if not text.isdigit() or int(text) > most:
            message = f"must be a whole number from 0 to {most} (got {text!r})"
            raise argparse.ArgumentTypeError(message)
        return int(text)

    return whole_number
