"""The baseline publishers the v3 emitter is measured against, each as small as pika allows.

    python -m bench.publishers MODE CSV_FILE [--queue Q] [--window N]

MODE is one of:
  per-row-connection  the original course's approach: connect, declare, publish, close, per row
  sync-confirm        one connection; wait for the broker's confirm after each publish
  no-confirm          one connection, no confirms (unsafe: a reference, not a goal)
  pipelined           SelectConnection with up to --window unconfirmed publishes in flight:
                      the fastest safe publisher pika allows (the limit); with --lines it
                      logs the v3 emitter's " [x] Sent row" line for each row, one record a
                      row, through the project's logger (a file and the console), as the
                      v3 emitter does; without, it is silent, as `v3_emitter_of_tasks.py --quiet`

Every mode reads the CSV as the v3 emitter does (fields joined by spaces, blank rows
skipped) and publishes the same messages: persistent, text/plain, a "row" header, to a
durable queue. RABBITMQ_URL names the broker and vhost. Exit status 0 when every row was
published (and, where there are confirms, confirmed).
"""

from __future__ import annotations

import argparse
import collections
import csv
import os
import sys
from collections.abc import Iterable, Iterator
from typing import Any

import pika

from utils.console_lines import sent_line
from utils.util_logger import setup_logger

QUEUE = "task_queue3"
DEFAULT_WINDOW = 1000
PERSISTENT = pika.DeliveryMode.Persistent


def read_rows(path: str) -> Iterator[tuple[int, str]]:
    """(row number, text) for each non-blank row; the row number counts from 1."""
    with open(path, newline="", encoding="utf-8") as file:
        for number, fields in enumerate(csv.reader(file), start=1):
            if any(field.strip() for field in fields):
                yield number, " ".join(fields)


def properties(row: int) -> pika.BasicProperties:
    """The properties the v3 emitter sets: persistent, text/plain, the row number."""
    return pika.BasicProperties(
        delivery_mode=PERSISTENT, content_type="text/plain", headers={"row": row}
    )


def _declare(channel, queue: str) -> None:
    channel.queue_declare(queue=queue, durable=True)


def per_row_connection(url: str, queue: str, rows: Iterable[tuple[int, str]]) -> int:
    """The original course's emitter: a new connection for every row, no confirms."""
    sent = 0
    for row, text in rows:
        connection = pika.BlockingConnection(pika.URLParameters(url))
        channel = connection.channel()
        _declare(channel, queue)
        channel.basic_publish("", queue, text.encode(), properties(row))
        connection.close()
        sent += 1
    return sent


def one_connection(url: str, queue: str, rows: Iterable[tuple[int, str]], confirm: bool) -> int:
    """One blocking connection; with confirm, each publish waits for the broker's ack."""
    sent = 0
    with pika.BlockingConnection(pika.URLParameters(url)) as connection:
        channel = connection.channel()
        if confirm:
            channel.confirm_delivery()  # basic_publish now raises if the broker refuses
        _declare(channel, queue)
        for row, text in rows:
            channel.basic_publish("", queue, text.encode(), properties(row), mandatory=confirm)
            sent += 1
    return sent


class PipelinedPublisher:
    """Publish on a SelectConnection, at most `window` unconfirmed; count the confirms."""

    def __init__(
        self, url: str, queue: str, rows: Iterable[tuple[int, str]], window: int, lines: bool
    ):
        self.url, self.queue, self.window = url, queue, window
        self.logger = setup_logger(__file__)[0] if lines else None
        self.rows = iter(rows)
        self.in_flight: collections.deque[int] = collections.deque()  # delivery tags, in order
        self.next_tag = 0
        self.confirmed = self.refused = 0
        self.exhausted = False
        self.channel: Any = None  # pika's channel, once open
        self.connection: Any = None  # pika.SelectConnection, once made

    def run(self) -> int:
        """Publish every row and wait for every confirm; return how many were acked."""
        self.connection = pika.SelectConnection(
            pika.URLParameters(self.url),
            on_open_callback=lambda connection: connection.channel(
                on_open_callback=self._on_channel_open
            ),
            on_open_error_callback=self._on_failure,
            on_close_callback=lambda _connection, _reason: self.connection.ioloop.stop(),
        )
        self.connection.ioloop.start()
        if self.refused or self.in_flight:
            raise RuntimeError(f"{self.refused} refused, {len(self.in_flight)} unconfirmed")
        return self.confirmed

    def _on_failure(self, _connection, error: BaseException) -> None:
        self.connection.ioloop.stop()
        raise RuntimeError(f"cannot connect: {error!r}")

    def _on_channel_open(self, channel) -> None:
        self.channel = channel
        channel.confirm_delivery(ack_nack_callback=self._on_confirm)
        channel.queue_declare(self.queue, durable=True, callback=lambda _frame: self._publish())

    def _publish(self) -> None:
        """Top the window up; close once everything is published and confirmed."""
        while not self.exhausted and len(self.in_flight) < self.window:
            item = next(self.rows, None)
            if item is None:
                self.exhausted = True
                break
            row, text = item
            self.channel.basic_publish(
                "", self.queue, text.encode(), properties(row), mandatory=True
            )
            self.next_tag += 1
            self.in_flight.append(self.next_tag)
            if self.logger is not None:
                self.logger.info(sent_line(row, text))  # one record a row, as the v3 emitter
        if self.exhausted and not self.in_flight:
            self.connection.close()

    def _on_confirm(self, frame) -> None:
        method = frame.method
        done = 0
        if method.multiple:
            while self.in_flight and self.in_flight[0] <= method.delivery_tag:
                self.in_flight.popleft()
                done += 1
        else:
            self.in_flight.remove(method.delivery_tag)
            done = 1
        if isinstance(method, pika.spec.Basic.Ack):
            self.confirmed += done
        else:
            self.refused += done
        self._publish()


def publish_pipelined(
    url: str, queue: str, rows, window: int = DEFAULT_WINDOW, lines: bool = False
) -> int:
    """Publish (row, text) pairs with pipelined confirms; return how many were confirmed."""
    return PipelinedPublisher(url, queue, rows, window, lines).run()


MODES = {
    "per-row-connection": lambda url, queue, rows, args: per_row_connection(url, queue, rows),
    "sync-confirm": lambda url, queue, rows, args: one_connection(url, queue, rows, True),
    "no-confirm": lambda url, queue, rows, args: one_connection(url, queue, rows, False),
    "pipelined": lambda url, queue, rows, args: publish_pipelined(
        url, queue, rows, args.window, args.lines
    ),
}


def make_argument_parser() -> argparse.ArgumentParser:
    """The command line of the baseline publishers."""
    parser = argparse.ArgumentParser(description="Baseline publishers for the benchmarks.")
    parser.add_argument("mode", choices=sorted(MODES))
    parser.add_argument("csv_file")
    parser.add_argument("--queue", default=QUEUE)
    parser.add_argument("--window", type=int, default=DEFAULT_WINDOW)
    parser.add_argument("--lines", action="store_true", help="pipelined: a Sent line a row")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Publish the CSV file's rows in one mode; print how many."""
    args = make_argument_parser().parse_args(argv)
    url = os.environ["RABBITMQ_URL"]
    count = MODES[args.mode](url, args.queue, read_rows(args.csv_file), args)
    print(f"{args.mode}: {count} rows published")
    return 0


if __name__ == "__main__":
    sys.exit(main())
