"""v3 emitter of tasks: the production version of the emitter.

Reads a CSV file of tasks (tasks.csv by default) as a stream and publishes one persistent
message per row, the row's fields joined by single spaces, to a durable queue
(task_queue3 by default), over one connection. Each message carries its row number in the
header "row", so workers can say "row 7".

Publisher confirms are pipelined: up to WINDOW messages are in flight while the broker
confirms earlier ones. The exit status is 0 only when the broker has confirmed every row;
otherwise it is 1, naming the rows not confirmed and the command that resumes (--from-row).

A row the broker refuses (a nack), or left unanswered by a lost connection, is published
again: on the same channel after a backoff, once every row in flight is answered, or
first on the new connection (the next broker in the list). It may then be in the queue
twice; the summary counts such rows. One budget, --retry-for, bounds every wait for the
broker: reconnecting, refusals, rows in flight with no answer. A resource alarm blocking
publishers is said at once; --blocked-timeout bounds that wait. Ctrl+C or SIGTERM stops
the reading, the rows in flight get STOP_GRACE seconds; a second signal stops at once.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import signal
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from utils.errors import BrokerError, InputError, ScriptError, missing_module, report

try:
    import pika
    import pika.exceptions
    from pika.adapters.select_connection import IOLoop

    from utils.progress_bar import progress_bar  # on tqdm
except ModuleNotFoundError as missing:  # run outside the project's virtual environment
    sys.exit(missing_module(__file__, missing))

from utils.admin_panel import offer_rabbitmq_admin_site
from utils.alarms import BLOCKED_TIMEOUT, BlockedPublishing, bound_blocked_waits, say_when_blocked
from utils.arguments import ArgumentParser, add_queue_arguments, row_number, seconds
from utils.broker_errors import broker_error, connection_failure, dropped
from utils.console_lines import count_of, rows_named, sent_line
from utils.outcome import Outcome, gave_up, say_the_end, still_waiting, stopped_at_once
from utils.parameters import connection_parameters
from utils.queues import PERSISTENT, AsyncDeclare, queue_arguments
from utils.retry_budget import RetryBudget
from utils.signals import STOP_CHECK_EVERY, GracefulStop
from utils.tasks import DEFAULT_TASKS_FILE, Task, TaskFile, from_row
from utils.urls import address, rabbitmq_url
from utils.util_logger import setup_logger

# Rows in flight at most: the broker keeps busy while it confirms earlier rows, and memory
WINDOW = 10_000  # stays bounded (bench/README.md measures the sizes)
STOP_GRACE = 5.0  # seconds a stopping emitter waits for the confirms of the rows in flight
CLOSE_WAIT = 2.0  # seconds a closing connection may take before the emitter goes anyway
CONFIRM_SILENCE = 10.0  # seconds of rows in flight with no answer before saying so, and again
RETRY_FOR = 60.0  # --retry-for: seconds to wait for a broker in trouble (utils.retry_budget)
RECONNECT_CAP = 10.0  # seconds between two reconnections, or rounds of rows published again

logger = logging.getLogger(Path(__file__).stem)  # its handlers: setup_logger, in main()


def make_argument_parser() -> argparse.ArgumentParser:
    """The command line: every option, with the environment variable it overrides."""
    parser = ArgumentParser(
        description="Publish one persistent task per CSV row to a durable RabbitMQ queue.",
        epilog=(
            "environment: RABBITMQ_URL (default amqp://guest:guest@localhost:5672/%2F).\n"
            "exit status: 0 every row confirmed by the broker, 1 a failure (rows named), "
            "2 bad usage.\n"
            "examples:\n"
            "  python v3_emitter_of_tasks.py\n"
            "  python v3_emitter_of_tasks.py my_tasks.csv --queue my_queue\n"
            "  python v3_emitter_of_tasks.py my_tasks.csv --queue my_queue --from-row 1234"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "csv_file",
        nargs="?",
        default=str(DEFAULT_TASKS_FILE),
        help="CSV file of tasks, one per row (default: the project's tasks.csv)",
    )
    add_queue_arguments(parser, queue_help="queue to publish to")
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no line per row, only the summary (on a terminal, files over 100 kB "
        "show a progress bar instead of a line per row)",
    )
    parser.add_argument(
        "--blocked-timeout",
        type=seconds,
        metavar="SECONDS",
        help="when RabbitMQ blocks publishing (its disk or memory alarm), say so and wait "
        "at most this long, then exit 1 naming the rows not confirmed (default "
        f"{BLOCKED_TIMEOUT:g}, or the URL's blocked_connection_timeout when it sets one; "
        "0 waits as long as the alarm lasts)",
    )
    parser.add_argument(
        "--retry-for",
        type=seconds,
        default=RETRY_FOR,
        metavar="SECONDS",
        help="how long to wait for a broker in trouble, then exit 1 naming the rows not "
        "confirmed: reconnecting after a lost connection (the next URL in the list first), "
        "publishing again rows it refuses (nacks), rows in flight with no answer. A row "
        "published again may be in the queue twice: the summary counts them (default "
        f"{RETRY_FOR:g}; 0 gives up at once). No broker at start-up is an error at once",
    )
    parser.add_argument(
        "--from-row",
        type=row_number,
        default=1,
        metavar="N",
        help="start at row N of the file, a row's number being the CSV line it starts on; "
        "the rows before it are read, not sent. When rows are not confirmed, the error line "
        "ends with the command that resumes from the first of them (default 1)",
    )
    return parser


@dataclass(frozen=True)
class Settings:
    """What the publisher is told: where to publish, and what to say."""

    queue: str
    queue_type: str | None  # None: the vhost's default
    quiet: bool  # no line per row
    limits: list[str]  # for each broker, the setting that bounds a blocked wait (in words)
    retry_for: float  # seconds to wait for a broker in trouble


class Confirms:
    """Publisher confirms, counted: each row in flight until the broker acks or nacks it.

    Delivery tags count the channel's publishes from 1; the broker confirms each tag, or
    every tag up to one ("multiple"). A row no queue took is returned, then acked: it is
    unroutable. A row nacked, or in flight on a lost connection, goes to `again`.
    """

    def __init__(self, outcome: Outcome) -> None:
        self.outcome = outcome
        self.pending: dict[int, Task] = {}  # delivery tag -> task, oldest first
        self.again: list[Task] = []  # nacked, or in flight on a lost connection
        self.nacked: set[int] = set()  # rows whose last answer was a nack, in flight again too
        self.returned: set[int] = set()  # rows the broker handed back as unroutable
        self.next_tag = 0

    def published(self, task: Task, again: bool = False) -> None:
        """The task was just published (`again`: once more): it has the next delivery tag."""
        self.next_tag += 1
        self.pending[self.next_tag] = task
        if again:
            self.outcome.republished.add(task.row)  # an earlier copy may be in the queue
        else:
            self.outcome.sent += 1
            self.outcome.last_row = task.row

    def confirmed(self, delivery_tag: int, multiple: bool, acked: bool) -> int:
        """Settle the tag (or every tag up to it); return how many rows that settled."""
        if multiple:
            tags = list(itertools.takewhile(lambda tag: tag <= delivery_tag, self.pending))
        else:
            tags = [delivery_tag]
        for tag in tags:
            task = self.pending.pop(tag)
            if not acked:
                self.again.append(task)
                self.nacked.add(task.row)
                continue
            self.nacked.discard(task.row)  # its last answer: an ack
            if task.row in self.returned:
                self.returned.discard(task.row)  # acked, but no queue took it: unroutable
            else:
                self.outcome.confirmed += 1
        return len(tags)

    def connection_lost(self) -> None:
        """The rows in flight (but those returned) go again; a new channel's tags start at 1."""
        self.again += [task for task in self.pending.values() if task.row not in self.returned]
        self.nacked.difference_update(task.row for task in self.pending.values())  # no answer now
        self.pending.clear()
        self.returned.clear()
        self.next_tag = 0

    def take_again(self) -> list[Task]:
        """The tasks to publish again now, oldest first."""
        again, self.again = self.again, []
        return sorted(again, key=lambda task: task.row)

    def returned_row(self, row: int) -> None:
        """The broker handed the row back (no queue took it); its ack follows."""
        self.returned.add(row)
        self.outcome.unroutable.append(row)

    def unanswered(self) -> None:
        """The end: rows in flight or to go again were not confirmed; nacked ones, refused."""
        for task in self.take_again():
            failed = self.outcome.refused if task.row in self.nacked else self.outcome.unconfirmed
            failed.append(task.row)
        self.outcome.unconfirmed.extend(task.row for task in self.pending.values())
        self.pending.clear()


class ConfirmedPublisher:
    """Publish tasks on a SelectConnection, keeping up to WINDOW unconfirmed in flight.

    Everything happens on one pika I/O loop, which run() starts and which stops once the
    connection is closed: every row confirmed, a failure, or a stop signal (the handler
    only sets a flag, which _watch looks at). Rows in Confirms.again go out first on a new
    connection, or after a backoff once every row in flight has its answer (_publish_more).
    """

    def __init__(
        self,
        params: list[pika.URLParameters],
        settings: Settings,
        tasks: Iterator[Task],
        stop: GracefulStop,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        self.params, self.settings, self.tasks = params, settings, tasks
        self.stop, self.progress = stop, progress
        self.outcome = Outcome()
        self.confirms = Confirms(self.outcome)
        self.budget = RetryBudget(settings.retry_for, CONFIRM_SILENCE)  # --retry-for
        self.reading = True  # False at the end of the file, at a bad row, or once asked to stop
        self.ioloop = IOLoop()
        self.connection: pika.SelectConnection | None = None
        self.watch: BlockedPublishing | None = None  # names the alarm if blocked too long
        self.channel: Any = None  # pika's channel, while open in confirm mode
        self.node = 0  # the index in params of the broker connected to (or lost)
        self.lost: BrokerError | None = None  # why the connection went, until it is back
        self.lost_at = 0.0  # time.monotonic() when it went
        self.round: Any = None  # the timer of the next round of rows published again
        self.silence_said_at = 0.0  # when the emitter last said it waits for confirms

    def run(self) -> Outcome:
        """Publish everything, wait for the confirms, close; return the outcome."""
        self._connect(start=0)
        self._watch()
        try:
            self.ioloop.start()
        except KeyboardInterrupt:  # a second stop signal: at once, whatever is in flight
            in_flight = len(self.confirms.pending)
            self.outcome.error = ScriptError(stopped_at_once(self.stop.cause(), in_flight))
        finished = self.outcome.at_end and not self.confirms.pending and not self.confirms.again
        if self.stop.requested.is_set() and not finished:
            stopped = ScriptError(f"{self.stop.cause()} before every row was confirmed")
            self.outcome.error = self.outcome.error or stopped
        self.confirms.unanswered()
        return self.outcome

    # --- connection and channel ----------------------------------------------------------

    def _connect(self, start: int) -> None:
        """Open a connection to the first broker that answers, trying them from `start`."""
        order = self.params[start:] + self.params[:start]
        pika.SelectConnection.create_connection(
            order, self._on_connected, custom_ioloop=self.ioloop
        )

    def _on_connected(self, connection: pika.SelectConnection | BaseException) -> None:
        if isinstance(connection, BaseException):
            self._no_broker(connection_failure(connection, self.params))
            return
        self.connection = connection
        lost, self.node = self.node, self._index_of(connection)
        connection.add_on_close_callback(self._on_connection_closed)
        # RabbitMQ low on disk or memory blocks publishers: said at once, and every 30 s
        self.watch = say_when_blocked(connection, logger, self.settings.limits[self.node])
        if self.lost is not None:
            where, before = address(connection.params), address(self.params[lost])
            after = time.monotonic() - self.lost_at
            logger.info(" [*] reconnected to %s after %.1f s, having lost %s", where, after, before)
        if self.stop.requested.is_set():
            self._close()
            return
        # a queue someone else set up (406, 403) is used as it is, as v1 and v2 do
        queue, arguments = self.settings.queue, queue_arguments(self.settings.queue_type)
        AsyncDeclare(connection, queue, arguments, self._use, self._fail).start()

    def _index_of(self, connection: pika.SelectConnection) -> int:
        """Which of the brokers the connection is to (pika connects with a copy of its params)."""
        where = address(connection.params)
        return next((i for i, params in enumerate(self.params) if address(params) == where), 0)

    def _use(self, channel) -> None:
        """The queue is there: confirm mode on its channel, then publish."""
        channel.add_on_close_callback(self._on_channel_closed)
        channel.add_on_return_callback(self._on_return)
        channel.confirm_delivery(
            ack_nack_callback=self._on_confirm, callback=lambda _frame: self._start(channel)
        )

    def _start(self, channel) -> None:
        """Publish again first what the lost connection left, then read on (unless a stop
        came meanwhile: _watch closes the connection)."""
        self.channel, self.lost = channel, None
        if self.confirms.again and not self._ending():
            logger.info(
                " [*] publishing again the %s not confirmed when the connection was lost: %s",
                count_of(len(self.confirms.again), "row"),
                rows_named(task.row for task in self.confirms.again),
            )
        self._publish_again()

    def _on_channel_closed(self, _channel, reason: BaseException) -> None:
        self.channel = None
        if not isinstance(reason, pika.exceptions.ChannelClosedByBroker):
            return  # closed with its connection: _on_connection_closed says why
        if self._all_done():
            self._close()
        else:
            self._fail(reason)

    def _on_connection_closed(self, _connection, reason: BaseException) -> None:
        self.channel = None
        if self.round is not None:  # the rows go first on the next connection
            self.ioloop.remove_timeout(self.round)
            self.round = None
        self.confirms.connection_lost()
        stay = self._ending() or self._all_done() or self.settings.retry_for == 0
        if dropped(reason) and not stay:
            self.budget.trouble()
            self.lost, self.lost_at = broker_error(reason, self.watch), time.monotonic()
            self._reconnect_later(f"{self.lost} ({address(self.params[self.node])})", True)
            return
        if not self._ending() and not self._all_done():
            self.outcome.error = broker_error(reason, self.watch)
        self.ioloop.stop()

    def _reconnect_later(self, why: str, first: bool = False) -> None:
        """Say why, wait a backoff, then try the brokers again from the one after the lost."""
        delay = self.budget.next_wait(RECONNECT_CAP)
        if delay is None:
            self._give_up()
            return
        for_up_to = f", for up to {self.budget.seconds:g} s in all (--retry-for)" if first else ""
        logger.warning(" [!] %s; reconnecting in %.1f s%s", why, delay, for_up_to)
        self.ioloop.call_later(delay, lambda: self._connect(start=self.node + 1))

    def _no_broker(self, failure: BrokerError) -> None:
        """No broker answered: at start-up the end (exit 1), else another round follows."""
        if self.lost is None or self._ending():  # a stop is said by run()
            self.outcome.error = self.outcome.error or (None if self._ending() else failure)
            self.ioloop.stop()
            return
        self.lost = failure  # the last attempt's
        self._reconnect_later(str(failure))

    def _fail(self, error: Exception) -> None:
        """The end, for a reason said in one line (a broker's error, told by broker_error)."""
        error = error if isinstance(error, ScriptError) else broker_error(error)
        self.outcome.error = self.outcome.error or error
        self.reading = False
        self._close()

    def _close(self) -> None:
        """The one place the connection is closed; the I/O loop stops once it is, or after
        CLOSE_WAIT seconds (a broker that blocks publishers reads no close either)."""
        if self.connection is not None and self.connection.is_open:
            self.connection.close()
            self.ioloop.call_later(CLOSE_WAIT, self.ioloop.stop)
        elif self.connection is None or self.connection.is_closed:
            self.ioloop.stop()

    def _close_once_answered(self) -> None:
        """Read no more; close once the rows in flight are answered, or after STOP_GRACE s."""
        self.reading = False
        self.ioloop.call_later(STOP_GRACE if self._in_flight() else 0, self._close)

    def _ending(self) -> bool:
        """Asked to stop, or failed (gave up included): no row goes out again."""
        return self.stop.requested.is_set() or self.outcome.error is not None

    def _all_done(self) -> bool:
        """Every row read, none in flight, and none to publish again (unless ending)."""
        again = self.confirms.again and not self._ending()
        return not self.reading and not self.confirms.pending and not again

    # --- a stop signal, and every wait for the broker bounded ----------------------------

    def _watch(self) -> None:
        """A stop, --retry-for run out, rows in flight with no answer (blocked is not silent)."""
        if self.stop.requested.is_set():
            self._stop_reading()
            return
        if self.watch is not None and self.watch.since is not None:
            self.budget.heard()
        in_flight = self._in_flight()
        silent = self.budget.silent_for(in_flight)
        if self.budget.left(in_flight) <= 0 and not self._ending():
            self._give_up()
        elif silent >= CONFIRM_SILENCE <= time.monotonic() - self.silence_said_at:
            self.silence_said_at = time.monotonic()
            rows, queue = len(self.confirms.pending), self.settings.queue
            logger.warning(still_waiting(silent, rows, self.budget.seconds, queue))
        self.ioloop.call_later(STOP_CHECK_EVERY, self._watch)

    def _in_flight(self) -> bool:
        return bool(self.confirms.pending) and self.channel is not None

    def _stop_reading(self) -> None:
        """Asked to stop: read no more rows; those in flight have STOP_GRACE s to be confirmed."""
        if self._in_flight():
            again = "Ctrl+C again" if self.stop.signum == signal.SIGINT else "a second signal"
            in_flight = count_of(len(self.confirms.pending), "row")
            logger.info(
                " [*] %s: waiting up to %g s for the confirms of %s in flight; %s stops at once",
                *(self.stop.cause(), STOP_GRACE, in_flight, again),
            )
        self._close_once_answered()

    def _give_up(self) -> None:
        """--retry-for ran out: end, naming the rows (those in flight get STOP_GRACE s)."""
        refused = bool(self.confirms.nacked) and self.lost is None
        silent = self.budget.silent_for(self._in_flight())
        why = gave_up(self.budget.seconds, self.settings.queue, self.lost, refused, silent)
        self.outcome.error = BrokerError(why)
        self._close_once_answered()

    # --- publishing and confirms --------------------------------------------------------

    def _publish_more(self) -> None:
        """Publish until WINDOW rows are in flight or the reading is over. Rows to publish
        again go first, in a round timed once every row in flight has its answer."""
        if self.confirms.again and not self._ending():
            if not self.confirms.pending and self.round is None and self.channel is not None:
                delay = self.budget.next_wait(RECONNECT_CAP)
                if delay is None:
                    self._give_up()
                else:
                    self.round = self.ioloop.call_later(delay, self._publish_again)
            return
        while self._room_to_publish():
            try:
                task = next(self.tasks)
            except StopIteration:
                self.reading = False
                self.outcome.at_end = True
            except InputError as error:
                self.reading = False
                self.outcome.error = error
            else:
                self._publish(task)
                if not self.settings.quiet:
                    logger.info(sent_line(task.row, task.text))  # one record a row
        if self._all_done():
            self._close()

    def _room_to_publish(self) -> bool:
        """Rows to read, an open channel in confirm mode, and fewer than WINDOW in flight."""
        open_channel = self.channel is not None and self.channel.is_open
        return self.reading and open_channel and len(self.confirms.pending) < WINDOW

    def _publish_again(self) -> None:
        """A round: the rows that went back, published again (no Sent line); then read on."""
        self.round = None
        if self.channel is None or not self.channel.is_open or self._ending():
            return
        for task in self.confirms.take_again():
            self._publish(task, again=True)
        self._publish_more()

    def _publish(self, task: Task, again: bool = False) -> None:
        """Publish the task on the open channel, as the next delivery tag of Confirms. pika
        raises here only on a channel that is not open, which every caller rules out; a lost
        connection does not raise: the task, in Confirms first, goes again (connection_lost)."""
        if not self.confirms.pending:  # the wait for an answer starts now
            self.budget.heard()
        self.confirms.published(task, again)
        self.channel.basic_publish(
            exchange="",
            routing_key=self.settings.queue,
            body=task.text.encode("utf-8"),
            properties=pika.BasicProperties(
                delivery_mode=PERSISTENT,  # written to disk: survives a broker restart
                content_type="text/plain",
                headers={"row": task.row},
            ),
            mandatory=True,  # a message no queue takes comes back to _on_return
        )

    def _on_confirm(self, frame) -> None:
        """An ack or nack for one delivery tag, or for every tag up to it ("multiple")."""
        method = frame.method
        acked = isinstance(method, pika.spec.Basic.Ack)
        settled = self.confirms.confirmed(method.delivery_tag, method.multiple, acked)
        if settled and self.progress is not None:
            self.progress(self.outcome.confirmed)
        # nacks come at once, acks once stored: an ack while rows wait to go again is old
        self.budget.heard(took_rows=acked and not self.confirms.again)
        if not acked and settled and not self._ending() and self.budget.trouble():
            logger.warning(
                " [!] RabbitMQ refused row %s (a nack); publishing the rows it refuses again, "
                "reading no new row meanwhile, for up to %g s (--retry-for)",
                *(self.confirms.again[-settled].row, self.budget.seconds),
            )
        self._publish_more()

    def _on_return(self, _channel, _method, properties, _body) -> None:
        """The broker hands back a mandatory message no queue took; its ack follows."""
        row = (properties.headers or {}).get("row")
        if isinstance(row, int):  # every message this emitter publishes carries its row
            self.confirms.returned_row(row)


def main(argv: list[str] | None = None) -> int:
    """Publish every row of the CSV file; exit 0 only if the broker confirmed them all."""
    setup_logger(__file__)
    parser = make_argument_parser()
    args = parser.parse_args(argv)
    task_file = TaskFile(args.csv_file)
    stop = GracefulStop()
    try:
        url = rabbitmq_url(args.url)
        params = connection_parameters(url)
        limits = bound_blocked_waits(params, args.blocked_timeout)
        tasks = from_row(iter(task_file), args.from_row)  # a bad path fails before connecting
        offer_rabbitmq_admin_site(url, logger)  # Ctrl+C there: exit 130, nothing sent
        stop.install()  # Ctrl+C, SIGTERM: stop reading, wait briefly for the confirms
        started = time.monotonic()
        with progress_bar(task_file) as progress:
            settings = Settings(
                queue=args.queue,
                queue_type=args.queue_type,
                quiet=args.quiet or progress is not None,
                limits=limits,
                retry_for=args.retry_for,
            )
            outcome = ConfirmedPublisher(params, settings, tasks, stop, progress).run()
    except ScriptError as error:
        return report(logger, error)
    seconds, defaults = time.monotonic() - started, parser.parse_args([])
    return say_the_end(logger, outcome, args, defaults, seconds, task_file.skipped)


if __name__ == "__main__":
    sys.exit(main())
