"""v3 listening worker: the production version of the worker.

Takes tasks from a durable queue (task_queue3 by default) one at a time (prefetch 1,
fair dispatch), simulates SECONDS_PER_DOT seconds of work per '.', and acknowledges each
task only when it is done. Every task line names the CSV row and this worker.

Two classes, as in pika's own asynchronous_consumer_example.py: a Consumer does the work
of one connection (declare, qos, consume, work, ack, cancel on stop), and a Worker around
it reconnects whenever that connection is lost.

- The work runs in a thread of its own and the ack goes back to pika's I/O thread with
  add_callback_threadsafe, so heartbeats keep flowing during long tasks.
- The first Ctrl+C (SIGINT) or SIGTERM stops taking tasks, finishes the one in hand and
  exits 0; a second one stops at once (the unfinished task goes back to the queue).
- A dropped connection is retried with capped, jittered backoff; work resumes by itself.
- A message that is not UTF-8 text is set aside in <queue>.dead-letter, never dropped;
  a task whose work fails gets one more try, then is set aside the same way.
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

from utils.arguments import add_queue_arguments
from utils.broker import (
    broker_error,
    connect_in_turn,
    connection_parameters,
    dead_letter_queue,
    queue_arguments,
    set_aside,
)
from utils.console_lines import done_line, ready_line, received_line
from utils.queues import use_queue_as_it_is
from utils.signals import GracefulStop
from utils.tasks import RowRuns, seconds_per_dot, work_seconds
from utils.urls import address, rabbitmq_url
from utils.util_logger import setup_logger

BACKOFF_FIRST, BACKOFF_CAP = 0.5, 30.0  # seconds between reconnection attempts
CHECK_EVERY = 0.5  # seconds: how soon a waiting worker notices a stop, or that it was cut off
MOST_UNACKED = 65535  # prefetch_count is a 16-bit field in AMQP

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
    return parser


def prefetch_count(text: str) -> int:
    """argparse type for --prefetch: a whole number from 0 to MOST_UNACKED."""
    if not text.isdigit() or int(text) > MOST_UNACKED:
        raise argparse.ArgumentTypeError(
            f"must be a whole number from 0 to {MOST_UNACKED} (got {text!r})"
        )
    return int(text)


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
    RETRY = "retry"  # back to the queue for one more try
    SET_ASIDE = "set aside"  # to <queue>.dead-letter, then acknowledged


def before_work(stop_requested: bool, connection_open: bool) -> Outcome | None:
    """Why a task in hand is not started, or None when it is to be worked."""
    if not connection_open:
        return Outcome.SKIPPED_CONNECTION_LOST  # the broker has requeued it already
    if stop_requested:
        return Outcome.SKIPPED_STOPPING  # prefetched, never started: requeued when we close
    return None


def settle(outcome: Outcome, channel_open: bool, redelivered: bool) -> Settle:
    """What to do with a delivery, given its work's outcome and whether its channel is open."""
    if not channel_open or outcome in (Outcome.SKIPPED_STOPPING, Outcome.SKIPPED_CONNECTION_LOST):
        return Settle.LEAVE
    if outcome is Outcome.FAILED:
        return after_failure(redelivered)
    return Settle.ACK


def after_failure(redelivered: bool) -> Settle:
    """A failed task gets one more try; failing again (redelivered), it is set aside."""
    return Settle.SET_ASIDE if redelivered else Settle.RETRY


class Ending(enum.Enum):
    """Why a Consumer stopped consuming on a connection that is still open."""

    STOPPED = "asked to stop"
    CHANNEL_CLOSED = "the broker closed the channel (see its log for why)"
    CANCELLED = "the broker cancelled consuming: was {queue} deleted?"


# --- one connection: declare, consume, work, ack -------------------------------------------


@dataclass(frozen=True)
class Settings:
    """What a worker is told: its queue, its name, its prefetch and its work per dot."""

    queue: str
    queue_type: str
    name: str
    prefetch: int
    per_dot: float


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
    ) -> None:
        self.connection, self.settings, self.stop = connection, settings, stop
        self.work_queue, self.rows_done = work_queue, rows_done
        self.channel = connection.channel()
        self.open = True  # False once the connection is gone: tasks still queued are not worked
        self.in_hand = 0  # delivered, not yet settled

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
            self.channel.basic_cancel(tag)  # take no new task, then finish those in hand
            while self.in_hand and self.channel.is_open:
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

        Signal handlers only set the stop flag, and neither a channel the broker closes nor
        a consumer it cancels raises in pika: process_data_events just returns, at the
        latest every CHECK_EVERY seconds, and the loop looks again.
        """
        while True:
            if self.channel.is_closed:  # e.g. a task held past the broker's consumer_timeout
                return Ending.CHANNEL_CLOSED
            if not self.channel.consumer_tags:
                return Ending.CANCELLED
            if self.stop.is_set():  # the channel is open, the consumer active: cancel it
                return Ending.STOPPED
            self.connection.process_data_events(time_limit=CHECK_EVERY)

    def _on_message(self, channel, method, properties, body: bytes) -> None:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            where = dead_letter_queue(self.settings.queue)
            logger.warning(" [!] set aside a message that is not UTF-8 in %s", where)
            set_aside(channel, self.settings.queue, method, properties, body, "body is not UTF-8")
            return
        row = (properties.headers or {}).get("row", "?")
        seconds = work_seconds(text, self.settings.per_dot)
        delivery = Delivery(self, method, properties, body, text, row, seconds)
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
        note = "redelivered" if delivery.method.redelivered else ""
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
        action = settle(result.outcome, self.channel.is_open, delivery.method.redelivered)
        if action is Settle.ACK:
            self.channel.basic_ack(delivery_tag=delivery.method.delivery_tag)
            self.rows_done.add(delivery.row)
            seconds = time.monotonic() - delivery.started
            logger.info(delivery.unsaid + done_line(delivery.row, self.settings.name, seconds))
        elif action is Settle.RETRY:
            logger.warning(
                " [!] row %s failed (%r); back to the queue for one more try",
                delivery.row,
                result.error,
            )
            self.channel.basic_nack(delivery_tag=delivery.method.delivery_tag, requeue=True)
        elif action is Settle.SET_ASIDE:
            self._set_aside(delivery, result.error)

    def _set_aside(self, delivery: Delivery, error: Exception | None) -> None:
        where = dead_letter_queue(self.settings.queue)
        logger.warning(" [!] row %s failed again (%r); set aside in %s", delivery.row, error, where)
        reason = f"failed on redelivery: {error!r}"
        set_aside(
            self.channel,
            self.settings.queue,
            delivery.method,
            delivery.properties,
            delivery.body,
            reason,
        )


# --- around it: reconnecting, and the work thread ------------------------------------------


class Worker:
    """Runs a Consumer, and a new one on a new connection whenever the last one was lost."""

    def __init__(
        self, params: list[pika.URLParameters], settings: Settings, stop: GracefulStop
    ) -> None:
        self.params, self.settings, self.stop = params, settings, stop.requested
        self.rows_done = RowRuns()
        self.work_queue: queue.SimpleQueue[Delivery] = queue.SimpleQueue()

    def run(self) -> None:
        """Connect (failing fast at start-up), then consume and reconnect until stopped."""
        connection, node = connect_in_turn(self.params)  # unreachable at start-up: an error
        threading.Thread(target=self._work_loop, name="work", daemon=True).start()
        while True:
            ending = self._consume_on(connection)
            if ending is Ending.STOPPED:
                return
            connected = self._reconnect(after=node)
            if connected is None:
                return
            connection, node = connected

    def _consume_on(self, connection: pika.BlockingConnection) -> Ending | None:
        """Run a Consumer on the connection, then close it; None when the connection was lost."""
        consumer = None
        try:
            consumer = Consumer(
                connection, self.settings, self.stop, self.work_queue, self.rows_done
            )
            ending = consumer.run()
        except pika.exceptions.AMQPConnectionError as error:
            logger.warning(" [!] worker %s lost its connection: %r", self.settings.name, error)
            return None
        finally:
            if consumer is not None:
                consumer.open = False
            if connection.is_open:  # the one place a connection is closed
                connection.close()
        if ending is not Ending.STOPPED:
            message = ending.value.format(queue=self.settings.queue)
            logger.warning(" [!] worker %s: %s; starting over", self.settings.name, message)
        return ending

    def _reconnect(self, after: int) -> tuple[pika.BlockingConnection, int] | None:
        """Retry with capped, jittered backoff until connected, or None once a stop is asked."""
        failures = 0
        while True:
            failures += 1
            delay = min(BACKOFF_CAP, BACKOFF_FIRST * 2 ** (failures - 1))
            delay *= random.uniform(0.5, 1.0)  # jitter: workers don't all retry at once
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
            args.queue, args.queue_type, args.name, args.prefetch, seconds_per_dot()
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
