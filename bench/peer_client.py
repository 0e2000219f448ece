"""The command line of a peer's client (bench/dramatiq_peer.py, bench/celery_peer.py).

python -m bench.<peer>_peer fill N      # N numbered no-op tasks, unconfirmed: not measured
python -m bench.<peer>_peer send CSV    # a task a CSV row, each confirmed: measured
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from bench.publishers import read_rows
from bench.task_files import numbered_bodies


def make_argument_parser(peer: str) -> argparse.ArgumentParser:
    """The command line: fill the queue, or send a CSV's rows."""
    parser = argparse.ArgumentParser(description=f"{peer}'s side of the peer benchmarks.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("fill", help="N no-op tasks, unconfirmed").add_argument("tasks", type=int)
    commands.add_parser("send", help="a task a CSV row, confirmed").add_argument("csv_file")
    return parser


def main(
    argv: list[str] | None,
    peer: str,
    send: Callable[[str], object],
    unconfirmed: Callable[[], None],
    close: Callable[[], None],
) -> int:
    """Send the tasks through the peer's client: its `send(text)` sends one task, confirmed
    unless `unconfirmed()` was called first; then `close()`."""
    args = make_argument_parser(peer).parse_args(argv)
    if args.command == "fill":
        unconfirmed()
        texts = numbered_bodies(args.tasks)
    else:
        texts = [text for _row, text in read_rows(args.csv_file)]
    try:
        for text in texts:
            send(text)
    finally:
        close()
    return 0
