"""v3 listening worker: the production version of the worker.

Takes tasks from a durable queue (task_queue3 by default) one at a time (prefetch 1,
fair dispatch), simulates SECONDS_PER_DOT seconds of work per '.', and acknowledges each
task only when it is done. Every task line names the CSV row and this worker.

Two classes, as in pika's own asynchronous_consumer_example.py: a Consumer does the work
of one connection (declare, qos, consume, work, ack, cancel on stop), and a Worker around
it reconnects whenever that connection is lost. A Publisher publishes the copies of tasks
(retries and set-asides) on a connection of its own.

- The work runs in a thread of its own and the ack goes back to pika's I/O thread with
  add_callback_threadsafe, so heartbeats keep flowing during long tasks.
- The first Ctrl+C (SIGINT) or SIGTERM stops taking tasks, finishes the one in hand and
  exits 0; a second one stops at once (the unfinished task goes back to the queue).
- A dropped connection is retried with capped, jittered backoff; work resumes by itself.
- A task whose work fails is tried again --retries times (default 1), counted in its
  "x-failures" header: a copy goes to the back of the queue, and the task is acked once
  the broker has confirmed the copy. After its last try, and at once for a message that
  is not UTF-8 text, the copy goes to <queue>.dead-letter instead: never dropped, never
  looping. A worker that dies or loses its connection mid-task fails nothing: the broker
  gives the task again, as the same try.
"""

from __future__ import annotations

import argparse
import contextlib
import enum
import functools
import logging
import os
import queue
import random
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from utils.errors import BrokerError, ExitCode, ScriptError, missing_module, report

try:
    import pika
    import pika.exceptions
except ModuleNotFoundError as missing:  # run outside the project's virtual environment
    sys.exit(missing_module(__file__, missing))

from utils.alarms import BlockedPublishing, say_when_blocked
from utils.arguments import add_queue_arguments
from utils.broker_errors import broker_error
from utils.connect import connect_in_turn
from utils.console_lines import done_line, ready_line, received_line, received_note, try_of
from utils.dead_letter import dead_letter_queue, persistent_copy, set_aside_headers, side_channel
from utils.parameters import connection_parameters
from utils.queues import queue_arguments, use_queue_as_it_is
from utils.signals import GracefulStop
from utils.tasks import RowRuns, seconds_per_dot, work_seconds
from utils.urls import address, rabbitmq_url
from utils.util_logger import setup_logger

BACKOFF_FIRST, BACKOFF_CAP = 0.5, 30.0  # seconds between reconnection attempts
CHECK_EVERY = 0.5  # seconds: how soon a waiting worker notices a stop, or that it was cut off
MOST_UNACKED = 65535  # prefetch_count is a 16-bit field in AMQP
DEFAULT_RETRIES, MOST_RETRIES = 1, 1000  # --retries: tries of a failing task after its first
FAILURES = "x-failures"  # the header of a task's copy: how many times its work failed
CLOSE_WAIT = 2.0  # seconds the publish thread gets to close its connection at the end

logger = logging.getLogger(Path(__file__).stem)  # its handlers: setup_logger, in main()


def make_argument_parser() -> argparse.ArgumentParser:
    """The command line: every option, with the environment variable it overrides."""
    parser = argparse.ArgumentParser(
        description="Take tasks from a durable RabbitMQ queue, one at a time, until Ctrl+C.",
        epilog=(
            "environment: RABBITMQ_URL (default amqp://guest:guest@localhost:5672/%2F), "
            "SECONDS_PER_DOT (seconds of work per '.', default 1).\n"
            "example: start three in three terminals, then run v3_emitter_of_tasks.py:\n"
            "  python v3_listening_worker.py --name 1"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_queue_arguments(parser, queue_help="queue to take tasks from")
    parser.add_argument(
        "--name",
        default=str(os.getpid()),
        help="how this worker names itself (default its pid)",
    )
    parser.add_argument(
        "--prefetch",
        type=prefetch_count,
        default=1,
        help="unacked tasks the broker may hand this worker at once (default 1: fair "
        f"dispatch; 0: no limit, plain round robin, to compare; at most {MOST_UNACKED})",
    )
    parser.add_argument(
        "--retries",
        type=retry_count,
        default=DEFAULT_RETRIES,
        help=f"how many more times a task whose work fails is tried (default {DEFAULT_RETRIES}; "
        f"at most {MOST_RETRIES}) before it is set aside in <queue>.dead-letter; each retry "
        "goes to the back of the queue. Only failures count: a task given again after a "
        "worker died or lost its connection has not failed",
    )
    return parser


def whole_number(text: str, most: int) -> int:
    """A whole number from 0 to `most`, or argparse's error for an option's value."""
    if not text.isdigit() or int(text) > most:
        raise argparse.ArgumentTypeError(f"must be a whole number from 0 to {most} (got {text!r})")
    return int(text)


def prefetch_count(text: str) -> int:
    """argparse type for --prefetch: a whole number from 0 to MOST_UNACKED."""
    return whole_number(text, MOST_UNACKED)


def retry_count(text: str) -> int:
    """argparse type for --retries: a whole number from 0 to MOST_RETRIES."""
    return whole_number(text, MOST_RETRIES)


# --- the decisions: what becomes of a task (pure functions, unit-tested) ----------------------


class Outcome(enum.Enum):
    """What became of a task's work."""

    DONE = "done"
    FAILED = "failed"  # the work raised: WorkResult.error says how
    SKIPPED_STOPPING = "not started: the worker is stopping"
    SKIPPED_CONNECTION_LOST = "not started: its connection is gone"


@dataclass(frozen=True)
class WorkResult:
    """A task's outcome, with the error when its work failed."""

    outcome: Outcome
    error: Exception | None = None


DONE = WorkResult(Outcome.DONE)


class Settle(enum.Enum):
    """What the worker does with a delivery once its work is over."""

    ACK = "ack"  # done: acknowledge it, count it, say Done
    LEAVE = "leave"  # unacked: the broker requeues it when its connection closes (or did)
    RETRY = "retry"  # a copy to the back of the queue, counting the failure, then acked
    SET_ASIDE = "set aside"  # a copy to <queue>.dead-letter, then acked


def before_work(stop_requested: bool, connection_open: bool) -> Outcome | None:
    """Why a task in hand is not started, or None when it is to be worked."""
    if not connection_open:
        return Outcome.SKIPPED_CONNECTION_LOST  # the broker has requeued it already
    if stop_requested:
        return Outcome.SKIPPED_STOPPING  # prefetched, never started: requeued when we close
    return None


def settle(outcome: Outcome, channel_open: bool, failures: int, retries: int) -> Settle:
    """What to do with a delivery, by its outcome, its channel, its failures before, the retries."""
    if not channel_open or outcome in (Outcome.SKIPPED_STOPPING, Outcome.SKIPPED_CONNECTION_LOST):
        return Settle.LEAVE
    if outcome is Outcome.FAILED:
        return after_failure(failures + 1, retries)
    return Settle.ACK


def after_failure(failures: int, retries: int) -> Settle:
    """A task whose work has failed `failures` times is retried `retries` times, then set aside."""
    return Settle.RETRY if failures <= retries else Settle.SET_ASIDE


def failures_of(headers: dict | None) -> int:
    """How many times a task's work failed before: its "x-failures" header, else 0."""
    failures = (headers or {}).get(FAILURES, 0)
    return failures if isinstance(failures, int) and failures > 0 else 0


class Ending(enum.Enum):
    """Why a Consumer stopped consuming on a connection that is still open."""

    STOPPED = "asked to stop"
    CHANNEL_CLOSED = "the broker closed the channel (see its log for why)"
    CANCELLED = "the broker cancelled consuming: was {queue} deleted?"


# --- one connection: declare, consume, work, ack -------------------------------------------


@dataclass(frozen=True)
class Settings:
    """What a worker is told: its queue, its name, its prefetch, its work per dot, its retries."""

    queue: str
    queue_type: str
    name: str
    prefetch: int
    per_dot: float
    retries: int = DEFAULT_RETRIES


@dataclass
class Delivery:
    """One message in hand: its task, and the consumer (one connection) that settles it."""

    consumer: Consumer
    method: pika.spec.Basic.Deliver
    properties: pika.BasicProperties
    body: bytes
    text: str
    row: object  # the CSV row, from the message's "row" header
    seconds: float  # of work
    failures: int = 0  # how many times its work failed before (its "x-failures" header)
    started: float = 0.0  # time.monotonic() when its work started
    unsaid: str = ""  # its Received line, when it goes out with the Done line


class Consumer:
    """Consumes on one connection until a stop is asked or the broker ends consuming."""

    def __init__(
        self,
        connection: pika.BlockingConnection,
        settings: Settings,
        stop: threading.Event,
        work_queue: queue.SimpleQueue[Delivery],
        rows_done: RowRuns,
        publisher: Publisher,
    ) -> None:
        self.connection, self.settings, self.stop = connection, settings, stop
        self.work_queue, self.rows_done, self.publisher = work_queue, rows_done, publisher
        self.channel = connection.channel()
        self.open = True  # False once the connection is gone: tasks still queued are not worked
        self.in_hand = 0  # delivered, not yet settled
        self.parked: dict[int, bool] = {}  # waiting for their copies: tag -> lent its slot?
        self.lent: list[str] = []  # the consumer tags of the slots lent (see _lend)

    def run(self) -> Ending:
        """Consume until asked to stop (then finish the tasks in hand) or cut off by the broker."""
        queue_name = self.settings.queue
        self._declare(queue_name)
        # fair dispatch: with prefetch 1 the broker gives this worker a new task only after
        # it has acked the last one
        self.channel.basic_qos(prefetch_count=self.settings.prefetch)
        tag = self.channel.basic_consume(queue=queue_name, on_message_callback=self._on_message)
        logger.info(ready_line(self.settings.name, queue_name))
        ending = self._wait_for_ending()
        if ending is Ending.STOPPED:
            for each in (tag, *self.lent):  # take no new task, then finish those in hand
                self.channel.basic_cancel(each)
            self.lent.clear()
            while (self.in_hand or self.parked) and self.channel.is_open:
                self.connection.process_data_events(time_limit=CHECK_EVERY)
        return ending

    def _declare(self, queue_name: str) -> None:
        """Declare the queue durable, or use it as it is if someone else set it up."""
        arguments = queue_arguments(self.settings.queue_type)
        try:
            self.channel.queue_declare(queue=queue_name, durable=True, arguments=arguments)
        except pika.exceptions.ChannelClosedByBroker as refused:  # 406 other settings, 403
            self.channel = use_queue_as_it_is(self.connection, queue_name, refused)

    def _wait_for_ending(self) -> Ending:
        """Handle events until consuming must end: the one place that looks why.

        Neither a signal (its handler only sets the stop flag), nor a channel the broker
        closes, nor a consumer it cancels makes process_data_events return; a timer does,
        every CHECK_EVERY seconds, and the loop looks again.
        """
        self._wake_in(CHECK_EVERY)
        while True:
            if self.channel.is_closed:  # e.g. a task held past the broker's consumer_timeout
                return Ending.CHANNEL_CLOSED
            if not self.channel.consumer_tags:
                return Ending.CANCELLED
            if self.stop.is_set():  # the channel is open, the consumer active: cancel it
                return Ending.STOPPED
            self.connection.process_data_events(time_limit=None)

    def _wake_in(self, seconds: float) -> None:
        """Make process_data_events return in `seconds`, then every `seconds` after that.

        One timer at a time for the connection: process_data_events(time_limit=...) would
        make and cancel one for every task.
        """
        self.connection.call_later(seconds, functools.partial(self._wake_in, seconds))

    def _on_message(self, channel, method, properties, body: bytes) -> None:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            self._set_aside_unreadable(Delivery(self, method, properties, body, "", "?", 0.0))
            return
        row = (properties.headers or {}).get("row", "?")
        seconds = work_seconds(text, self.settings.per_dot)
        failures = failures_of(properties.headers)
        delivery = Delivery(self, method, properties, body, text, row, seconds, failures)
        self.in_hand += 1
        if self.in_hand == 1 and not seconds:
            # no work cannot block heartbeats: the I/O thread does it, sparing two thread
            # switches, and settles it as any other
            self.finish(delivery, self.work(delivery))
        else:
            self.work_queue.put(delivery)

    def work(self, delivery: Delivery) -> WorkResult:
        """Do the task, on the work thread (or on the I/O thread when it has no work)."""
        skipped = before_work(self.stop.is_set(), self.open)
        if skipped is not None:
            return WorkResult(skipped)
        # "Received" marks the start of the work (with --prefetch 0, tasks wait here first)
        delivery.started = time.monotonic()
        note = received_note(delivery.method.redelivered, delivery.failures, self.settings.retries)
        received = received_line(delivery.row, self.settings.name, time.time(), delivery.text, note)
        if not delivery.seconds:  # starts and ends at once: said with its Done line, one record
            delivery.unsaid = received + "\n"
            return DONE
        logger.info(received)
        try:
            time.sleep(delivery.seconds)
        except Exception as error:  # noqa: BLE001 - a failed task must not kill the worker
            return WorkResult(Outcome.FAILED, error)
        return DONE

    def finish_threadsafe(self, delivery: Delivery, result: WorkResult) -> None:
        """From the work thread: settle the delivery on the I/O thread, if its connection lives."""
        # a connection that is gone raises: the broker has requeued the task, nothing to ack
        with contextlib.suppress(pika.exceptions.ConnectionWrongStateError):
            self.connection.add_callback_threadsafe(
                functools.partial(self.finish, delivery, result)
            )

    def finish(self, delivery: Delivery, result: WorkResult) -> None:
        """On the I/O thread: settle a task whose work is over. Every task ends here."""
        self.in_hand -= 1
        action = settle(
            result.outcome, self.channel.is_open, delivery.failures, self.settings.retries
        )
        if action is Settle.ACK:
            self.channel.basic_ack(delivery_tag=delivery.method.delivery_tag)
            self.rows_done.add(delivery.row)
            seconds = time.monotonic() - delivery.started
            logger.info(delivery.unsaid + done_line(delivery.row, self.settings.name, seconds))
        elif action is Settle.RETRY:
            self._retry(delivery, result.error)
        elif action is Settle.SET_ASIDE:
            self._set_aside(delivery, result.error)

    # --- failures: a copy first, the ack once the broker has it -------------------------------

    def _retry(self, delivery: Delivery, error: Exception | None) -> None:
        """Send a copy that counts this failure to the back of the queue; then ack the task."""
        failures, queue_name = delivery.failures + 1, self.settings.queue
        logger.warning(
            " [!] row %s failed on %s (%r); back to the end of %s for try %d",
            delivery.row,
            try_of(failures, self.settings.retries),
            error,
            queue_name,
            failures + 1,
        )
        self._park(
            delivery, queue_name, {**(delivery.properties.headers or {}), FAILURES: failures}
        )

    def _set_aside(self, delivery: Delivery, error: Exception | None) -> None:
        """After its last try: a copy to <queue>.dead-letter with the error and the count."""
        failures, where = delivery.failures + 1, dead_letter_queue(self.settings.queue)
        tried = try_of(failures, self.settings.retries)
        logger.warning(
            " [!] row %s failed on %s (%r); set aside in %s", delivery.row, tried, error, where
        )
        reason = f"work failed on {tried}: {error!r}"
        headers = set_aside_headers(delivery.properties, self.settings.queue, reason)
        self._park(delivery, where, {**headers, FAILURES: failures})

    def _set_aside_unreadable(self, delivery: Delivery) -> None:
        """A message that is not UTF-8 text cannot be a task: a copy to <queue>.dead-letter."""
        where = dead_letter_queue(self.settings.queue)
        logger.warning(" [!] set aside a message that is not UTF-8 in %s", where)
        headers = set_aside_headers(delivery.properties, self.settings.queue, "body is not UTF-8")
        self._park(delivery, where, headers)

    def _park(self, delivery: Delivery, routing_key: str, headers: dict) -> None:
        """Hand a copy to the publisher; the delivery stays unacked until the broker has it."""
        tag = delivery.method.delivery_tag
        self.parked[tag] = False
        if self.publisher.blocked:
            self._lend(tag)
        properties = persistent_copy(delivery.properties, headers)
        self.publisher.publish(Copy(delivery, routing_key, properties))

    def copied_threadsafe(self, delivery: Delivery, refused: Exception | None = None) -> None:
        """From the publish thread: the broker has the copy, or `refused` it."""
        with contextlib.suppress(pika.exceptions.ConnectionWrongStateError):
            self.connection.add_callback_threadsafe(
                functools.partial(self._copied, delivery, refused)
            )

    def _copied(self, delivery: Delivery, refused: Exception | None) -> None:
        """On the I/O thread: ack a delivery whose copy the broker has, and take back its slot."""
        tag = delivery.method.delivery_tag
        lent = self.parked.pop(tag)
        if not self.channel.is_open:  # the broker has requeued the delivery
            return
        if lent and self.lent:
            self.channel.basic_cancel(self.lent.pop())
        if refused is not None:
            logger.warning(
                " [!] row %s: the broker refused its copy (%r); it stays unacked, and comes "
                "back once this worker reconnects or stops",
                delivery.row,
                refused,
            )
            return
        self.channel.basic_ack(delivery_tag=tag)

    def failed_threadsafe(self, error: Exception) -> None:
        """From the publish thread: an error the worker cannot go on with, for the I/O thread."""
        with contextlib.suppress(pika.exceptions.ConnectionWrongStateError):
            self.connection.add_callback_threadsafe(functools.partial(raise_error, error))

    def lend_threadsafe(self) -> None:
        """From the publish thread, once RabbitMQ blocks it: parked deliveries lend their slots."""
        with contextlib.suppress(pika.exceptions.ConnectionWrongStateError):
            self.connection.add_callback_threadsafe(self._lend_all)

    def _lend_all(self) -> None:
        for tag, lent in list(self.parked.items()):
            if not lent:
                self._lend(tag)

    def _lend(self, tag: int) -> None:
        """While its copy waits for a blocked publisher, a delivery lends its prefetch slot."""
        # the broker counts it unacked until then: one more consumer on the channel takes
        # one more task meanwhile, so a blocked publisher does not stop this worker's work
        if not self.settings.prefetch or self.stop.is_set() or not self.channel.is_open:
            return  # no limit to lend from, or no new task wanted
        self.parked[tag] = True
        if self.settings.prefetch > 1:  # a new consumer's limit: one slot lent, not prefetch
            self.channel.basic_qos(prefetch_count=1)
        queue_name = self.settings.queue
        self.lent.append(self.channel.basic_consume(queue_name, self._on_message))


# --- copies of tasks, on a connection of their own ----------------------------------------


@dataclass(frozen=True)
class Copy:
    """A copy of a delivery, to be in the broker's hands before the delivery is acked."""

    delivery: Delivery
    routing_key: str  # the task queue (a retry, at its back) or <queue>.dead-letter
    properties: pika.BasicProperties


class Publisher:
    """Publishes copies of tasks (retries, set-asides), confirmed, on a connection of its own."""

    # RabbitMQ's advice: never publish on a consuming connection. While a resource alarm lasts
    # the broker reads nothing from a connection that publishes, acks included; here only this
    # connection waits, the tasks whose copies it holds stay unacked (the broker keeps them),
    # and the consumer's connection goes on. The publish thread alone touches this connection:
    # it opens it for the first copy, opens it anew when it is lost, and closes it at the end.

    def __init__(self, params: list[pika.URLParameters], settings: Settings) -> None:
        self.params, self.settings = params, settings
        self.copies: queue.SimpleQueue[Copy | None] = queue.SimpleQueue()
        self.thread: threading.Thread | None = None
        self.closing = threading.Event()
        self.connection: pika.BlockingConnection | None = None
        self.channel = None
        self.node = -1  # the broker it last connected to: the next attempt starts after it
        self.watch: BlockedPublishing | None = None
        self.in_flight: Copy | None = None

    @property
    def blocked(self) -> bool:
        """Whether RabbitMQ blocks this connection now (read from any thread)."""
        watch = self.watch
        return watch is not None and watch.since is not None

    def publish(self, copy: Copy) -> None:
        """From the I/O thread: publish `copy`, then hand the delivery back to its consumer."""
        if self.thread is None:
            self.thread = threading.Thread(target=self._loop, name="publish", daemon=True)
            self.thread.start()
        self.copies.put(copy)

    def close(self) -> None:
        """From the main thread, at the end: the publish thread closes its connection."""
        if self.thread is not None:
            self.closing.set()
            self.copies.put(None)
            self.thread.join(CLOSE_WAIT)  # a blocked connection cannot close: not waited for

    def _loop(self) -> None:
        """The publish thread: each copy in turn until the end, then the connection closed."""
        while True:
            copy = self._next()
            if copy is None:
                with contextlib.suppress(pika.exceptions.AMQPError):  # lost as it closed
                    close(self.connection)
                return
            self.in_flight = copy
            self._publish(copy)

    def _next(self) -> Copy | None:
        """The next copy (None: the end); meanwhile the connection answers heartbeats."""
        while True:
            try:
                return self.copies.get(timeout=CHECK_EVERY)
            except queue.Empty:
                self._keep_alive()

    def _keep_alive(self) -> None:
        if self.connection is None or not self.connection.is_open:
            return
        try:
            self.connection.process_data_events(time_limit=0)
        except pika.exceptions.AMQPConnectionError as lost:
            self._lost(lost)

    def _publish(self, copy: Copy) -> None:
        """Publish until the broker has the copy, on a new connection when one is lost."""
        attempts = 0
        while copy.delivery.consumer.open and not self.closing.is_set():
            if self._connected() and self._published(copy):
                return
            attempts += 1
            self.closing.wait(backoff(attempts))
        # else the consumer's connection is gone, and with it the delivery: the broker has
        # requeued it

    def _connected(self) -> bool:
        """Whether the connection is open, opening it if need be; the broker may be away."""
        if self.connection is not None and self.connection.is_open:
            return True
        try:
            self.connection, self.node = connect_in_turn(self.params, start=self.node + 1)
        except BrokerError as error:
            logger.warning(" [!] worker %s cannot publish: %s", self.settings.name, error)
            return False
        self.watch = say_when_blocked(self.connection, logger, on_blocked=self._on_blocked)
        self.channel = None  # opened on the new connection by _published
        return True

    def _published(self, copy: Copy) -> bool:
        """Publish the copy and hand the delivery back; False if the connection was lost."""
        consumer = copy.delivery.consumer
        try:
            channel = self.channel
            if channel is None:  # confirm mode, <queue>.dead-letter declared
                channel = self.channel = side_channel(self.connection, self.settings.queue)
            channel.basic_publish(
                "", copy.routing_key, copy.delivery.body, copy.properties, mandatory=True
            )
        except (pika.exceptions.UnroutableError, pika.exceptions.NackError) as refused:
            consumer.copied_threadsafe(copy.delivery, refused)
        except pika.exceptions.AMQPConnectionError as lost:
            self._lost(lost)
            return False
        except (pika.exceptions.AMQPError, ScriptError) as error:  # e.g. no write permission
            consumer.failed_threadsafe(error)
        else:
            consumer.copied_threadsafe(copy.delivery)
        return True

    def _lost(self, error: Exception) -> None:
        logger.warning(
            " [!] worker %s lost its publishing connection: %r", self.settings.name, error
        )

    def _on_blocked(self) -> None:
        """On the publish thread, as RabbitMQ blocks it: tasks go on while the copies wait."""
        logger.warning(
            " [!] worker %s: tasks to retry or set aside stay unacked until the broker takes "
            "their copies; other tasks go on",
            self.settings.name,
        )
        if self.in_flight is not None:
            self.in_flight.delivery.consumer.lend_threadsafe()


def raise_error(error: Exception) -> None:
    """Raise `error` where it is called back: on the I/O thread, out of the Consumer."""
    raise error


def close(connection: pika.BlockingConnection | None) -> None:
    """Close a connection if it is open: the one place the worker closes its connections."""
    if connection is not None and connection.is_open:
        connection.close()


def backoff(attempts: int) -> float:
    """Seconds to wait after `attempts` failed attempts: doubling, capped and jittered."""
    delay = min(BACKOFF_CAP, BACKOFF_FIRST * 2 ** (attempts - 1))
    return delay * random.uniform(0.5, 1.0)  # jitter: workers don't all retry at once


# --- around it: reconnecting, and the work thread ------------------------------------------


class Worker:
    """Runs a Consumer, and a new one on a new connection whenever the last one was lost."""

    def __init__(
        self, params: list[pika.URLParameters], settings: Settings, stop: GracefulStop
    ) -> None:
        self.params, self.settings, self.stop = params, settings, stop.requested
        self.rows_done = RowRuns()
        self.work_queue: queue.SimpleQueue[Delivery] = queue.SimpleQueue()
        self.publisher = Publisher(params, settings)

    def run(self) -> None:
        """Connect (failing fast at start-up), then consume and reconnect until stopped."""
        connection, node = connect_in_turn(self.params)  # unreachable at start-up: an error
        threading.Thread(target=self._work_loop, name="work", daemon=True).start()
        try:
            while True:
                ending = self._consume_on(connection)
                if ending is Ending.STOPPED:
                    return
                connected = self._reconnect(after=node)
                if connected is None:
                    return
                connection, node = connected
        finally:
            self.publisher.close()

    def _consume_on(self, connection: pika.BlockingConnection) -> Ending | None:
        """Run a Consumer on the connection, then close it; None when the connection was lost."""
        consumer = None
        try:
            consumer = Consumer(
                connection,
                self.settings,
                self.stop,
                self.work_queue,
                self.rows_done,
                self.publisher,
            )
            ending = consumer.run()
        except pika.exceptions.AMQPConnectionError as error:
            logger.warning(" [!] worker %s lost its connection: %r", self.settings.name, error)
            return None
        finally:
            if consumer is not None:
                consumer.open = False
            close(connection)
        if ending is not Ending.STOPPED:
            message = ending.value.format(queue=self.settings.queue)
            logger.warning(" [!] worker %s: %s; starting over", self.settings.name, message)
        return ending

    def _reconnect(self, after: int) -> tuple[pika.BlockingConnection, int] | None:
        """Retry with capped, jittered backoff until connected, or None once a stop is asked."""
        failures = 0
        while True:
            failures += 1
            delay = backoff(failures)
            logger.warning(" [!] reconnecting in %.1f s (attempt %d)", delay, failures)
            if self.stop.wait(delay):
                return None
            try:
                # with several brokers, start with the one after the broker that failed
                connection, node = connect_in_turn(self.params, start=after + 1)
            except BrokerError as error:
                logger.warning(" [!] %s", error)
                continue
            where = address(self.params[node])
            logger.info(" [*] worker %s reconnected to %s", self.settings.name, where)
            return connection, node

    def _work_loop(self) -> None:
        """The work thread: each task in turn, then back to its consumer's I/O thread."""
        while True:
            delivery = self.work_queue.get()
            delivery.consumer.finish_threadsafe(delivery, delivery.consumer.work(delivery))


def main(argv: list[str] | None = None) -> int:
    """Run one worker until SIGINT or SIGTERM."""
    setup_logger(__file__)
    args = make_argument_parser().parse_args(argv)
    stop = GracefulStop()
    stop.install()
    worker = None
    try:
        params = connection_parameters(rabbitmq_url(args.url))
        settings = Settings(
            args.queue, args.queue_type, args.name, args.prefetch, seconds_per_dot(), args.retries
        )
        worker = Worker(params, settings, stop)
        worker.run()
    except KeyboardInterrupt:
        logger.info(
            " [*] worker %s stopped at once; an unfinished task goes back to the queue",
            args.name,
        )
    except ScriptError as error:
        return report(logger, error)
    except pika.exceptions.AMQPError as error:
        return report(logger, broker_error(error))
    if worker is not None:
        done = worker.rows_done
        logger.info(" [*] worker %s did %d tasks: %s", args.name, done.count, done)
    return ExitCode.OK


if __name__ == "__main__":
    sys.exit(main())
