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
import contextlib
import itertools
import logging
import signal
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from utils.errors import BrokerError, ExitCode, InputError, ScriptError, missing_module, report

try:
    import pika
    import pika.exceptions
    from pika.adapters.select_connection import IOLoop
    from tqdm import tqdm
except ModuleNotFoundError as missing:  # run outside the project's virtual environment
    sys.exit(missing_module(__file__, missing))

from utils.admin_panel import offer_rabbitmq_admin_site
from utils.alarms import URL_LIMIT, BlockedPublishing, say_when_blocked
from utils.arguments import ArgumentParser, add_queue_arguments, seconds
from utils.backoff import backoff
from utils.broker_errors import broker_error, dropped
from utils.connect_failure import connection_failure
from utils.console_lines import count_of, sent_line
from utils.parameters import connection_parameters
from utils.platforms import shell_command
from utils.queues import PERSISTENT, AsyncDeclare, queue_arguments
from utils.signals import STOP_CHECK_EVERY, GracefulStop
from utils.tasks import DEFAULT_TASKS_FILE, Task, TaskFile, from_row, rows_named
from utils.urls import address, rabbitmq_url
from utils.util_logger import setup_logger

# Messages published but not yet confirmed, at most: a window keeps the broker busy while
# it confirms earlier rows, and bounds memory (bench/README.md measures the sizes).
WINDOW = 10_000
# On a terminal, a file this large gets a progress bar instead of a line per row.
PROGRESS_BAR_FROM_BYTES = 100_000
STOP_GRACE = 5.0  # seconds a stopping emitter waits for the confirms of the rows in flight
CLOSE_WAIT = 2.0  # seconds a closing connection may take before the emitter goes anyway
# seconds with rows in flight and no confirm before the emitter says it is waiting (and
# again as often): a quorum queue without a majority of its nodes holds publishes unanswered
CONFIRM_SILENCE = 10.0
# --blocked-timeout: seconds a resource alarm may block publishing before the emitter gives
# up; generous, as freeing disk space or letting workers drain takes an operator minutes
BLOCKED_TIMEOUT = 300.0
RETRY_FOR = 60.0  # --retry-for: seconds to keep reconnecting, or publishing refused rows again
RECONNECT_CAP = 10.0  # seconds between two reconnection attempts, at most

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


def row_number(text: str) -> int:
    """argparse type for --from-row: a line number, 1 or more."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a line number, 1 or more (got {text!r})")
    return int(text)


@dataclass(frozen=True)
class Settings:
    """What the publisher is told: where to publish, and what to say."""

    queue: str
    queue_type: str
    quiet: bool  # no line per row
    limits: list[str]  # for each broker, the setting that bounds a blocked wait (in words)
    retry_for: float  # seconds to keep reconnecting, or publishing refused rows again


@dataclass
class Outcome:
    """What happened to the rows: the summary and the exit status come from it."""

    sent: int = 0  # rows read and published (once each, however often published again)
    confirmed: int = 0
    republished: int = 0  # rows a lost connection left unconfirmed, published again
    refused: list[int] = field(default_factory=list)  # nacked by the broker, at the end
    unroutable: list[int] = field(default_factory=list)  # returned: no queue took them
    unconfirmed: list[int] = field(default_factory=list)  # no answer before the end
    last_row: int | None = None  # the last row read and sent
    at_end: bool = False  # every row of the file was read
    error: ScriptError | None = None

    def failed_rows(self) -> list[int]:
        return sorted(self.refused + self.unroutable + self.unconfirmed)

    def resume_row(self) -> int | None:
        """Where another run carries on: the first row not confirmed, else the first row not
        read; None when nothing is left, or nothing was sent (then run it again as it was)."""
        failed = self.failed_rows()
        if failed:
            return failed[0]
        if self.at_end or self.last_row is None:
            return None
        return self.last_row + 1  # later rows start after its last line: none is skipped


class Confirms:
    """Publisher confirms, counted: each row in flight until the broker acks or nacks it.

    Delivery tags count the channel's publishes from 1. The broker confirms each tag, or
    every tag up to one ("multiple"); a mandatory message no queue took is returned
    first, then acked: that row is unroutable, not confirmed. A nacked row waits in
    `refused` to be published again.
    """

    def __init__(self, outcome: Outcome) -> None:
        self.outcome = outcome
        self.pending: dict[int, Task] = {}  # delivery tag -> task, oldest first
        self.refused: list[Task] = []  # nacked: to publish again
        self.returned: set[int] = set()  # rows the broker handed back as unroutable
        self.next_tag = 0

    def published(self, task: Task, again: bool = False) -> None:
        """The task was just published (`again`: it was published before, and either left
        unconfirmed by a lost connection or refused): it has the channel's next delivery tag."""
        self.next_tag += 1
        self.pending[self.next_tag] = task
        if not again:
            self.outcome.sent += 1
            self.outcome.last_row = task.row

    def new_channel(self) -> list[Task]:
        """A new channel numbers its publishes from 1 again. Return the tasks still in flight
        on the last one, to publish again (not a row handed back: it reached no queue)."""
        again = [task for task in self.pending.values() if task.row not in self.returned]
        self.outcome.republished += len(again)  # each may have reached the queue already
        self.pending.clear()
        self.returned.clear()
        self.next_tag = 0
        return again

    def take_refused(self) -> list[Task]:
        """The refused tasks, to publish again now, oldest first."""
        refused, self.refused = self.refused, []
        return sorted(refused, key=lambda task: task.row)

    def returned_row(self, row: int) -> None:
        """The broker handed the row back (no queue took it); its ack follows."""
        self.returned.add(row)
        self.outcome.unroutable.append(row)

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
                self.refused.append(task)
            elif row in self.returned:
                self.returned.discard(row)  # acked, but no queue took it: counted as unroutable
            else:
                self.outcome.confirmed += 1
        return len(tags)

    def unanswered(self) -> None:
        """The end: rows still in flight had no answer; rows waiting to go again were refused."""
        self.outcome.unconfirmed.extend(task.row for task in self.pending.values())
        self.outcome.refused.extend(task.row for task in self.take_refused())
        self.pending.clear()


class ConfirmedPublisher:
    """Publish tasks on a SelectConnection, keeping up to WINDOW unconfirmed in flight.

    Everything happens on one pika I/O loop, which run() starts and which stops once the
    connection is closed: every row confirmed, a failure, or a stop signal (the handler
    only sets a flag, which the loop looks at every STOP_CHECK_EVERY seconds). A connection
    dropped mid-stream is opened again, on the same loop, and the rows it left unconfirmed
    are published again; so are rows the broker refused, after a backoff.
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
        self.channel: Any = None  # pika's channel, once open
        self.node = 0  # the index in params of the broker connected to (or lost)
        self.lost_at: float | None = None  # time.monotonic() of the loss, while reconnecting
        self.give_up_at = 0.0  # time.monotonic() when --retry-for runs out
        self.attempts = 0  # reconnection attempts since the loss
        self.last_failure: BrokerError | None = None  # why the last attempt failed
        self.refused_since: float | None = None  # time.monotonic() of the first of the nacks
        self.refusals = 0  # rounds of refused rows published again since then
        self.again_timer: Any = None  # the next round, once one is due
        self.refused_for_good = False  # --retry-for ran out: refused rows are not sent again
        self.renewing = False  # a round of refused rows is opening a new channel
        self.answered_at = time.monotonic()  # the last confirm, or the first row in flight
        self.silence_said_at = 0.0  # when the emitter last said it waits for confirms

    def run(self) -> Outcome:
        """Publish everything, wait for the confirms, close; return the outcome."""
        self._connect(start=0)
        self._watch_for_stop()
        self._watch_confirms()
        try:
            self.ioloop.start()
        except KeyboardInterrupt:  # a second stop signal: at once, whatever is in flight
            self.outcome.error = ScriptError(self._stopped_at_once())
        finished = self.outcome.at_end and not self.confirms.pending and not self.confirms.refused
        if self.stop.requested.is_set() and not finished:
            self.outcome.error = self.outcome.error or ScriptError(
                f"{self.stop.cause()} before every row was confirmed"
            )
        self.confirms.unanswered()
        return self.outcome

    def _stopped_at_once(self) -> str:
        """What a second stop signal cost: the rows in flight, published but not confirmed,
        may be in the queue already, and a resumed run sends them again."""
        in_flight = len(self.confirms.pending)
        if not in_flight:
            return f"{self.stop.cause()} twice: stopped at once"
        return (
            f"{self.stop.cause()} twice: stopped at once, without waiting for the confirms of "
            f"{count_of(in_flight, 'row')} in flight: up to {in_flight} of the rows to resume "
            "from may already be in the queue, and would then be sent twice"
        )

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
            waited = time.monotonic() - self.lost_at
            logger.info(
                " [*] reconnected to %s after %.1f s, having lost %s",
                address(connection.params),
                waited,
                address(self.params[lost]),
            )
            self.lost_at = None
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
        self.channel = channel
        channel.add_on_close_callback(self._on_channel_closed)
        channel.add_on_return_callback(self._on_return)
        channel.confirm_delivery(
            ack_nack_callback=self._on_confirm, callback=lambda _frame: self._start_publishing()
        )

    def _start_publishing(self) -> None:
        """Publish again what the last channel left unconfirmed, and the refused rows, then
        read on; unless a stop came while the channel opened: those rows are then named."""
        if self.stop.requested.is_set():
            self._close()
            return
        again = self.confirms.new_channel()
        if again:
            logger.info(
                " [*] publishing again the %s not confirmed when %s: %s",
                count_of(len(again), "row"),
                "RabbitMQ refused rows" if self.renewing else "the connection was lost",
                rows_named(task.row for task in again),
            )
        if not self.renewing:
            self.refused_since = None  # a new connection: the count of refusals starts again
        self.renewing = False
        self._publish_again(again + self.confirms.take_refused())
        self._publish_more()

    def _on_channel_closed(self, _channel, reason: BaseException) -> None:
        if self.renewing and isinstance(reason, pika.exceptions.ChannelClosedByClient):
            if self.connection is not None and self.connection.is_open:  # see _publish_refused
                self.connection.channel(on_open_callback=self._use)  # the queue is declared
            return
        if not isinstance(reason, pika.exceptions.ChannelClosedByBroker):
            return  # closed with its connection: _on_connection_closed says why
        if self._all_done():
            self._close()
        else:
            self._fail(broker_error(reason))

    def _on_connection_closed(self, _connection, reason: BaseException) -> None:
        self.channel, self.renewing = None, False
        if self.again_timer is not None:  # refused rows go first on the next channel
            self.ioloop.remove_timeout(self.again_timer)
            self.again_timer = None
        if self._worth_reconnecting(reason):
            self.lost_at, self.attempts = time.monotonic(), 0
            self.give_up_at = self.lost_at + self.settings.retry_for
            self.last_failure = broker_error(reason, self.watch)
            where = address(self.params[self.node])
            self._reconnect_later(f"{self.last_failure} ({where})", first=True)
            return
        if self.outcome.error is None and not self._all_done() and not self.stop.requested.is_set():
            self.outcome.error = broker_error(reason, self.watch)
        self.ioloop.stop()

    def _worth_reconnecting(self, reason: BaseException) -> bool:
        """A connection dropped under rows still to send, unless told to stop or give up."""
        return (
            dropped(reason)
            and self.settings.retry_for > 0
            and self.outcome.error is None
            and not self.stop.requested.is_set()
            and not self._all_done()
        )

    def _reconnect_later(self, why: str, first: bool = False) -> None:
        """Say why, wait a capped and jittered backoff, then try the brokers again from the
        one after the broker lost; give up once --retry-for seconds have passed."""
        left = self.give_up_at - time.monotonic()
        if left <= 0:
            self.outcome.error = BrokerError(
                "lost the connection to RabbitMQ and could not reconnect within "
                f"{self.settings.retry_for:g} s (--retry-for); the last attempt: "
                f"{self.last_failure}"
            )
            self.ioloop.stop()
            return
        self.attempts += 1
        delay = min(backoff(self.attempts, RECONNECT_CAP), left)
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

    def _all_done(self) -> bool:
        """Every row read, none in flight, and none to publish again (once a stop is asked,
        or the emitter gave up, refused rows stay refused)."""
        given_up = self.stop.requested.is_set() or self.refused_for_good
        again = self.confirms.refused and not given_up
        return not self.reading and not self.confirms.pending and not again

    # --- a stop signal -------------------------------------------------------------------

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

    def _close_once_answered(self) -> None:
        """Read no more rows; close once the rows in flight are answered (_publish_more
        sees it), or after STOP_GRACE s."""
        self.reading = False
        if self.channel is None or not self.confirms.pending:
            self._close()
        else:
            self.ioloop.call_later(STOP_GRACE, self._close)

    # --- publishing and confirms --------------------------------------------------------

    def _publish_more(self) -> None:
        """Publish until WINDOW messages are in flight or the reading is over; no new row
        while refused rows wait to go again."""
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
        """Rows to read, a channel in confirm mode (not one being replaced: its last answers
        may still come in), no refused row waiting, and fewer than WINDOW in flight."""
        return (
            self.reading
            and self.channel is not None
            and not self.renewing
            and not self.confirms.refused
            and len(self.confirms.pending) < WINDOW
        )

    def _publish(self, task: Task, again: bool = False) -> None:
        """Publish the task; it is in flight before pika sees it, so that a publish that
        raises leaves it to be published again, never read and dropped."""
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
        if acked and not self.confirms.refused:
            self.refused_since = None  # the queue takes rows again
        stopping = self.stop.requested.is_set()
        # a nack on the channel being replaced goes with the round under way
        settled_already = stopping or self.renewing or self.refused_for_good
        if self.confirms.refused and self.again_timer is None and not settled_already:
            self._publish_refused_later()
        self._publish_more()

    def _publish_refused_later(self) -> None:
        """The broker refused rows: publish them again after a capped, jittered backoff;
        give up once it has refused rows for --retry-for seconds."""
        now = time.monotonic()
        if self.refused_since is None:
            self.refused_since, self.refusals = now, 0
        left = self.refused_since + self.settings.retry_for - now
        if left <= 0:
            self._give_up_refused_rows()
            return
        self.refusals += 1
        delay = min(backoff(self.refusals, RECONNECT_CAP), left)
        if self.refusals == 1:
            logger.warning(
                " [!] RabbitMQ refused row %s (a nack); publishing the rows it refuses again, "
                "reading no new row meanwhile, for up to %g s (--retry-for)",
                self.confirms.refused[0].row,
                self.settings.retry_for,
            )
        self.again_timer = self.ioloop.call_later(delay, self._publish_refused)

    def _give_up_refused_rows(self) -> None:
        """--retry-for ran out: read no more rows, and end once the rest of this round is
        answered (or after STOP_GRACE s), so that the error line names each row refused or
        confirmed rather than leaving it without an answer."""
        self.refused_for_good = True
        self.outcome.error = self.outcome.error or BrokerError(self._refusing_for())
        self._close_once_answered()

    def _refusing_for(self) -> str:
        return (
            f"RabbitMQ refused rows for {self.settings.retry_for:g} s (--retry-for): "
            f"{self.settings.queue} may be at its length limit (x-overflow reject-publish) or "
            "unavailable (a quorum queue without a majority of its nodes)"
        )

    def _publish_refused(self) -> None:
        """A round of the refused rows, on a new channel, with the rows still in flight on
        this one: a channel whose quorum-queue client was refused during a leader election
        can go on being refused after the queue has a new leader (seen with RabbitMQ 3.10)."""
        self.again_timer = None
        channel = self.channel
        if channel is None or not channel.is_open or self.stop.requested.is_set():
            return
        self.channel, self.renewing = None, True
        channel.close()  # _on_channel_closed opens the next one

    def _publish_again(self, tasks: list[Task]) -> None:
        """Rows published before, unconfirmed by a lost connection or refused: no Sent line."""
        for task in tasks:
            self._publish(task, again=True)

    def _watch_confirms(self) -> None:
        """Say so, every CONFIRM_SILENCE s, while rows in flight get no answer: no silent
        wait."""
        now = time.monotonic()
        if self.watch is not None and self.watch.since is not None:
            self.answered_at = now  # blocked: said by utils.alarms; the silence starts after
        waiting = self.confirms.pending and self.channel is not None
        silent = waiting and not self.stop.requested.is_set()  # a stop says its own wait
        if silent and now - max(self.answered_at, self.silence_said_at) >= CONFIRM_SILENCE:
            self.silence_said_at = now
            logger.warning(
                " [!] no confirm from RabbitMQ for %d s, %s in flight: still waiting; %s "
                "may be unavailable (a quorum queue without a majority of its nodes holds "
                "publishes until it has one again); Ctrl+C stops, naming the rows to resume from",
                now - self.answered_at,  # whole seconds: 10 s until 11 have passed
                count_of(len(self.confirms.pending), "row"),
                self.settings.queue,
            )
        self.ioloop.call_later(1.0, self._watch_confirms)  # looked at once a second

    def _on_return(self, _channel, _method, properties, _body) -> None:
        """The broker hands back a mandatory message no queue took; its ack follows."""
        row = (properties.headers or {}).get("row")
        if isinstance(row, int):  # every message this emitter publishes carries its row
            self.confirms.returned_row(row)


def bound_blocked_waits(params_list: list[pika.URLParameters], flag: float | None) -> list[str]:
    """Bound how long each broker may block publishing before pika gives up (its
    blocked_connection_timeout): --blocked-timeout if given, else the URL's own if it sets
    one, else BLOCKED_TIMEOUT. Return what set each bound, for the line that gives up."""
    limits = []
    for params in params_list:
        if flag is None and params.blocked_connection_timeout is not None:
            limits.append(URL_LIMIT)
            continue
        bound = BLOCKED_TIMEOUT if flag is None else flag
        params.blocked_connection_timeout = bound or None  # None: wait as long as it lasts
        default = ", the default" if flag is None else ""
        limits.append(f"--blocked-timeout ({bound:g} s{default})")
    return limits


@contextlib.contextmanager
def progress_bar(task_file: TaskFile) -> Iterator[Callable[[int], None] | None]:
    """For a large file on a terminal, a bar of the bytes of the file read, with the rate and
    the time left, and the rows confirmed so far; a function that updates it with that
    count. None otherwise (no extra output)."""
    size = task_file.path.stat().st_size
    if not sys.stdout.isatty() or size < PROGRESS_BAR_FROM_BYTES:
        yield None
        return
    with tqdm(
        total=size, unit="B", unit_scale=True, unit_divisor=1024, desc="read", mininterval=0.5
    ) as bar:

        def show(confirmed: int) -> None:
            bar.set_postfix_str(f"{count_of(confirmed, 'row')} confirmed", refresh=False)
            bar.update(task_file.bytes_read() - bar.n)

        yield show


def failure_line(outcome: Outcome, resume: str = "") -> str:
    """One line saying what went wrong, which rows the broker did not confirm, and the
    command `resume` that carries on from the first of them."""
    failed = outcome.failed_rows()
    if outcome.sent == 0 and isinstance(outcome.error, BrokerError):
        return str(outcome.error)
    parts = []
    if outcome.error is not None:
        were = "was" if outcome.sent == 1 else "were"
        parts.append(f"{outcome.error}; {count_of(outcome.sent, 'row')} {were} already sent")
    if failed:
        causes = [
            f"{len(outcome.refused)} refused by the broker" if outcome.refused else "",
            f"{len(outcome.unroutable)} unroutable (no such queue)" if outcome.unroutable else "",
            f"{len(outcome.unconfirmed)} with no answer" if outcome.unconfirmed else "",
        ]
        parts.append(
            f"{len(failed)} of {outcome.sent} rows not confirmed "
            f"({', '.join(filter(None, causes))}): {rows_named(failed)}"
        )
    line = "; ".join(parts) + f" ({outcome.confirmed} confirmed)"
    if outcome.republished:
        line += f"; {outcome.republished} republished, so some may be in the queue twice"
    return f"{line}; resume with: {resume}" if resume else line


def resume_command(args: argparse.Namespace, row: int) -> str:
    """The command that sends the same file to the same queue from `row` on.

    The URL is left out (it may hold a password): the command runs with the same
    RABBITMQ_URL, or with --url added again.
    """
    words = ["python", Path(__file__).name]
    if args.csv_file != str(DEFAULT_TASKS_FILE):
        words.append(args.csv_file)
    words += ["--queue", args.queue]
    if args.queue_type != "classic":
        words += ["--queue-type", args.queue_type]
    if args.quiet:
        words.append("--quiet")
    if args.blocked_timeout is not None:
        words += ["--blocked-timeout", f"{args.blocked_timeout:g}"]
    if args.retry_for != RETRY_FOR:
        words += ["--retry-for", f"{args.retry_for:g}"]
    return shell_command([*words, "--from-row", str(row)])  # quoted for this platform's shell


def summary_line(outcome: Outcome, args: argparse.Namespace, seconds: float, skipped: int) -> str:
    """The last line of a run in which the broker confirmed every row."""
    name = Path(args.csv_file).name
    start = f" from row {args.from_row}" if args.from_row > 1 else ""
    again = outcome.republished
    # at least once: a row confirmed but for the lost ack is in the queue twice
    twice = f", {again} republished (so up to {again} may be in the queue twice)" if again else ""
    return (
        f" [x] Sent {count_of(outcome.sent, 'row')} of {name}{start} to {args.queue} in "
        f"{seconds:.2f} s: {outcome.confirmed} confirmed by the broker, "
        f"{count_of(skipped, 'blank row')} skipped{twice}."
    )


def main(argv: list[str] | None = None) -> int:
    """Publish every row of the CSV file; exit 0 only if the broker confirmed them all."""
    setup_logger(__file__)
    args = make_argument_parser().parse_args(argv)
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
            quiet = args.quiet or progress is not None
            settings = Settings(args.queue, args.queue_type, quiet, limits, args.retry_for)
            outcome = ConfirmedPublisher(params, settings, tasks, stop, progress).run()
    except ScriptError as error:
        return report(logger, error)
    seconds = time.monotonic() - started
    if outcome.error is not None or outcome.failed_rows():
        row = outcome.resume_row()
        resume = resume_command(args, row) if row is not None else ""
        logger.error("%s: error: %s", logger.name, failure_line(outcome, resume))
        return ExitCode.FAILURE
    if outcome.sent == 0:
        start = f" from row {args.from_row} on" if args.from_row > 1 else ""
        logger.warning(" [!] %s has no task rows%s: nothing was sent", args.csv_file, start)
    logger.info("%s", summary_line(outcome, args, seconds, task_file.skipped))
    return ExitCode.OK


if __name__ == "__main__":
    sys.exit(main())
