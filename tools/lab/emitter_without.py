"""An emitter WITHOUT one of the v3 emitter's safety settings: for the lab only, never for work.

    python -m tools.lab.emitter_without confirms   [CSV] [--queue Q]
    python -m tools.lab.emitter_without persistent [CSV] [--queue Q]
    python -m tools.lab.emitter_without durable    [CSV] [--queue Q]

Not one of the six scripts. Like the v3 emitter it publishes one message per CSV row over
one connection, the row number in the header "row", and prints the same Sent line per row;
unlike it, it goes without one setting:

- confirms: no publisher confirms. basic_publish returns at once, and a row the broker
  refuses is gone without a word: the emitter believes it sent every row.
- persistent: transient messages (delivery mode 1), which a broker restart drops even from
  a durable queue.
- durable: a transient queue (durable=False), which a broker restart deletes, with every
  message in it.

Otherwise it keeps the v3 emitter's settings: persistent messages, a durable queue, and
each row confirmed (one at a time; the v3 emitter keeps a window of them in flight). Exit
status 0 when every row went out (and was confirmed, where it asks), 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pika
import pika.exceptions

from tools.lab.stand_ins import stand_in_parser
from utils.broker_errors import broker_error
from utils.connect import connect
from utils.console_lines import sent_line
from utils.errors import ExitCode, ScriptError
from utils.parameters import connection_parameters
from utils.queues import PERSISTENT
from utils.tasks import DEFAULT_TASKS_FILE, TaskFile
from utils.urls import rabbitmq_url

PROG = "emitter_without"
TRANSIENT = pika.DeliveryMode.Transient  # delivery mode 1: kept in memory only
WITHOUT = {
    "confirms": "no publisher confirms: a row the broker refuses is gone without a word",
    "persistent": "transient messages (delivery mode 1): a restart drops them",
    "durable": "a transient queue (durable=False): a restart deletes it",
}


def make_argument_parser() -> argparse.ArgumentParser:
    """The command line."""
    description = "An emitter of CSV rows, without one of the v3 emitter's safety settings."
    parser = stand_in_parser(PROG, description, WITHOUT)
    parser.add_argument("csv_file", nargs="?", default=str(DEFAULT_TASKS_FILE))
    return parser


def publish_all(channel, args: argparse.Namespace, task_file: TaskFile) -> int:
    """Publish every row; with confirms, basic_publish raises on a refused row."""
    mode = TRANSIENT if args.setting == "persistent" else PERSISTENT
    sent = 0
    for task in task_file:
        channel.basic_publish(
            exchange="",
            routing_key=args.queue,
            body=task.text.encode("utf-8"),
            properties=pika.BasicProperties(
                delivery_mode=mode, content_type="text/plain", headers={"row": task.row}
            ),
            mandatory=args.setting != "confirms",
        )
        print(sent_line(task.row, task.text), flush=True)
        sent += 1
    return sent


def main(argv: list[str] | None = None) -> int:
    """Publish the rows; see the module's docstring for what goes without what."""
    args = make_argument_parser().parse_args(argv)
    task_file = TaskFile(args.csv_file)
    try:
        connection = connect(connection_parameters(rabbitmq_url()))
    except ScriptError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return int(error.exit_code)
    try:
        channel = connection.channel()
        channel.queue_declare(queue=args.queue, durable=args.setting != "durable")
        if args.setting != "confirms":
            channel.confirm_delivery()
        sent = publish_all(channel, args, task_file)
    except ScriptError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return int(error.exit_code)
    except (pika.exceptions.NackError, pika.exceptions.UnroutableError):
        print(f"{PROG}: error: the broker did not take a row", file=sys.stderr)
        return ExitCode.FAILURE
    except pika.exceptions.AMQPError as error:
        print(f"{PROG}: error: {broker_error(error)}", file=sys.stderr)
        return ExitCode.FAILURE
    finally:
        if connection.is_open:
            connection.close()
    name = Path(args.csv_file).name
    print(f" [x] Sent {sent} rows of {name} to {args.queue}.")
    return ExitCode.OK


if __name__ == "__main__":
    sys.exit(main())
