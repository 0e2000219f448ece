"""The command-line options both v3 scripts share: which broker, which queue, which type."""

from __future__ import annotations

import argparse

DEFAULT_QUEUE = "task_queue3"


def add_queue_arguments(parser: argparse.ArgumentParser, queue_help: str) -> None:
    """--url, --queue and --queue-type; flags override RABBITMQ_URL and the defaults."""
    parser.add_argument(
        "--url",
        help="AMQP URL of the broker, or several separated by commas (overrides RABBITMQ_URL)",
    )
    parser.add_argument(
        "--queue", default=DEFAULT_QUEUE, help=f"{queue_help} (default {DEFAULT_QUEUE})"
    )
    parser.add_argument(
        "--queue-type",
        choices=("classic", "quorum"),
        default="classic",
        help="type of the queue if this script creates it (default classic; quorum "
        "replicates it across a cluster)",
    )
