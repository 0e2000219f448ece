"""v3 listening worker: the production version of the worker (docs/worker.md).

Takes tasks from a durable queue (task_queue3 by default) one at a time (prefetch 1: fair
dispatch) and acks each once work(task, seconds) is done. Pika's I/O loop (the main thread)
hands each delivery to one work thread, which says Received and works while the loop answers
heartbeats, then hands it back with add_callback_threadsafe (the hand-back of pika's
examples/basic_consumer_threaded.py, which starts a thread per delivery instead) to
finish(), where every delivery ends: acked when done; when the work raised anything (or the
body is not UTF-8), acked once the broker confirms its copy (a retry counted in
"x-failures", or a set-aside in <queue>.dead-letter); a copy refused is published again with
backoff while the task is held. After start-up no broker event ends it: a lost connection or
a closed channel starts consuming again, the next URL first; the first Ctrl+C finishes the
task in hand, a second stops now. Your own work:
`import v3_listening_worker as w; sys.exit(w.main(work=mine))`.
"""

from __future__ import annotations

import argparse
import collections
import enum
import functools
import itertools
import logging
import os
import queue
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from utils.errors import BrokerError, ExitCode, ScriptError, missing_module, report

try:
    import pika
    import pika.exceptions
except ModuleNotFoundError as missing:  # run outside the project's virtual environment
    sys.exit(missing_module(__file__, missing))

from utils.alarms import say_when_blocked
from utils.arguments import ArgumentParser, add_queue_arguments, up_to
from utils.broker_errors import broker_error, why_closed
from utils.connect import backoff, closed_at_the_end, connect_in_turn
from utils.console_lines import (
    RowRuns,
    done_line,
    ready_line,
    received_line,
    received_note,
    try_of,
)
from utils.dead_letter import (
    FAILURES,
    dead_letter_queue,
    not_a_dead_letter_queue,
    persistent_copy,
    set_aside_headers,
    side_channel,
)
from utils.parameters import connection_parameters
from utils.queues import queue_arguments, use_queue_as_it_is
from utils.signals import GracefulStop, wait_or_stop
from utils.tasks import seconds_per_dot, work_seconds
from utils.urls import address, rabbitmq_url
from utils.util_logger import setup_logger

BACKOFF_CAP = 30.0  # seconds: the longest wait between two reconnection attempts
CHECK_EVERY = 0.5  # seconds: how soon a waiting worker notices a stop, or that it was cut off
MOST_UNACKED = 65535  # prefetch_count is a 16-bit field in AMQP
DEFAULT_RETRIES, MOST_RETRIES = 1, 1000  # --retries: tries of a failing task after its first

# what the summary's "(twice: 4, 7)" means: not the same task done twice, as a rule
REPEATED_ROWS = (
    "; a row number done more than once is, as a rule, a task of another emitter run (each run "
    "numbers its rows from its CSV's lines), else the same task given again (marked redelivered)"
)
LATE_AFTER = 60.0  # seconds past its expected time before work is said to run late, then doubled

STOPPING = " [*] worker %s %s: stopping after row %s (about %.0f s left); Ctrl+C again to stop now"
STOPPING_LATE = (
    " [*] worker %s %s: stopping after row %s, whose work has run %.0f s, past its expected "
    "%.0f s; Ctrl+C again to stop now"
)
STOPPING_HELD = " [*] worker %s %s: stopping; row %s, its copy refused, goes back to %s"
STOPPING_COPY = (
    " [*] worker %s %s: stopping once RabbitMQ takes row %s's copy (it blocks publishers); "
    "Ctrl+C again to stop now (the task goes back to %s)"
)
HELD = (
    " [!] worker %s holds row %s: %s; its copy goes again in %.1f s (refusal %d), no new task "
    "meanwhile"
)
TAKEN = " [*] worker %s: row %s's copy taken; going on"
TWICE = (
    " [!] worker %s: row %s went back to its queue before its copy was confirmed: it will be "
    "tried twice"
)
LATE = " [!] worker %s: row %s still working after %.0f s (expected %.0f s)"
DROPPED = (
    " [!] worker %s: row %s's result is dropped: the broker took the task back when the "
    "channel closed, and gives it again"
)
NO_FAIR = " [*] worker %s: --prefetch 0, no fair dispatch: tasks may wait here while others idle"

logger = logging.getLogger(Path(__file__).stem)  # its handlers: setup_logger, in main()


def work(task: str, seconds: float) -> None:
    """A task's work: a sleep of its dots times SECONDS_PER_DOT, none for none. Raising fails it."""
    if seconds:  # time.sleep(0) is no free no-op: a system call that yields the CPU
        time.sleep(seconds)


def make_argument_parser() -> argparse.ArgumentParser:
    """The command line: every option, with the environment variable it overrides."""
    parser = ArgumentParser(
        description="Take tasks from a durable RabbitMQ queue, one at a time, until Ctrl+C.",
        epilog=(
            "environment: RABBITMQ_URL (default amqp://guest:guest@localhost:5672/%2F), "
            "SECONDS_PER_DOT (seconds of work per '.', default 1, at most 3600).\n"
            "example: start three in three terminals, then run v3_emitter_of_tasks.py:\n"
            "  python v3_listening_worker.py --name 1"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_queue_arguments(parser, queue_help="queue to take tasks from")
    parser.add_argument(
        "--name", default=str(os.getpid()), help="how this worker names itself (default its pid)"
    )
    prefetch_help = "unacked tasks the broker may hand this worker at once (default 1: fair "
    prefetch_help += f"dispatch; 0: no limit, plain round robin; at most {MOST_UNACKED})"
    parser.add_argument("--prefetch", type=up_to(MOST_UNACKED), default=1, help=prefetch_help)
    retries_help = f"more tries of a task whose work raises (default {DEFAULT_RETRIES}; at most "
    retries_help += f"{MOST_RETRIES}), each at the back of the queue, before <queue>.dead-letter"
    parser.add_argument(
        "--retries", type=up_to(MOST_RETRIES), default=DEFAULT_RETRIES, help=retries_help
    )
    return parser


class Settings(NamedTuple):  # not a frozen dataclass: ten times cheaper to make at start-up
    """What a worker is told: its queue, its name, its prefetch, its work and its retries."""

    queue: str
    queue_type: str | None  # None: the vhost's default
    name: str
    prefetch: int
    per_dot: float
    retries: int
    work: Callable[[str, float], None]


@dataclass
class Delivery:
    """One message in hand, from its delivery to its ack: its task, and what became of it."""

    consumer: Consumer  # the connection it came on: only that one can settle it
    method: pika.spec.Basic.Deliver
    properties: pika.BasicProperties
    body: bytes
    text: str | None  # None: the body is not UTF-8 text
    seconds: float  # of work
    row: object  # the CSV row, from the message's "row" header
    failures: int  # how many times its work failed before
    started: float = 0.0  # time.monotonic() when its work started
    error: str = ""  # why it failed, if it did
    late_after: float = LATE_AFTER  # seconds past its expected time of the next "still working"


def failures_of(headers: dict | None) -> int:
    """How many times a task's work failed before: its "x-failures" header, else 0."""
    failures = (headers or {}).get(FAILURES, 0)
    return failures if isinstance(failures, int) and failures > 0 else 0


def copy_of(delivery: Delivery, settings: Settings) -> tuple[str, dict, str]:
    """A failed delivery's copy: where it goes (a retry, or a set-aside), its headers, the line."""
    queue_name, where = settings.queue, dead_letter_queue(settings.queue)
    if delivery.text is None:  # no try can read it: set aside at once
        headers = set_aside_headers(delivery.properties, queue_name, delivery.error)
        return where, headers, f"set aside a message that is not UTF-8 in {where}"
    failures = delivery.failures + 1
    failed = f"row {delivery.row} failed on {try_of(failures, settings.retries)} ({delivery.error})"
    if failures <= settings.retries:
        said = f"{failed}; back to the end of {queue_name} for try {failures + 1}"
        return queue_name, {**(delivery.properties.headers or {}), FAILURES: failures}, said
    reason = f"work failed on {try_of(failures, settings.retries)}: {delivery.error}"
    headers = {**set_aside_headers(delivery.properties, queue_name, reason), FAILURES: failures}
    return where, headers, f"{failed}; set aside in {where}"


def named(error: BaseException) -> str:
    """An error as a failed task's reason: its repr, or its type if even that fails."""
    try:
        return repr(error)
    except Exception:  # noqa: BLE001 - the user's __repr__ may raise too
        return f"{type(error).__name__} (whose repr failed)"


class WorkThread:
    """Does the work of one delivery at a time, then hands it back to its consumer."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.deliveries: queue.SimpleQueue[Delivery] = queue.SimpleQueue()
        self.died = ""  # why the thread ended, if it did: the worker cannot go on then
        threading.Thread(target=self._run, name="work", daemon=True).start()

    def start(self, delivery: Delivery) -> None:
        """From the I/O thread: work on `delivery` next."""
        self.deliveries.put(delivery)

    def _run(self) -> None:
        """The thread: work on each delivery in turn; if that ever ends, say why (the I/O
        thread sees `died` and stops the worker, and its task goes back to the queue)."""
        try:
            self._loop()
        except BaseException as error:  # noqa: BLE001 - nothing may end this thread silently
            self.died = named(error)

    def _loop(self) -> None:
        while True:
            delivery = self.deliveries.get()
            if delivery.consumer.open:  # else the broker has given it back to the queue
                self._work_on(delivery)
                delivery.consumer.finish_threadsafe(delivery)

    def _work_on(self, delivery: Delivery) -> None:
        """Say Received, then do the work; whatever it raises is the delivery's error."""
        if delivery.text is None:
            delivery.error = "body is not UTF-8"
            return
        note = received_note(delivery.method.redelivered, delivery.failures, self.settings.retries)
        delivery.started = time.monotonic()
        said = received_line(delivery.row, self.settings.name, time.time(), delivery.text, note)
        logger.info(said)
        try:
            self.settings.work(delivery.text, delivery.seconds)
        except BaseException as error:  # noqa: BLE001 - SystemExit too: the task failed, not us
            delivery.error = named(error)


class Ending(enum.Enum):
    """Why a Consumer stopped consuming on a connection that is still open."""

    STOPPED = "asked to stop"
    CHANNEL_CLOSED = "the broker closed the channel: {why}"
    CANCELLED = "the broker cancelled consuming: was {queue} deleted?"
    WORK_THREAD_DIED = "its work thread died ({why})"


class Consumer:
    """Consumes on one connection until a stop is asked or the broker ends consuming."""

    def __init__(
        self, connection, settings: Settings, stop: GracefulStop, work: WorkThread, rows: RowRuns
    ) -> None:
        self.connection, self.settings, self.stop = connection, settings, stop
        self.work_thread, self.rows_done = work, rows
        self.channel: Any = None  # the consuming channel, opened by run()
        self.copies: Any = None  # the confirm-mode channel of the copies, opened for the first
        self.blocked = say_when_blocked(connection, logger, on_blocked=self._say_holding)
        self.open = True  # False once the connection is gone
        self.ready = False  # True once consuming: from then on, no broker event ends the worker
        self.waiting: collections.deque[Delivery] = collections.deque()  # with --prefetch > 1
        self.in_work: Delivery | None = None
        self.held: Delivery | None = None  # a failed delivery whose copy the broker refused
        self.copying: Delivery | None = None  # a failed delivery whose copy awaits its confirm
        self.said_stopping = False

    def run(self) -> Ending:
        """Consume until asked to stop (then finish the task in hand) or cut off by the broker."""
        self.channel = self.connection.channel()
        self._declare(self.settings.queue)
        # fair dispatch: with prefetch 1 the broker sends a new task once the last one is acked
        self.channel.basic_qos(prefetch_count=self.settings.prefetch)
        tag = self.channel.basic_consume(self.settings.queue, on_message_callback=self._on_message)
        self.ready = True
        logger.info(ready_line(self.settings.name, self.settings.queue))
        ending = self._wait_for_ending()
        if ending is Ending.STOPPED:
            self.channel.basic_cancel(tag)  # no new task; the tasks waiting go back at close
            while self.in_work is not None and self.channel.is_open and not self._died():
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

        process_data_events returns once pika has something to hand over: from the broker a
        delivery, a cancel or a closed channel; from the work thread a task handed back. A
        stop signal is not one (its handler only sets a flag, and pika's wait goes on), nor
        a work thread that died: for those a timer wakes the loop every CHECK_EVERY seconds
        (one timer, not one a task), and it looks again."""
        self._look_every(CHECK_EVERY)
        while True:
            if self.channel.is_closed:  # e.g. a task held past the broker's consumer_timeout
                return Ending.CHANNEL_CLOSED
            if not self.channel.consumer_tags:
                return Ending.CANCELLED
            if self._died():
                return Ending.WORK_THREAD_DIED
            if self.stop.requested.is_set():
                self._say_stopping()
                return Ending.STOPPED
            self.connection.process_data_events(time_limit=None)

    def _look_every(self, seconds: float) -> None:
        """On pika's I/O thread, every `seconds` until the connection closes: say if the work
        in hand runs late, and make process_data_events return, so that its caller looks."""
        self._say_if_late()
        self.connection.call_later(seconds, functools.partial(self._look_every, seconds))

    def _died(self) -> bool:
        return bool(self.work_thread.died)

    def _say_if_late(self) -> None:
        """Say when the work in hand runs LATE_AFTER past its expected time, then at doubling
        intervals: only the work can end it, or the broker's consumer_timeout take it back."""
        delivery = self.in_work
        if delivery is None or not delivery.started:
            return
        spent = time.monotonic() - delivery.started
        if spent - delivery.seconds >= delivery.late_after:
            delivery.late_after *= 2
            logger.warning(LATE, self.settings.name, delivery.row, spent, delivery.seconds)

    def _say_stopping(self) -> None:
        """Say once, as soon as it is seen, that a stop was asked, and what it waits for."""
        if self.said_stopping:
            return
        self.said_stopping = True
        name, cause = self.settings.name, self.stop.cause()
        held, delivery, copying = self.held, self.in_work, self.copying
        if held is not None:
            logger.info(STOPPING_HELD, name, cause, held.row, self.settings.queue)
        elif copying is not None:
            logger.info(STOPPING_COPY, name, cause, copying.row, self.settings.queue)
        elif delivery is not None:
            spent = time.monotonic() - delivery.started if delivery.started else 0.0
            if spent > delivery.seconds + 1:  # past its expected time: no time "left" to say
                logger.info(STOPPING_LATE, name, cause, delivery.row, spent, delivery.seconds)
            else:
                logger.info(STOPPING, name, cause, delivery.row, delivery.seconds - spent)

    def _on_message(self, _channel, method, properties, body: bytes) -> None:
        try:
            text: str | None = body.decode("utf-8")
        except UnicodeDecodeError:
            text = None  # set aside once it comes back from the work thread
        seconds = work_seconds(text or "", self.settings.per_dot)
        row, failures = (properties.headers or {}).get("row", "?"), failures_of(properties.headers)
        self.waiting.append(Delivery(self, method, properties, body, text, seconds, row, failures))
        self._start_next()

    def _start_next(self) -> None:
        """Hand the work thread the next delivery, unless it has one, a copy is held, or a
        stop was asked."""
        free = self.in_work is None and self.held is None
        if free and self.waiting and not self.stop.requested.is_set():
            self.in_work = self.waiting.popleft()
            self.work_thread.start(self.in_work)

    def finish_threadsafe(self, delivery: Delivery) -> None:
        """From the work thread: finish on the I/O thread. With the connection gone, the
        broker has given the task back: its result is dropped."""
        try:
            self.connection.add_callback_threadsafe(functools.partial(self.finish, delivery))
        except pika.exceptions.ConnectionWrongStateError:
            logger.warning(DROPPED, self.settings.name, delivery.row)

    def finish(self, delivery: Delivery) -> None:
        """On the I/O thread: every delivery ends here, acked or given back, then the next."""
        self.in_work = None
        if not self.channel.is_open:  # the broker has requeued it, and the tasks waiting
            logger.warning(DROPPED, self.settings.name, delivery.row)
            return
        if not delivery.error:
            self._ack(delivery)
            self.rows_done.add(delivery.row)
            seconds = time.monotonic() - delivery.started
            logger.info(done_line(delivery.row, self.settings.name, seconds))
            self._start_next()
        else:
            self._copy_then_ack(delivery, *copy_of(delivery, self.settings))

    def _ack(self, delivery: Delivery) -> None:
        """The one place a delivery is acked: its work done, or its copy in the broker's hands."""
        self.channel.basic_ack(delivery_tag=delivery.method.delivery_tag)

    def _copy_then_ack(
        self, delivery: Delivery, routing_key: str, headers: dict, said: str, refusals: int = 0
    ) -> None:
        """Ack a failed delivery once the broker has confirmed its copy (`said` then, not
        before: a copy refused is not yet a retry nor a set-aside), then take the next.
        While RabbitMQ blocks publishers the worker waits for the confirm (_say_holding); a
        copy the broker refuses is published again after a capped backoff, the task held
        meanwhile (no new one taken); a lost connection gives it back to the queue."""
        self.held = None
        if not self.channel.is_open:  # the broker took the task back meanwhile
            return
        self.copying = delivery
        try:
            why = self._publish_copy(delivery, routing_key, headers)
        finally:
            self.copying = None
        if why is None:
            logger.warning(" [!] %s", said)
        if why is None and not self.channel.is_open:
            logger.warning(TWICE, self.settings.name, delivery.row)
        elif why is None:
            self._ack(delivery)
            if refusals:
                logger.info(TAKEN, self.settings.name, delivery.row)
            self._start_next()
        else:
            self.held, refusals = delivery, refusals + 1
            delay = backoff(refusals, BACKOFF_CAP)
            if refusals & (refusals - 1) == 0:  # refusals 1, 2, 4, 8...: said less and less often
                logger.warning(HELD, self.settings.name, delivery.row, why, delay, refusals)
            again = functools.partial(
                self._copy_then_ack, delivery, routing_key, headers, said, refusals
            )
            self.connection.call_later(delay, again)

    def _publish_copy(self, delivery: Delivery, routing_key: str, headers: dict) -> str | None:
        """Publish a failed delivery's copy, confirmed: None once the broker has it, else why
        it refused (its channel is closed then: the next copy declares its queue anew)."""
        properties = persistent_copy(delivery.properties, headers)
        try:
            if self.copies is None:  # confirm mode, <queue>.dead-letter declared
                self.copies = side_channel(self.connection, self.settings.queue)
            self.copies.basic_publish("", routing_key, delivery.body, properties, mandatory=True)
            return None
        except pika.exceptions.UnroutableError:
            why = f"the broker could not route its copy: no queue {routing_key}"
        except pika.exceptions.NackError:
            why = f"the broker refused its copy to {routing_key} (a nack)"
        except pika.exceptions.AMQPChannelError as error:  # such as a 403 on the copy
            why = str(broker_error(error))
        except BrokerError as error:  # a dead-letter queue that this user may not create
            why = str(error)
        if self.copies is not None and self.copies.is_open:
            self.copies.close()
        self.copies = None
        return why

    def _say_holding(self) -> None:
        """Called as RabbitMQ blocks the connection, within the publish of a copy."""
        holding = " [!] worker %s holds a task until RabbitMQ takes its copy; no new task meanwhile"
        logger.warning(holding, self.settings.name)
        self.blocked.while_blocked(CHECK_EVERY, self._say_if_stop_asked)

    def _say_if_stop_asked(self) -> None:
        if self.stop.requested.is_set():
            self._say_stopping()


class Worker:
    """Runs a Consumer, and a new one on a new connection whenever the last one ended."""

    def __init__(self, params: list, settings: Settings, stop: GracefulStop) -> None:
        self.params, self.settings, self.stop = params, settings, stop
        self.rows_done = RowRuns()
        self.work_thread = WorkThread(settings)
        self.started = False  # once consuming: from then on no broker event ends the worker

    def run(self) -> None:
        """Connect (failing fast at start-up), then consume and reconnect until stopped."""
        connected = self._connect(lambda: connect_in_turn(self.params))  # else: an error
        while connected is not None:
            connection, node = connected
            if self._consume_on(connection, node) is Ending.STOPPED:
                return
            connected = self._reconnect(after=node)

    def _connect(self, attempt: Callable[[], tuple]) -> tuple | None:
        """Connect as `attempt` does; None if a stop is asked meanwhile: that says so and
        stops at once (there is no connection to close yet)."""
        try:
            with self.stop.at_once():
                return attempt()
        except KeyboardInterrupt:
            logger.info(
                " [*] worker %s %s while connecting: stopped", self.settings.name, self.stop.cause()
            )
            return None

    def _consume_on(self, connection, node: int) -> Ending | None:
        """Run a Consumer on the connection, then close it; None when consuming was cut short
        (a lost connection; once started, a channel error), said in one line."""
        consumer = Consumer(connection, self.settings, self.stop, self.work_thread, self.rows_done)
        try:
            with closed_at_the_end(connection, consumer.blocked):
                ending = consumer.run()
        except pika.exceptions.AMQPConnectionError as error:
            where, name = address(self.params[node]), self.settings.name
            logger.warning(" [!] worker %s lost its connection to %s: %r", name, where, error)
            return None
        except (pika.exceptions.AMQPChannelError, BrokerError) as error:
            if not (self.started or consumer.ready):
                raise  # at start-up: a permission or a queue for the user to fix
            said = error if isinstance(error, BrokerError) else broker_error(error)
            logger.warning(" [!] worker %s: %s; starting over", self.settings.name, said)
            return None
        finally:
            consumer.open = False
            self.started = self.started or consumer.ready
        if ending is not Ending.STOPPED:
            self._say_ending(ending, consumer)
        return ending

    def _say_ending(self, ending: Ending, consumer: Consumer) -> None:
        """Say why consuming ended by itself; a dead work thread ends the worker (exit 1)."""
        if ending is Ending.CHANNEL_CLOSED:
            why = why_closed(consumer.channel) or "see the broker's log for why"
        else:
            why = self.work_thread.died
        said = ending.value.format(queue=self.settings.queue, why=why)
        in_hand = consumer.in_work or consumer.held  # held: its copy refused, not yet taken
        if in_hand is not None:
            said += f"; row {in_hand.row} went back to {self.settings.queue}"
        if ending is Ending.WORK_THREAD_DIED:
            raise ScriptError(f"worker {self.settings.name}: {said}; it cannot go on")
        logger.warning(" [!] worker %s: %s; starting over", self.settings.name, said)

    def _reconnect(self, after: int) -> tuple[pika.BlockingConnection, int] | None:
        """Retry with capped, jittered backoff until connected, or None once a stop is asked."""
        attempts = itertools.count(1)
        while True:  # a `for` over count() would need a dead return: mypy sees no endless loop
            attempt = next(attempts)
            delay = backoff(attempt, BACKOFF_CAP)
            logger.warning(" [!] reconnecting in %.1f s (attempt %d)", delay, attempt)
            if wait_or_stop(self.stop.requested, delay):
                return None
            try:  # with several brokers, the one after the broker lost first
                connected = self._connect(lambda: connect_in_turn(self.params, start=after + 1))
            except BrokerError as error:
                logger.warning(" [!] %s", error)
                continue
            if connected is None:
                return None
            node = connected[1]
            lost, now = address(self.params[after]), address(self.params[node])
            moved = "the same node" if node == after else f"moved from {lost}"
            logger.info(" [*] worker %s reconnected to %s (%s)", self.settings.name, now, moved)
            return connected


def main(argv: list[str] | None = None, work: Callable[[str, float], None] = work) -> int:
    """Run one worker, doing `work` for each task, until SIGINT or SIGTERM."""
    setup_logger(__file__)
    args = make_argument_parser().parse_args(argv)
    stop = GracefulStop()
    stop.install()
    worker = None
    try:
        params = connection_parameters(rabbitmq_url(args.url))
        queue_name = not_a_dead_letter_queue(args.queue)
        settings = Settings(
            queue=queue_name,
            queue_type=args.queue_type,
            name=args.name,
            prefetch=args.prefetch,
            per_dot=seconds_per_dot(),
            retries=args.retries,
            work=work,
        )
        if not args.prefetch:
            logger.info(NO_FAIR, args.name)
        worker = Worker(params, settings, stop)
        worker.run()
    except KeyboardInterrupt:
        logger.info(" [*] worker %s stopped at once; its task in hand goes back", args.name)
    except ScriptError as error:
        return report(logger, error)
    except pika.exceptions.AMQPError as error:
        return report(logger, broker_error(error))
    if worker is not None:
        done = worker.rows_done
        tasks = "task" if done.count == 1 else "tasks"
        repeats = REPEATED_ROWS if done.repeats else ""
        logger.info(" [*] worker %s did %d %s: %s%s", args.name, done.count, tasks, done, repeats)
    return ExitCode.OK


if __name__ == "__main__":
    sys.exit(main())
