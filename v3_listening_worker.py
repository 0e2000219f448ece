"""v3 listening worker: the production version of the worker.

Takes tasks from a durable queue (task_queue3 by default) one at a time (prefetch 1,
fair dispatch), simulates SECONDS_PER_DOT seconds of work per '.', and acknowledges each
task only when it is done. Every task line names the CSV row and this worker.

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
import functools
import os
import queue
import random
import sys
import threading
import time

import pika
import pika.exceptions

from utils.arguments import add_queue_arguments
from utils.broker import (
    address,
    broker_error,
    connect_in_turn,
    connection_parameters,
    dead_letter_queue,
    queue_arguments,
    rabbitmq_url,
    set_aside,
)
from utils.console_lines import done_line, ready_line, received_line
from utils.errors import BrokerError, ExitCode, ScriptError, report
from utils.signals import GracefulStop
from utils.tasks import rows_named, seconds_per_dot, work_seconds
from utils.util_logger import setup_logger

BACKOFF_FIRST, BACKOFF_CAP = 0.5, 30.0  # seconds between reconnection attempts
CHECK_EVERY = 0.5  # seconds: how soon a waiting worker notices Ctrl+C, or that it was cut off

logger, logname = setup_logger(__file__)


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
        "dispatch; 0: no limit, plain round robin, to compare)",
    )
    return parser


def prefetch_count(text: str) -> int:
    """argparse type for --prefetch: a whole number, 0 or more."""
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"must be a whole number, 0 or more (got {text!r})")
    return int(text)


class Delivery:
    """One message in hand: what the work thread needs, and where to ack it."""

    def __init__(self, connection, channel, method, properties, body: bytes, text: str) -> None:
        self.connection, self.channel, self.method = connection, channel, method
        self.properties, self.body, self.text = properties, body, text
        self.row = (properties.headers or {}).get("row", "?")
        self.started = time.monotonic()


class ConsumingEnded(Exception):
    """The broker ended this worker's consuming while its connection stayed open."""


class Worker:
    """Consumes tasks, reconnecting when the connection drops, until asked to stop."""

    def __init__(self, args: argparse.Namespace, per_dot: float, stop: GracefulStop) -> None:
        self.params = connection_parameters(rabbitmq_url(args.url))
        self.queue, self.queue_type, self.name = args.queue, args.queue_type, args.name
        self.prefetch = args.prefetch
        self.per_dot = per_dot
        self.stop = stop
        self.rows_done: list[object] = []
        self.in_hand: set[Delivery] = set()  # delivered, not yet done (touched by I/O thread only)
        self.ended_by_broker = ""  # why the broker stopped our consuming, once it has
        self.work_queue: queue.SimpleQueue[Delivery] = queue.SimpleQueue()
        threading.Thread(target=self._work_loop, name="work", daemon=True).start()

    # --- the I/O thread: connection, consumption, acks --------------------------------

    def run(self) -> None:
        """Connect (failing fast at start-up), then consume and reconnect until stopped."""
        # an unreachable broker at start-up is an error; afterwards we reconnect
        connected = connect_in_turn(self.params)
        while connected is not None:
            connection, node = connected
            try:
                self._consume(connection)
                return
            except pika.exceptions.AMQPConnectionError as error:
                logger.warning(" [!] worker %s lost its connection: %r", self.name, error)
            except ConsumingEnded as ended:
                logger.warning(" [!] worker %s: %s; starting over", self.name, ended)
            connected = self._reconnect(after=node)

    def _reconnect(self, after: int) -> tuple[pika.BlockingConnection, int] | None:
        """Retry with capped, jittered backoff until connected, or None once a stop is asked."""
        failures = 0
        while True:
            failures += 1
            delay = min(BACKOFF_CAP, BACKOFF_FIRST * 2 ** (failures - 1))
            delay *= random.uniform(0.5, 1.0)  # jitter: workers don't all retry at once
            logger.warning(" [!] reconnecting in %.1f s (attempt %d)", delay, failures)
            if self.stop.requested.wait(delay):
                return None
            try:
                # with several brokers, start with the one after the broker that failed
                connection, node = connect_in_turn(self.params, start=after + 1)
            except BrokerError as error:
                logger.warning(" [!] %s", error)
                continue
            logger.info(" [*] worker %s reconnected to %s", self.name, address(self.params[node]))
            return connection, node

    def _consume(self, connection: pika.BlockingConnection) -> None:
        """Consume on one connection until a stop is asked and the task in hand is done."""
        try:
            channel = connection.channel()
            channel.queue_declare(
                queue=self.queue,
                durable=True,
                arguments=queue_arguments(self.queue_type),
            )
            # fair dispatch: with prefetch 1 the broker gives this worker a new task only
            # after it has acked the last one
            channel.basic_qos(prefetch_count=self.prefetch)
            tag = channel.basic_consume(
                queue=self.queue,
                on_message_callback=functools.partial(self._on_message, connection),
            )
            logger.info(ready_line(self.name, self.queue))
            # Signal handlers only set a flag; this loop notices it between events, and a
            # timer makes one at least every CHECK_EVERY seconds. (One timer for the whole
            # connection: process_data_events(time_limit=...) would make one per task.)
            self.ended_by_broker = ""
            self._check_every(CHECK_EVERY, connection, channel)
            while not self.stop.requested.is_set():
                connection.process_data_events(time_limit=None)
                if self.ended_by_broker:
                    raise ConsumingEnded(self.ended_by_broker)
            channel.basic_cancel(tag)  # take no new task, then finish the one in hand
            while self.in_hand and channel.is_open:
                connection.process_data_events(time_limit=0.5)
        finally:
            self.in_hand.clear()  # unacked on a closed connection: the broker requeues them
            if connection.is_open:
                connection.close()

    def _check_every(self, seconds: float, connection: pika.BlockingConnection, channel) -> None:
        """Note whether the broker still lets us consume, then again in `seconds`.

        Neither a channel the broker closes nor a consumer it cancels raises in pika:
        process_data_events just returns, and the worker would wait for tasks that never
        come. The timer re-arms itself and ends with the connection's I/O loop.
        """
        if channel.is_closed:  # e.g. a task held longer than the broker's consumer_timeout
            self.ended_by_broker = "the broker closed the channel (see its log for why)"
        elif not channel.consumer_tags:
            self.ended_by_broker = f"the broker cancelled consuming: was {self.queue} deleted?"
        connection.call_later(seconds, lambda: self._check_every(seconds, connection, channel))

    def _on_message(self, connection, channel, method, properties, body: bytes) -> None:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            logger.warning(
                " [!] set aside a message that is not UTF-8 in %s",
                dead_letter_queue(self.queue),
            )
            set_aside(channel, self.queue, method, properties, body, "body is not UTF-8")
            return
        delivery = Delivery(connection, channel, method, properties, body, text)
        if not self.in_hand and work_seconds(text, self.per_dot) == 0:
            # No work cannot block heartbeats; handing it to the work thread would only
            # cost two thread switches (half the throughput: see bench/README.md).
            self._finish_at_once(delivery)
        else:
            self.in_hand.add(delivery)
            self.work_queue.put(delivery)

    def _finish_at_once(self, delivery: Delivery) -> None:
        """On the I/O thread: a task with no work. Ack it, then log both of its lines."""
        if self.stop.requested.is_set():
            return  # arrived as we were stopping: unacked, so requeued when we close
        received = self._received_line(delivery)
        # the ack goes out first: the broker sends the next task while we write the lines
        delivery.channel.basic_ack(delivery_tag=delivery.method.delivery_tag)
        self.rows_done.append(delivery.row)
        logger.info(received + "\n" + self._done_line(delivery))

    def _received_line(self, delivery: Delivery) -> str:
        """The line that marks the start of a task's work (stamped with the time now)."""
        note = "redelivered" if delivery.method.redelivered else ""
        return received_line(delivery.row, self.name, time.time(), delivery.text, note)

    def _done_line(self, delivery: Delivery) -> str:
        return done_line(delivery.row, self.name, time.monotonic() - delivery.started)

    def _on_work_finished(self, delivery: Delivery, result: bool | Exception) -> None:
        """Back on the I/O thread: acknowledge a task whose work is done."""
        if delivery not in self.in_hand:
            return  # the connection dropped meanwhile: the broker has requeued the task
        self.in_hand.discard(delivery)
        if not delivery.channel.is_open:
            return  # the channel closed meanwhile: the broker has requeued the task
        if result is False:
            return  # skipped because we are stopping: unacked, so requeued when we close
        if isinstance(result, Exception):
            self._on_work_failed(delivery, result)
            return
        delivery.channel.basic_ack(delivery_tag=delivery.method.delivery_tag)
        self.rows_done.append(delivery.row)
        logger.info(self._done_line(delivery))

    def _on_work_failed(self, delivery: Delivery, error: Exception) -> None:
        """A failed task gets one more try; failing again (redelivered), it is set aside."""
        tag = delivery.method.delivery_tag
        if not delivery.method.redelivered:
            logger.warning(
                " [!] row %s failed (%r); back to the queue for one more try", delivery.row, error
            )
            delivery.channel.basic_nack(delivery_tag=tag, requeue=True)
            return
        logger.warning(
            " [!] row %s failed again (%r); set aside in %s",
            delivery.row,
            error,
            dead_letter_queue(self.queue),
        )
        set_aside(
            delivery.channel,
            self.queue,
            delivery.method,
            delivery.properties,
            delivery.body,
            f"failed on redelivery: {error!r}",
        )

    # --- the work thread: the task itself, off the I/O thread ------------------------------

    def _work_loop(self) -> None:
        while True:
            delivery = self.work_queue.get()
            result = self._work(delivery)
            # if that connection is gone, the broker has requeued the task: nothing to ack
            with contextlib.suppress(pika.exceptions.ConnectionWrongStateError):
                delivery.connection.add_callback_threadsafe(
                    functools.partial(self._on_work_finished, delivery, result)
                )

    def _work(self, delivery: Delivery) -> bool | Exception:
        """Do the task: True when done, False when skipped, the error when the work failed."""
        if self.stop.requested.is_set():
            return False  # prefetched but not started: it goes back to the queue
        # "Received" marks the start of the work (with --prefetch 0, tasks wait here first)
        delivery.started = time.monotonic()
        logger.info(self._received_line(delivery))
        try:
            seconds = work_seconds(delivery.text, self.per_dot)
            if seconds:  # sleep(0) would hand the GIL to the I/O thread for nothing
                time.sleep(seconds)
        except Exception as error:  # noqa: BLE001 - a failed task must not kill the worker
            return error
        return True


def main(argv: list[str] | None = None) -> int:
    """Run one worker until SIGINT or SIGTERM."""
    args = make_argument_parser().parse_args(argv)
    stop = GracefulStop()
    stop.install()
    worker = None
    try:
        worker = Worker(args, seconds_per_dot(), stop)
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
        logger.info(
            " [*] worker %s did %d tasks: %s",
            args.name,
            len(worker.rows_done),
            rows_named(worker.rows_done),
        )
    return ExitCode.OK


if __name__ == "__main__":
    sys.exit(main())
