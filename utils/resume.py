"""The command that carries on where a v3 emitter's run stopped (`--from-row`)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from utils.platforms import python_command, shell_command


def resume_command(
    script_file: str,
    args: argparse.Namespace,
    defaults: argparse.Namespace,
    row: int,
    python: str | None = None,
    shell: str | None = None,
) -> str:
    """The command that sends the same file to the same queue from `row` on, with the
    options given (those left at their `defaults` left out), started by `python` (default:
    the Python in use) and quoted for `shell` (default: the user's).

    The URL is left out (it may hold a password): the command runs with the same
    RABBITMQ_URL, or with --url added again.
    """
    if python is None:
        python = python_command(sys.executable, os.getcwd(), sys.platform == "win32")
    words = [python, Path(script_file).name]
    if args.csv_file != defaults.csv_file:
        words.append(args.csv_file)
    words += ["--queue", args.queue]
    if args.queue_type != defaults.queue_type:
        words += ["--queue-type", args.queue_type]
    if args.quiet:
        words.append("--quiet")
    if args.blocked_timeout is not None:
        words += ["--blocked-timeout", f"{args.blocked_timeout:g}"]
    if args.retry_for != defaults.retry_for:
        words += ["--retry-for", f"{args.retry_for:g}"]
    return shell_command([*words, "--from-row", str(row)], shell)
