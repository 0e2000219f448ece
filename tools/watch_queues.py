"""Watch the queues live: ready and unacknowledged messages, and consumers, of every queue.

Runs `python -m tools.watch_queues`. Every --interval seconds it lists the vhost's queues
through the management HTTP API (GET /api/queues/<vhost>, on the broker's host, port
15672, as the user of the AMQP URL) and redraws one table. Ready messages and consumers
are exact and live: a passive queue_declare over AMQP answers with both at once. Unacked
messages have no such query, so they are the API's figure, which the broker samples every
collect_statistics_interval (5 s by default): the table marks them as such.
"""

from __future__ import annotations

import argparse
import datetime
import sys
import time

from utils.errors import missing_module

try:
    import pika
    import pika.exceptions
except ModuleNotFoundError as missing:  # run outside the project's virtual environment
    sys.exit(missing_module(__file__, missing, run_as="-m tools.watch_queues"))

from tools.management import Api, add_broker_arguments
from utils.arguments import ArgumentParser
from utils.broker_errors import broker_error
from utils.connect import connect
from utils.errors import ExitCode, ScriptError
from utils.parameters import connection_parameters
from utils.platforms import ansi_escapes_work
from utils.urls import rabbitmq_url

PROG = "watch_queues"
CLEAR_SCREEN = "\033[H\033[2J"
COLUMNS = ("name", "messages_ready", "messages_unacknowledged", "consumers")


def make_argument_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = ArgumentParser(
        prog=f"python -m tools.{PROG}",
        description=(
            "Show each queue's ready and unacknowledged messages and its consumers: ready\n"
            "and consumers live over AMQP, unacked from RabbitMQ's management HTTP API."
        ),
        epilog=(
            "environment: RABBITMQ_URL (default amqp://guest:guest@localhost:5672/%2F): the\n"
            "  API is asked on that host, port 15672, about that vhost, as that user.\n"
            "Ready messages and consumers are read live over AMQP (a passive queue_declare).\n"
            "Unacked messages come from the API, which the broker samples every\n"
            "collect_statistics_interval (5000 ms by default): they may lag up to about 5 s.\n"
            "To sample more often, put in rabbitmq.conf:\n"
            "  collect_statistics_interval = 500\n"
            "and restart the broker.\n"
            "exit status: 0 stopped with Ctrl+C (or --once done), 1 the API failed, 2 bad usage.\n"
            "examples:\n"
            "  python -m tools.watch_queues\n"
            "  python -m tools.watch_queues --once"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--interval",
        type=positive_seconds,
        default=1.0,
        help="seconds between two refreshes (default 1)",
    )
    parser.add_argument("--once", action="store_true", help="print the table once and exit")
    add_broker_arguments(parser)
    return parser


def positive_seconds(raw: str) -> float:
    """--interval: a number of seconds above 0."""
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number of seconds above 0 (got {raw!r})")
    return value


def count(queue: dict, key: str) -> str:
    """A count from the API, or '-' before the broker has sampled that queue's stats."""
    value = queue.get(key)
    return "-" if value is None else str(value)


class LiveCounts:
    """Ready messages and consumers of a queue, exact, by a passive declare over AMQP."""

    def __init__(self, url: str) -> None:
        self.connection = connect(connection_parameters(url))  # BrokerError: one clear line
        self.channel = self.connection.channel()

    def of(self, queue: str) -> tuple[int, int] | None:
        """(ready, consumers) now; None for a queue gone, exclusive to others, or forbidden."""
        try:
            declared = self.channel.queue_declare(queue, passive=True).method
        except pika.exceptions.ChannelClosedByBroker:
            self.channel = self.connection.channel()  # a refusal closes the channel
            return None
        return declared.message_count, declared.consumer_count

    def close(self) -> None:
        if self.connection.is_open:
            self.connection.close()


def row(queue: dict, live: LiveCounts) -> tuple[str, str, str, str]:
    """One queue's name, ready, unacked and consumers; a sampled figure ends with '*'."""
    unacked = count(queue, "messages_unacknowledged") + "*"
    counted = live.of(queue["name"])
    if counted is None:
        ready, consumers = count(queue, "messages_ready") + "*", count(queue, "consumers") + "*"
    else:
        ready, consumers = str(counted[0]), str(counted[1])
    return queue["name"], ready, unacked, consumers


def table(api: Api, queues: list[dict], live: LiveCounts) -> list[str]:
    """The lines of one refresh: a title, then one row per queue."""
    now = datetime.datetime.now().strftime("%H:%M:%S")
    rows = [row(queue, live) for queue in sorted(queues, key=lambda queue: queue["name"])]
    header = ("queue", "ready", "unacked", "consumers")
    width = max(len(name) for name, *_ in [header, *rows])
    lines = [
        f"queues of vhost {api.vhost} at {api.host}, {now}",
        f"{header[0]:<{width}}  {header[1]:>7}  {header[2]:>8}  {header[3]:>9}",
    ]
    lines += [
        f"{name:<{width}}  {ready:>7}  {unacked:>8}  {consumers:>9}"
        for name, ready, unacked, consumers in rows
    ]
    if not rows:
        return [*lines, "(no queues)"]
    return [*lines, "* sampled by the broker (every 5 s by default); the rest is live"]


def watch(api: Api, live: LiveCounts, interval: float) -> None:
    """Redraw the table every `interval` seconds until Ctrl+C (a new table each time if piped,
    or where the console takes no escapes)."""
    on_terminal = sys.stdout.isatty() and ansi_escapes_work()
    while True:
        lines = table(api, api.queues(COLUMNS), live)
        print((CLEAR_SCREEN if on_terminal else "") + "\n".join(lines), flush=True)
        if not on_terminal:
            print(flush=True)
        time.sleep(interval)


def main(argv: list[str] | None = None) -> int:
    """Print the queues once, or watch them until Ctrl+C; see --help."""
    args = make_argument_parser().parse_args(argv)
    live = None
    try:
        url = rabbitmq_url(args.url)
        api = Api.from_url(url, args.management_port)
        queues = api.queues(COLUMNS)  # the API first: it says why it cannot be reached
        live = LiveCounts(url)
        if args.once:
            print("\n".join(table(api, queues, live)))
        else:
            watch(api, live, args.interval)
    except pika.exceptions.AMQPError as error:
        print(f"{PROG}: error: {broker_error(error)}", file=sys.stderr)
        return ExitCode.FAILURE
    except ScriptError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return int(error.exit_code)
    except KeyboardInterrupt:
        print()
    finally:
        if live is not None:
            live.close()
    return ExitCode.OK


if __name__ == "__main__":
    sys.exit(main())
