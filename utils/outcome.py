"""What happened to the v3 emitter's rows, and the last line it prints about them.

`Outcome` is filled in as the broker answers; `say_the_end` prints the last line:
`summary_line` when the broker confirmed every row, else `failure_line`, the error line
that ends with the command that resumes (`resume_command`, --from-row; the demo, the lab
and the partition run read it back with utils.console_lines), its first words saying why
(`gave_up`, `stopped_at_once`).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from utils.console_lines import count_of, rows_named
from utils.errors import BrokerError, ExitCode, ScriptError
from utils.platforms import python_command, shell_command


@dataclass
class Outcome:
    """What happened to the rows: the summary and the exit status come from it."""

    sent: int = 0  # rows read and published (once each, however often published again)
    confirmed: int = 0
    # rows published more than once (refused, or left unconfirmed by a lost connection):
    # the broker may have stored an earlier copy, so each may be in the queue twice
    republished: set[int] = field(default_factory=set)
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
        line += f"; {len(outcome.republished)} republished, so some may be in the queue twice"
    return f"{line}; resume with: {resume}" if resume else line


def summary_line(outcome: Outcome, args: argparse.Namespace, seconds: float, skipped: int) -> str:
    """The last line of a run in which the broker confirmed every row."""
    start = f" from row {args.from_row}" if args.from_row > 1 else ""
    again = len(outcome.republished)
    # at least once: a row confirmed but for the lost ack is in the queue twice
    twice = f", {again} republished (so up to {again} may be in the queue twice)" if again else ""
    return (
        f" [x] Sent {count_of(outcome.sent, 'row')} of {Path(args.csv_file).name}{start} to "
        f"{args.queue} in {seconds:.2f} s: {outcome.confirmed} confirmed by the broker, "
        f"{count_of(skipped, 'blank row')} skipped{twice}."
    )


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


def say_the_end(
    logger: logging.Logger,
    outcome: Outcome,
    args: argparse.Namespace,
    defaults: argparse.Namespace,
    seconds: float,
    skipped: int,
) -> ExitCode:
    """The last line of a run (`args`, the parser's `defaults`), and its exit status: 0 only
    if the broker confirmed every row. An empty file is one line: nothing to sum up."""
    if outcome.error is not None or outcome.failed_rows():
        row = outcome.resume_row()
        resume = "" if row is None else resume_command(f"{logger.name}.py", args, defaults, row)
        logger.error("%s: error: %s", logger.name, failure_line(outcome, resume))
        return ExitCode.FAILURE
    if outcome.sent == 0:
        start = f" from row {args.from_row} on" if args.from_row > 1 else ""
        logger.warning(" [!] %s has no task rows%s: nothing was sent", args.csv_file, start)
    else:
        logger.info("%s", summary_line(outcome, args, seconds, skipped))
    return ExitCode.OK


def gave_up(
    retry_for: float, queue: str, lost: BrokerError | None, refused: bool, silent: float
) -> str:
    """Why the emitter gave up once --retry-for ran out: the connection `lost` (the last
    attempt's error) and not opened again, rows `refused`, or rows `silent` for so long."""
    spent = f"{retry_for:g} s (--retry-for)"
    if lost is not None:
        return (
            f"lost the connection to RabbitMQ and could not reconnect within {spent}; "
            f"the last attempt: {lost}"
        )
    if refused:
        return (
            f"RabbitMQ refused rows for {spent}: {queue} may be at its length limit "
            "(x-overflow reject-publish) or unavailable (a quorum queue without a majority "
            "of its nodes)"
        )
    return (
        f"no confirm from RabbitMQ for {silent:.0f} s, past --retry-for ({retry_for:g} s): "
        f"{queue} {MAY_BE_UNAVAILABLE}"
    )


MAY_BE_UNAVAILABLE = (
    "may be unavailable (a quorum queue without a majority of its nodes holds publishes until "
    "it has one again)"
)


def still_waiting(silent: float, in_flight: int, retry_for: float, queue: str) -> str:
    """The line said while rows in flight have had no answer for `silent` s: the wait goes
    on, bounded by --retry-for."""
    return (
        f" [!] no confirm from RabbitMQ for {int(silent)} s, {count_of(in_flight, 'row')} in "
        f"flight: still waiting, for up to {retry_for:g} s in all (--retry-for); {queue} "
        f"{MAY_BE_UNAVAILABLE}"
    )


def stopped_at_once(cause: str, in_flight: int) -> str:
    """What a second stop signal cost: the rows in flight, published but not confirmed,
    may be in the queue already, and a resumed run sends them again."""
    if not in_flight:
        return f"{cause} twice: stopped at once"
    return (
        f"{cause} twice: stopped at once, without waiting for the confirms of "
        f"{count_of(in_flight, 'row')} in flight: up to {in_flight} of the rows to resume "
        "from may already be in the queue, and would then be sent twice"
    )
