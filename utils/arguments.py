"""The command line: the options both v3 scripts share (which broker, which queue, which
type), and the plain one of the v1 and v2 scripts (task words, or nothing); a number of
seconds read from a flag or from the environment (parse_seconds)."""

from __future__ import annotations

import argparse
import math
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from utils.errors import ExitCode, SettingsError
from utils.urls import DEFAULT_URL

HELP_FLAGS = (["-h"], ["--help"])

DEFAULT_QUEUE = "task_queue3"
MAX_NAME_BYTES = 255  # AMQP 0-9-1 short strings


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser whose errors are one line, as every other error of the scripts:
    'v3_listening_worker: error: what is wrong (see: python v3_listening_worker.py --help)',
    exit status 2. (argparse prints the usage first, and names the program by its file.)"""

    def error(self, message: str) -> NoReturn:
        command = f"python {self.prog}" if self.prog.endswith(".py") else self.prog
        name = Path(self.prog.split()[-1]).stem if self.prog.endswith(".py") else self.prog
        name = name.rsplit(".", 1)[-1]  # python -m tools.demo: demo
        self.exit(int(ExitCode.USAGE), f"{name}: error: {message} (see: {command} --help)\n")


def add_queue_arguments(parser: argparse.ArgumentParser, queue_help: str) -> None:
    """--url, --queue and --queue-type; flags override RABBITMQ_URL and the defaults."""
    parser.add_argument(
        "--url",
        help="AMQP URL of the broker, or several separated by commas (overrides RABBITMQ_URL)",
    )
    parser.add_argument(
        "--queue",
        type=queue_name,
        default=DEFAULT_QUEUE,
        help=f"{queue_help} (default {DEFAULT_QUEUE})",
    )
    parser.add_argument(
        "--queue-type",
        choices=("classic", "quorum"),
        help="type of the queue if this script creates it (default: the vhost's default "
        "type, classic unless the vhost says otherwise; quorum replicates it across a cluster)",
    )


def queue_name(text: str) -> str:
    """argparse type for --queue: a name the broker accepts for a queue of ours.

    An empty name would make the broker invent one (a new queue per run, left behind), and
    names starting with "amq." are the broker's own.
    """
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty (the default is task_queue3)")
    if len(text.encode("utf-8")) > MAX_NAME_BYTES:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_NAME_BYTES} bytes long")
    if text.startswith("amq."):
        raise argparse.ArgumentTypeError(f"{text!r}: names starting with 'amq.' are reserved")
    return text


def parse_seconds(text: str) -> float | None:
    """A number of seconds, 0 or more (not inf, not nan); None when `text` is not one."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


def seconds(text: str) -> float:
    """argparse type for a duration: a number of seconds, 0 or more."""
    value = parse_seconds(text)
    if value is None:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, 0 or more (got {text!r})")
    return value


def row_number(text: str) -> int:
    """argparse type for a row of a file (--from-row): a line number, 1 or more."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a line number, 1 or more (got {text!r})")
    return int(text)


def task_words(script_file: str, doc: str | None, argv: list[str] | None = None) -> list[str]:
    """A v1/v2 emitter's command line: the words of its task. -h or --help, alone or first,
    prints the usage and exits 0, sending nothing (as argparse does)."""
    words = sys.argv[1:] if argv is None else argv
    if words[:1] in HELP_FLAGS:
        print_usage(f"{Path(script_file).name} [WORD ...]", doc)
    return words


def no_arguments(script_file: str, doc: str | None, argv: list[str] | None = None) -> None:
    """A v1/v2 worker's command line: nothing. -h or --help prints the usage and exits 0;
    any other word is a SettingsError (its settings come from the environment)."""
    words = sys.argv[1:] if argv is None else argv
    if words[:1] in HELP_FLAGS:
        print_usage(Path(script_file).name, doc)
    if words:
        raise SettingsError(
            f"takes no arguments (got {shlex.join(words)}); its settings are the environment "
            f"variables RABBITMQ_URL and SECONDS_PER_DOT (see python {Path(script_file).name} -h)"
        )


def print_usage(command: str, doc: str | None) -> None:
    """Print the usage of a v1/v2 script (its docstring) and exit 0."""
    print(f"usage: python {command}\n\n{(doc or '').strip()}\n")
    print(f"environment: RABBITMQ_URL, the broker (default {DEFAULT_URL})")
    raise SystemExit(0)


def up_to(most: int) -> Callable[[str], int]:
    """The argparse type of a whole number from 0 to `most` (a count, such as --retries)."""

    def whole_number(text: str) -> int:
        if not text.isdigit() or int(text) > most:
            message = f"must be a whole number from 0 to {most} (got {text!r})"
            raise argparse.ArgumentTypeError(message)
        return int(text)

    return whole_number
