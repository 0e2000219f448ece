"""The tasks a v3 worker set aside in <queue>.dead-letter: list them, and put them back.

    python -m tools.dead_letters [--queue task_queue3]        list them
    python -m tools.dead_letters --requeue [ROWS|all]          move them back to the queue

Listing takes each message without acking it and gives it back as it ends: RabbitMQ then
marks it redelivered, which changes nothing else. Requeueing publishes each task's copy to
its queue with publisher confirms, its failures and set-aside headers removed (a fresh
start: --retries tries again), and acks the set-aside one only once the broker has confirmed
the copy: nothing is lost, and a crash in between leaves at most a duplicate.
"""

from __future__ import annotations

import argparse
import bisect
import sys
import time
from collections.abc import Iterator

from utils.errors import missing_module

try:
    import pika
    import pika.exceptions
except ModuleNotFoundError as missing:  # run outside the project's virtual environment
    sys.exit(missing_module(__file__, missing, run_as="-m tools.dead_letters"))

from utils.arguments import DEFAULT_QUEUE, queue_name
from utils.broker_errors import broker_error
from utils.connect import connect
from utils.console_lines import count_of, rows_named, runs_named
from utils.dead_letter import (
    FAILURES,
    SET_ASIDE_REASON,
    dead_letter_queue,
    persistent_copy,
    put_back_headers,
)
from utils.errors import ExitCode, ScriptError, SettingsError
from utils.parameters import connection_parameters
from utils.queues import messages_ready
from utils.signals import raise_keyboard_interrupt_on_stop_signals
from utils.urls import rabbitmq_url

PROG = "dead_letters"


def make_argument_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog=f"python -m tools.{PROG}",
        description="List the tasks set aside in <queue>.dead-letter, or put them back.",
        epilog=(
            "Listing gives every task back unacked: RabbitMQ marks it redelivered.\n"
            "environment: RABBITMQ_URL (default amqp://guest:guest@localhost:5672/%2F).\n"
            "exit status: 0 done, 1 a broker error or a copy refused, 2 bad usage, 130 Ctrl+C.\n"
            "examples:\n"
            "  python -m tools.dead_letters\n"
            "  python -m tools.dead_letters --requeue 3,7-9\n"
            "  python -m tools.dead_letters --queue task_queue3 --requeue all"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--url", help="AMQP URL of the broker (overrides RABBITMQ_URL)")
    parser.add_argument(
        "--queue",
        type=queue_name,
        default=DEFAULT_QUEUE,
        help=f"the work queue whose set-aside tasks to see (default {DEFAULT_QUEUE})",
    )
    parser.add_argument(
        "--requeue",
        nargs="?",
        const="all",
        type=rows_wanted,
        default=False,  # not given: list them
        metavar="ROWS|all",
        help="move these rows (3,7-9), or all (the default), back to the work queue",
    )
    return parser


def rows_wanted(text: str) -> list[range] | None:
    """--requeue: None for all, else the runs of rows of '3,7-9', lowest first, each a range
    (not a set of its rows: '1-1000000000' is two numbers, not a billion)."""
    if text == "all":
        return None
    runs: list[range] = []
    for part in text.split(","):
        first, dash, last = part.strip().partition("-")
        if not first.isdigit() or not (last if dash else first).isdigit():
            raise argparse.ArgumentTypeError(f"must be all, or rows such as 3,7-9 (got {text!r})")
        if int(last or first) < int(first):  # 9-3 would be no row at all: moved 0, silently
            raise argparse.ArgumentTypeError(f"a run of rows goes up, such as 3-9 (got {part!r})")
        runs.append(range(int(first), int(last or first) + 1))
    merged: list[range] = []
    for run in sorted(runs, key=lambda run: run.start):
        if merged and run.start <= merged[-1].stop:  # overlapping or adjacent: one run
            merged[-1] = range(merged[-1].start, max(merged[-1].stop, run.stop))
        else:
            merged.append(run)
    return merged


def wanted(row: object, runs: list[range] | None) -> bool:
    """Whether --requeue asks for `row` (a task without a row only with all)."""
    return runs is None or (isinstance(row, int) and any(row in run for run in runs))


def not_moved(runs: list[range], moved: list[object]) -> list[range]:
    """The rows of `runs` (as rows_wanted gives them) that were not moved, as runs."""
    taken = sorted({row for row in moved if isinstance(row, int)})
    left: list[range] = []
    for run in runs:
        start = run.start  # the rows of the run below it are accounted for
        for row in taken[bisect.bisect_left(taken, start) : bisect.bisect_left(taken, run.stop)]:
            if start < row:
                left.append(range(start, row))
            start = row + 1
        if start < run.stop:
            left.append(range(start, run.stop))
    return left


def set_aside(channel, queue: str) -> Iterator[tuple]:
    """(method, properties, body) of every message ready in `queue`, taken unacked, in order."""
    ready = messages_ready(channel, queue)
    for _ in range(ready or 0):
        method, properties, body = channel.basic_get(queue)
        if method is None:  # taken meanwhile by someone else
            return
        yield method, properties, body


def described(properties, body: bytes) -> str:
    """One set-aside task: row, task, failures, when and why it was set aside."""
    headers = properties.headers or {}
    try:
        task = body.decode("utf-8")
    except UnicodeDecodeError:
        task = f"{body!r} (not UTF-8)"
    when = (
        time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(properties.timestamp))
        if properties.timestamp
        else "?"
    )
    return (
        f"row {headers.get('row', '?')}: {task} | failures {headers.get(FAILURES, 0)} | "
        f"set aside {when}: {headers.get(SET_ASIDE_REASON, '?')}"
    )


def list_them(channel, queue: str) -> None:
    """Print every set-aside task; they go back, marked redelivered, when the channel closes."""
    where = dead_letter_queue(queue)
    count = 0
    for _method, properties, body in set_aside(channel, where):
        print(described(properties, body))
        count += 1
    print(
        f"{count_of(count, 'task')} set aside in {where} (listing marks them redelivered); "
        f"put them back in {queue} with --requeue [ROWS|all]"
    )


def requeue(channel, queue: str, rows: list[range] | None) -> None:
    """Move the set-aside tasks of `rows` (None: all) back to `queue`, each copy confirmed
    before its set-aside message is acked."""
    channel.confirm_delivery()
    moved: list[object] = []
    try:
        for method, properties, body in set_aside(channel, dead_letter_queue(queue)):
            row = (properties.headers or {}).get("row", "?")
            if wanted(row, rows):
                copy = persistent_copy(properties, put_back_headers(properties))
                channel.basic_publish("", queue, body, copy, mandatory=True)
                channel.basic_ack(method.delivery_tag)
                moved.append(row)
                print(f" [x] moved row {row} back to {queue}")
    except pika.exceptions.UnroutableError:
        raise ScriptError(f"no queue {queue} to move tasks back to: {said(moved)}") from None
    except pika.exceptions.NackError:
        raise ScriptError(f"the broker refused a copy to {queue}: {said(moved)}") from None
    absent = not_moved(rows, moved) if rows is not None else []
    print(f"moved {said(moved)}" + (f"; none set aside for {runs_named(absent)}" if absent else ""))


def said(moved: list[object]) -> str:
    return f"{count_of(len(moved), 'task')} back" + (f" ({rows_named(moved)})" if moved else "")


def main(argv: list[str] | None = None) -> int:
    """List or requeue the set-aside tasks; see --help."""
    raise_keyboard_interrupt_on_stop_signals()
    args = make_argument_parser().parse_args(argv)
    try:
        if args.queue.endswith(dead_letter_queue("")):
            raise SettingsError(f"give the work queue, not its dead-letter queue ({args.queue})")
        connection = connect(connection_parameters(rabbitmq_url(args.url)))
        with connection:  # what is not acked goes back to the queue as it closes
            channel = connection.channel()
            if args.requeue is not False:
                requeue(channel, args.queue, args.requeue)
            else:
                list_them(channel, args.queue)
    except pika.exceptions.AMQPError as error:
        print(f"{PROG}: error: {broker_error(error)}", file=sys.stderr)
        return ExitCode.FAILURE
    except ScriptError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return int(error.exit_code)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted: what was not moved stays set aside", file=sys.stderr)
        return ExitCode.INTERRUPTED
    return ExitCode.OK


if __name__ == "__main__":
    sys.exit(main())
