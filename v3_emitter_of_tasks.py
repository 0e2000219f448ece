"""v3 emitter of tasks: the production version of the emitter.

Reads a CSV file of tasks (tasks.csv by default) as a stream and publishes one persistent
message per row, the row's fields joined by single spaces, to a durable queue
(task_queue3 by default), over one connection. Each message carries its row number in the
header "row", so workers can say "row 7".

Publisher confirms are pipelined: up to WINDOW messages are in flight while the broker
confirms earlier ones, which is as fast as pika can publish safely. The exit status is 0
only when the broker has confirmed every row; otherwise it is 1, the rows that were not
confirmed are named, and the line ends with the command that resumes from the first of
them (--from-row).

RabbitMQ blocking publishers (its disk or memory alarm) is said at once and every 30 s;
the emitter waits, and gives up after --blocked-timeout seconds.

A connection lost mid-stream is opened again, the next broker in the list first, for up
to --retry-for seconds; the rows it left unconfirmed are published again (at least once:
some may then be in the queue twice, and the summary says how many may). Rows the broker
refuses (nacks: a quorum queue electing a new leader, a queue at its length limit with
x-overflow reject-publish) are published again after a backoff, reading no new row
meanwhile, until --retry-for seconds of refusals have passed.

Ctrl+C or SIGTERM stops the reading; the rows in flight get STOP_GRACE seconds to be
confirmed. A second signal stops at once.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import math
import signal
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from utils.errors import BrokerError, ExitCode, InputError, ScriptError, missing_module, report

try:
    import pika
    import pika.exceptions
    from pika.adapters.select_connection import IOLoop

    from utils.progress_bar import progress_bar  # on tqdm
except ModuleNotFoundError as missing:  # run outside the project's virtual environment
    sys.exit(missing_module(__file__, missing))

from utils.admin_panel import offer_rabbitmq_admin_site
from utils.alarms import BLOCKED_TIMEOUT, BlockedPublishing, bound_blocked_waits, say_when_blocked
from utils.arguments import add_queue_arguments, row_number, seconds
from utils.backoff import backoff
from utils.broker_errors import broker_error, dropped
from utils.connect_failure import connection_failure
from utils.console_lines import count_of, sent_line
from utils.outcome import Outcome, failure_line, gave_up, stopped_at_once, summary_line
from utils.parameters import connection_parameters
from utils.queues import PERSISTENT, AsyncDeclare, queue_arguments
from utils.resume import resume_command
from utils.signals import STOP_CHECK_EVERY, GracefulStop
from utils.tasks import DEFAULT_TASKS_FILE, Task, TaskFile, from_row, rows_named
from utils.urls import address, rabbitmq_url
from utils.util_logger import setup_logger

# Messages published but not yet confirmed, at most: a window keeps the broker busy while
# it confirms earlier rows, and bounds memory (bench/README.md measures the sizes).
WINDOW = 10_000
STOP_GRACE = 5.0  # seconds a stopping emitter waits for the confirms of the rows in flight
CLOSE_WAIT = 2.0  # seconds a closing connection may take before the emitter goes anyway
# seconds with rows in flight and no confirm before the emitter says it is waiting (and
# again as often): a quorum queue without a majority of its nodes holds publishes unanswered
CONFIRM_SILENCE = 10.0
RETRY_FOR = 60.0  # --retry-for: seconds to keep reconnecting, or publishing refused rows again
RECONNECT_CAP = 10.0  # seconds between two reconnection attempts, at most

logger = logging.getLogger(Path(__file__).stem)  # its handlers: setup_logger, in main()


def make_argument_parser() -> argparse.ArgumentParser:
    """The command line: every option, with the environment variable it overrides."""
    parser = argparse.ArgumentParser(
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
        help="when the connection is lost mid-stream, reconnect (the next URL in the list "
        "first, then each in turn, waiting longer after each failed round) for up to this "
        "long, and publish again every row the broker had not confirmed: such a row may "
        "then be in the queue twice; rows the broker refuses (nacks) are published again "
        f"for up to this long too (default {RETRY_FOR:g}; 0 gives up at once). A broker "
        "that cannot be reached at start-up is an error at once",
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
    queue_type: str
    quiet: bool  # no line per row
    limits: list[str]  # for each broker, the setting that bounds a blocked wait (in words)
    retry_for: float  # seconds to keep reconnecting, or publishing refused rows again


class Confirms:
    """Publisher confirms, counted: each row in flight until the broker acks or nacks it.

    Delivery tags count the channel's publishes from 1. The broker confirms each tag, or
    every tag up to one ("multiple"); a mandatory message no queue took is returned
    first, then acked: that row is unroutable, not confirmed. A row goes back to be
    published again, in `again`, when the broker refuses it (a nack) or when the connection
    is lost before its answer came.
    """

    def __init__(self, outcome: Outcome) -> None:
        self.outcome = outcome
        self.pending: dict[int, Task] = {}  # delivery tag -> task, oldest first
        self.again: list[Task] = []  # nacked, or in flight on a lost connection
        self.nacked: set[int] = set()  # rows whose last answer was a nack
        self.returned: set[int] = set()  # rows the broker handed back as unroutable
        self.next_tag = 0

    def published(self, task: Task, again: bool = False) -> None:
        """The task was just published (`again`: it was published before, and went back to
        be published again): it has the channel's next delivery tag."""
        self.next_tag += 1
        self.pending[self.next_tag] = task
        if again:
            self.outcome.republished.add(task.row)  # an earlier copy may be in the queue
            self.nacked.discard(task.row)
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
            row = task.row
            if not acked:
                self.again.append(task)
                self.nacked.add(row)
            elif row in self.returned:
                self.returned.discard(row)  # acked, but no queue took it: counted as unroutable
            else:
                self.outcome.confirmed += 1
        return len(tags)

    def connection_lost(self) -> None:
        """The rows in flight will have no answer: they go back to be published again (not
        a row handed back: it reached no queue). A new channel numbers its tags from 1."""
        self.again += [task for task in self.pending.values() if task.row not in self.returned]
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
        """The end: rows still in flight, or waiting to go again, were not confirmed; those
        whose last answer was a nack were refused."""
        for task in self.take_again():
            failed = self.outcome.refused if task.row in self.nacked else self.outcome.unconfirmed
            failed.append(task.row)
        self.outcome.unconfirmed.extend(task.row for task in self.pending.values())
        self.pending.clear()


class ConfirmedPublisher:
    """Publish tasks on a SelectConnection, keeping up to WINDOW unconfirmed in flight.

    Everything happens on one pika I/O loop, which run() starts and which stops once the
    connection is closed: every row confirmed, a failure, or a stop signal (the handler
    only sets a flag, which the loop looks at every STOP_CHECK_EVERY seconds).

    Rows go back to be published again for two reasons, a nack or a connection lost before
    their answer; both feed `Confirms.again`. A new connection publishes them first; on an
    open channel they go after a backoff, once every row in flight has its answer. No new
    row is read while they wait. One budget, --retry-for, bounds all waiting for the broker
    (reconnecting, refusals, a silence with rows in flight): it starts with the trouble
    and starts again with the next ack.
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
        self.reading = True  # False at the end of the file, at a bad row, or once asked to stop
        self.ioloop = IOLoop()
        self.connection: pika.SelectConnection | None = None
        self.watch: BlockedPublishing | None = None  # names the alarm if blocked too long
        self.channel: Any = None  # pika's channel, while open in confirm mode
        self.node = 0  # the index in params of the broker connected to (or lost)
        self.lost_at: float | None = None  # time.monotonic() of a loss, until publishing again
        self.last_failure: BrokerError | None = None  # why the last reconnection failed
        self.trouble_since: float | None = None  # the first nack or loss since the last ack
        self.attempts = 0  # reconnections or rounds of publishing again since then
        self.round: Any = None  # the timer of the next round of rows published again
        self.answered_at = time.monotonic()  # the last confirm, or the first row in flight
        self.silence_said_at = 0.0  # when the emitter last said it waits for confirms

    def run(self) -> Outcome:
        """Publish everything, wait for the confirms, close; return the outcome."""
        self._connect(start=0)
        self._watch_for_stop()
        self._watch_the_broker()
        try:
            self.ioloop.start()
        except KeyboardInterrupt:  # a second stop signal: at once, whatever is in flight
            in_flight = len(self.confirms.pending)
            self.outcome.error = ScriptError(stopped_at_once(self.stop.cause(), in_flight))
        finished = self.outcome.at_end and not self.confirms.pending and not self.confirms.again
        if self.stop.requested.is_set() and not finished:
            self.outcome.error = self.outcome.error or ScriptError(
                f"{self.stop.cause()} before every row was confirmed"
            )
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
        if self.lost_at is not None:
            logger.info(
                " [*] reconnected to %s after %.1f s, having lost %s",
                address(connection.params),
                time.monotonic() - self.lost_at,
                address(self.params[lost]),
            )
        if self.stop.requested.is_set():
            self._close()
            return
        # a queue someone else set up (406, 403) is used as it is, as v1 and v2 do
        queue, arguments = self.settings.queue, queue_arguments(self.settings.queue_type)
        AsyncDeclare(connection, queue, arguments, self._use, self._declare_failed).start()

    def _index_of(self, connection: pika.SelectConnection) -> int:
        """Which of the brokers the connection is to (pika connects with a copy of its params)."""
        where = address(connection.params)
        return next((i for i, params in enumerate(self.params) if address(params) == where), 0)

    def _declare_failed(self, error: Exception) -> None:
        self._fail(error if isinstance(error, ScriptError) else broker_error(error))

    def _use(self, channel) -> None:
        """The queue is there: confirm mode on its channel, then publish."""
        channel.add_on_close_callback(self._on_channel_closed)
        channel.add_on_return_callback(self._on_return)
        channel.confirm_delivery(
            ack_nack_callback=self._on_confirm, callback=lambda _frame: self._start(channel)
        )

    def _start(self, channel) -> None:
        """Publish again what a lost connection left unconfirmed (and rows refused before
        it), then read on; unless a stop came while the channel opened."""
        self.channel = channel
        if self.stop.requested.is_set():
            self._close()
            return
        if self.confirms.again:
            logger.info(
                " [*] publishing again the %s not confirmed when the connection was lost: %s",
                count_of(len(self.confirms.again), "row"),
                rows_named(task.row for task in self.confirms.again),
            )
        self.lost_at = None
        self._publish_again()

    def _on_channel_closed(self, _channel, reason: BaseException) -> None:
        self.channel = None
        if not isinstance(reason, pika.exceptions.ChannelClosedByBroker):
            return  # closed with its connection: _on_connection_closed says why
        if self._all_done():
            self._close()
        else:
            self._fail(broker_error(reason))

    def _on_connection_closed(self, _connection, reason: BaseException) -> None:
        self.channel = None
        if self.round is not None:  # the rows go first on the next connection
            self.ioloop.remove_timeout(self.round)
            self.round = None
        self.confirms.connection_lost()
        if self._worth_reconnecting(reason):
            self.lost_at = time.monotonic()
            self.trouble_since = self.trouble_since or self.lost_at
            self.last_failure = broker_error(reason, self.watch)
            where = address(self.params[self.node])
            self._reconnect_later(f"{self.last_failure} ({where})", first=True)
            return
        if not self._ending() and not self._all_done():
            self.outcome.error = broker_error(reason, self.watch)
        self.ioloop.stop()

    def _worth_reconnecting(self, reason: BaseException) -> bool:
        """A connection dropped under rows still to send, unless told to stop or give up."""
        return (
            dropped(reason)
            and self.settings.retry_for > 0
            and not self._ending()
            and not self._all_done()
        )

    def _reconnect_later(self, why: str, first: bool = False) -> None:
        """Say why, wait a capped and jittered backoff, then try the brokers again from the
        one after the broker lost; give up once --retry-for runs out."""
        delay = self._backoff()
        if delay is None:
            return
        for_up_to = (
            f", for up to {self.settings.retry_for:g} s in all (--retry-for)" if first else ""
        )
        logger.warning(" [!] %s; reconnecting in %.1f s%s", why, delay, for_up_to)
        self.ioloop.call_later(delay, lambda: self._connect(start=self.node + 1))

    def _no_broker(self, failure: BrokerError) -> None:
        """No broker answered: at start-up that is the end (one line, exit 1); after a lost
        connection, another round follows, until --retry-for runs out."""
        if self.lost_at is None or self.stop.requested.is_set():
            if not self.stop.requested.is_set():
                self.outcome.error = failure
            self.ioloop.stop()
            return
        self.last_failure = failure
        self._reconnect_later(str(failure))

    def _fail(self, error: ScriptError) -> None:
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
        """Read no more rows; close once the rows in flight are answered (_publish_more
        sees it), or after STOP_GRACE s."""
        self.reading = False
        if self.channel is None or not self.confirms.pending:
            self._close()
        else:
            self.ioloop.call_later(STOP_GRACE, self._close)

    def _ending(self) -> bool:
        """Asked to stop, or failed (given up included): no row goes out again."""
        return self.stop.requested.is_set() or self.outcome.error is not None

    def _all_done(self) -> bool:
        """Every row read, none in flight, and none to publish again (unless ending)."""
        again = self.confirms.again and not self._ending()
        return not self.reading and not self.confirms.pending and not again

    # --- a stop signal, and the one budget for waiting on the broker ----------------------

    def _watch_for_stop(self) -> None:
        if self.stop.requested.is_set():
            self._stop_reading()
        else:
            self.ioloop.call_later(STOP_CHECK_EVERY, self._watch_for_stop)

    def _stop_reading(self) -> None:
        """Asked to stop: read no more rows; those in flight have STOP_GRACE s to be confirmed."""
        if self.channel is not None and self.confirms.pending:
            again = "Ctrl+C again" if self.stop.signum == signal.SIGINT else "a second signal"
            logger.info(
                " [*] %s: waiting up to %g s for the confirms of %s in flight; %s stops at once",
                self.stop.cause(),
                STOP_GRACE,
                count_of(len(self.confirms.pending), "row"),
                again,
            )
        self._close_once_answered()

    def _waiting_since(self) -> float | None:
        """Since when the emitter waits for the broker: the first nack or loss since the
        last ack, or the last answer while rows in flight get none; None: not waiting."""
        silent = self.answered_at if self.confirms.pending and self.channel is not None else None
        return min((t for t in (self.trouble_since, silent) if t is not None), default=None)

    def _backoff(self) -> float | None:
        """Seconds to wait before the next reconnection or round: a capped, jittered
        backoff, within what is left of --retry-for. None: it ran out, the emitter gives up."""
        since = self._waiting_since()
        left = math.inf if since is None else since + self.settings.retry_for - time.monotonic()
        if left <= 0:
            self._give_up()
            return None
        self.attempts += 1
        return min(backoff(self.attempts, RECONNECT_CAP), left)

    def _watch_the_broker(self) -> None:
        """Once a second: give up once --retry-for has run out, and say so, every
        CONFIRM_SILENCE s, while rows in flight get no answer: no silent wait. A blocked
        connection is no silence: --blocked-timeout bounds that wait (utils.alarms)."""
        now = time.monotonic()
        if self.watch is not None and self.watch.since is not None:
            self.answered_at = now
        since = self._waiting_since()
        if since is not None and not self._ending():
            if now - since >= self.settings.retry_for:
                self._give_up()
            elif (
                self.trouble_since is None
                and now - max(since, self.silence_said_at) >= CONFIRM_SILENCE
            ):
                self.silence_said_at = now
                logger.warning(
                    " [!] no confirm from RabbitMQ for %d s, %s in flight: still waiting, for up "
                    "to %g s in all (--retry-for); %s may be unavailable (a quorum queue without "
                    "a majority of its nodes holds publishes until it has one again); Ctrl+C "
                    "stops, naming the rows to resume from",
                    now - since,  # whole seconds: 10 s until 11 have passed
                    count_of(len(self.confirms.pending), "row"),
                    self.settings.retry_for,
                    self.settings.queue,
                )
        self.ioloop.call_later(1.0, self._watch_the_broker)

    def _give_up(self) -> None:
        """--retry-for ran out: end, naming the rows not confirmed. Rows refused get the
        answers to their last round (STOP_GRACE s at most), so each is named refused or
        confirmed, not left without an answer."""
        lost = self.last_failure if self.lost_at is not None else None
        refused = bool(self.confirms.again)
        why = gave_up(self.settings.retry_for, self.settings.queue, lost, refused)
        self.outcome.error = BrokerError(why)
        if refused:
            self._close_once_answered()
        else:
            self.reading = False
            self._close()

    # --- publishing and confirms --------------------------------------------------------

    def _publish_more(self) -> None:
        """Publish until WINDOW messages are in flight or the reading is over. Rows to
        publish again come first, and no new row is read while they wait."""
        if self.confirms.again and not self._ending():
            if not self.confirms.pending and self.round is None and self.channel is not None:
                delay = self._backoff()  # every row in flight answered: the next round
                if delay is not None:
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
        return (
            self.reading
            and self.channel is not None
            and self.channel.is_open
            and len(self.confirms.pending) < WINDOW
        )

    def _publish_again(self) -> None:
        """A round: the rows that went back, published again on this channel (no Sent line
        again); then read on."""
        self.round = None
        if self.channel is None or not self.channel.is_open or self._ending():
            return
        for task in self.confirms.take_again():
            self._publish(task, again=True)
        self._publish_more()

    def _publish(self, task: Task, again: bool = False) -> None:
        """Publish the task on the open channel, as the next delivery tag of Confirms."""
        if not self.confirms.pending:  # the wait for an answer starts now
            self.answered_at = time.monotonic()
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
        self.answered_at = time.monotonic()
        settled = self.confirms.confirmed(method.delivery_tag, method.multiple, acked)
        if settled and self.progress is not None:
            self.progress(self.outcome.confirmed)
        if acked and not self.confirms.again:  # nacks come before the acks of older rows
            self.trouble_since, self.attempts = None, 0  # the broker takes rows again
        elif settled and self.trouble_since is None and not self._ending():
            self.trouble_since = self.answered_at
            logger.warning(
                " [!] RabbitMQ refused row %s (a nack); publishing the rows it refuses again, "
                "reading no new row meanwhile, for up to %g s (--retry-for)",
                self.confirms.again[-settled].row,
                self.settings.retry_for,
            )
        self._publish_more()

    def _on_return(self, _channel, _method, properties, _body) -> None:
        """The broker hands back a mandatory message no queue took; its ack follows."""
        row = (properties.headers or {}).get("row")
        if isinstance(row, int):  # every message this emitter publishes carries its row
            self.confirms.returned_row(row)


def ask_about_the_admin_panel(url: str) -> None:
    """The offer to open the admin panel; Ctrl+C at the question ends the run, nothing sent."""
    # a process started in the background by a script inherits SIGINT ignored: take it back
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        offer_rabbitmq_admin_site(url, logger)
    except KeyboardInterrupt:
        print()  # end the question's line
        raise ScriptError("interrupted (Ctrl+C) at the question; nothing was sent") from None


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
        ask_about_the_admin_panel(url)
        stop.install()  # Ctrl+C, SIGTERM: stop reading, wait briefly for the confirms
        started = time.monotonic()
        with progress_bar(task_file) as progress:
            quiet = args.quiet or progress is not None
            settings = Settings(args.queue, args.queue_type, quiet, limits, args.retry_for)
            outcome = ConfirmedPublisher(params, settings, tasks, stop, progress).run()
    except ScriptError as error:
        return report(logger, error)
    seconds = time.monotonic() - started
    if outcome.error is not None or outcome.failed_rows():
        row = outcome.resume_row()
        defaults = parser.parse_args([])
        resume = resume_command(__file__, args, defaults, row) if row is not None else ""
        logger.error("%s: error: %s", logger.name, failure_line(outcome, resume))
        return ExitCode.FAILURE
    if outcome.sent == 0:  # one line: nothing to sum up
        start = f" from row {args.from_row} on" if args.from_row > 1 else ""
        logger.warning(" [!] %s has no task rows%s: nothing was sent", args.csv_file, start)
        return ExitCode.OK
    name = Path(args.csv_file).name
    line = summary_line(outcome, name, args.from_row, args.queue, seconds, task_file.skipped)
    logger.info("%s", line)
    return ExitCode.OK


if __name__ == "__main__":
    sys.exit(main())
