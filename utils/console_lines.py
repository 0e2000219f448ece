"""The v3 scripts' console lines: written by the functions here, read by the patterns here;
and the rows a line names ('rows 3, 7-9, 12'), written by RowRuns and read by named_rows.

The v3 worker and emitter print these lines; the demo, the tests and the benchmarks read
them back. Both sides live in this one module, so a line cannot change on one side only.
(v1 and v2 print the tutorial's own lines, " [x] Received <task>" and " [x] Done.", inline:
they are the lesson, and readers only look for the words "Received" and "Done".)

    [*] worker 1 ready for work on task_queue3. To exit press CTRL+C
    [x] Sent row 7: Seventh task.
    [x] Received row 7 by worker 1 at 14:03:07.251: Seventh task.
    [x] Done row 7 by worker 1 in 1.00 s.
    [x] Received row 8 (try 2 of 2) by worker 1 at 14:03:08.004: Eighth task..
    ...: error: 8 of 18 rows not confirmed (8 refused by the broker): rows 11-18 (10 confirmed)

A Received line's note says "redelivered" when the broker gives a task again after a
worker died or lost its connection, and which try it is after its work failed.
"""

from __future__ import annotations

import bisect
import math
import re
import time
from collections.abc import Iterable
from typing import NamedTuple

READY_WORDS = "ready for work"  # in the worker's first line, once it consumes


def count_of(count: int, noun: str) -> str:
    """`count` and the noun, singular for one: "1 row", "0 rows", "18 rows"."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def ready_line(worker: str, queue: str) -> str:
    """The worker's line once it consumes from the queue."""
    return f" [*] worker {worker} {READY_WORDS} on {queue}. To exit press CTRL+C"


def sent_line(row: int, text: str) -> str:
    """The emitter's line for a row it published."""
    return f" [x] Sent row {row}: {text}"


def time_of_day(now: float) -> str:
    """'14:03:07.251': local time with milliseconds, of a time.time() value."""
    return time.strftime("%H:%M:%S", time.localtime(now)) + f".{int(now % 1 * 1000):03d}"


def received_line(row: object, worker: str, now: float, text: str, note: str = "") -> str:
    """The worker's line as it starts a task; `note` (such as "redelivered") in brackets."""
    noted = f" ({note})" if note else ""
    return f" [x] Received row {row}{noted} by worker {worker} at {time_of_day(now)}: {text}"


def try_of(attempt: int, retries: int) -> str:
    """'try 2 of 3': which try of a task this is, of the 1 + `retries` it gets."""
    return f"try {attempt} of {max(attempt, retries + 1)}"


def received_note(redelivered: bool, failures: int, retries: int) -> str:
    """The note of a task's Received line, given its failures so far: '' on a first try."""
    if not failures:
        return "redelivered" if redelivered else ""
    tried = try_of(failures + 1, retries)
    return f"redelivered, {tried}" if redelivered else tried


def done_line(row: object, worker: str, seconds: float) -> str:
    """The worker's line once a task is done and acked, `seconds` after it started."""
    return f" [x] Done row {row} by worker {worker} in {seconds:.2f} s."


READY = re.compile(r"\[\*\] worker (\S+) ready for work on (\S+)\. ")
SENT = re.compile(r"\[x\] Sent row (\d+): ")
RECEIVED = re.compile(
    r"\[x\] Received row (\d+)(?: \(([^)]*)\))? by worker (\S+) at (\d\d):(\d\d):(\d\d\.\d+): (.*)"
)
TRY = re.compile(r"\btry (\d+) of (\d+)")  # in a Received line's note
DONE = re.compile(r"\[x\] Done row (\d+) by worker (\S+) in (\d+\.\d+) s\.")
NOT_CONFIRMED = re.compile(
    r"(\d+) of (\d+) rows not confirmed \((.*)\): (rows? [\d, -]+(?: and \d+ more)?) "
    r"\((\d+) confirmed\)"
)


# named tuples, not frozen dataclasses: every v3 script imports this module, and a named
# tuple's class takes a tenth of the time to make at each start
class Received(NamedTuple):
    """What a Received line says: the row, by which worker, when (seconds of the day), what."""

    row: int
    worker: str
    second_of_day: float
    note: str  # "" or, for instance, "redelivered" or "try 2 of 2"
    text: str  # the task's text, up to the end of the line

    @property
    def redelivered(self) -> bool:
        """Whether the broker gave the task again (its worker died or lost its connection)."""
        return "redelivered" in self.note

    @property
    def attempt(self) -> int:
        """Which try of its task this is: 1 unless the note says "try N of M"."""
        found = TRY.search(self.note)
        return int(found[1]) if found else 1


class Done(NamedTuple):
    """What a Done line says: the row, by which worker, in how many seconds."""

    row: int
    worker: str
    seconds: float


def parse_received(line: str) -> Received | None:
    """The Received line's facts, or None if `line` is no Received line."""
    match = RECEIVED.search(line)
    return None if match is None else _received(match)


def parse_all_received(text: str) -> list[Received]:
    """The facts of every Received line in `text`, in order."""
    return [_received(match) for match in RECEIVED.finditer(text)]


def _received(match: re.Match) -> Received:
    row, note, worker, hours, minutes, seconds, text = match.groups()
    second_of_day = int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    return Received(int(row), worker, second_of_day, note or "", text)


def parse_done(line: str) -> Done | None:
    """The Done line's facts, or None if `line` is no Done line."""
    match = DONE.search(line)
    if match is None:
        return None
    return Done(int(match[1]), match[2], float(match[3]))


def sent_rows(text: str) -> list[int]:
    """The rows of every Sent line in `text`, in order."""
    return [int(row) for row in SENT.findall(text)]


def done_rows(text: str) -> list[int]:
    """The rows of every Done line in `text`, in order (a row done twice appears twice)."""
    return [int(row) for row, _worker, _seconds in DONE.findall(text)]


class NotConfirmed(NamedTuple):
    """What the v3 emitter's failure line says: how many rows failed, why, which, and the rest."""

    failed: int
    sent: int
    causes: str  # "8 refused by the broker", "3 unroutable (no such queue)", ...
    rows: list[int]  # the rows named (a line names at most 20 runs of rows)
    confirmed: int


def parse_not_confirmed(line: str) -> NotConfirmed | None:
    """The facts of the v3 emitter's failure line, or None if `line` is not one."""
    match = NOT_CONFIRMED.search(line)
    if match is None:
        return None
    failed, sent, causes, rows, confirmed = match.groups()
    return NotConfirmed(int(failed), int(sent), causes, named_rows(rows), int(confirmed))


# --- the rows a line names: 'rows 3, 7-9, 12 (twice: 7)' -------------------------------

MOST_ROWS_NAMED = 20  # in one line, name at most this many runs of rows (and repeated rows)


class RowRuns:
    """Rows in order, as runs of consecutive rows, repeats counted: 'rows 1, 3-7 (twice: 3, 5)'.

    Memory stays bounded whatever the number of rows: the lowest MOST_ROWS_NAMED runs and
    MOST_ROWS_NAMED repeated rows are named, the rows above them only counted. Rows are line
    numbers, or "?" for a message that carried none.
    """

    def __init__(self, rows: Iterable[object] = ()) -> None:
        self.count = 0  # every row added, repeats included
        self.runs: list[list[int]] = []  # [first, last] of each run named, lowest first
        self.unnamed = 0  # rows "?"
        self.above = math.inf  # rows above this one are only counted (once runs were dropped)
        self.hidden = 0  # rows only counted, repeats included
        self.repeats: dict[object, int] = {}  # a row added more than once -> times added
        for row in rows:
            self.add(row)

    def add(self, row: object) -> None:
        """One more row, in any order."""
        self.count += 1
        if not isinstance(row, int):
            self.unnamed += 1
        elif row > self.above:
            self.hidden += 1
        else:
            self._add_named(row)

    def _add_named(self, row: int) -> None:
        at = bisect.bisect_right(self.runs, row, key=lambda run: run[0])  # runs[:at] start <= row
        before = self.runs[at - 1] if at else None
        after = self.runs[at] if at < len(self.runs) else None
        if before is not None and row <= before[1]:
            self._repeat(row)
        elif before is not None and before[1] == row - 1:
            before[1] = row
            if after is not None and after[0] == row + 1:  # the gap between them is filled
                before[1] = self.runs.pop(at)[1]
        elif after is not None and after[0] == row + 1:
            after[0] = row
        else:
            self.runs.insert(at, [row, row])
            if len(self.runs) > MOST_ROWS_NAMED:
                self._drop_highest_run()

    def _repeat(self, row: object) -> None:
        if row in self.repeats or len(self.repeats) < MOST_ROWS_NAMED:
            self.repeats[row] = self.repeats.get(row, 1) + 1
        else:
            self.hidden += 1

    def _drop_highest_run(self) -> None:
        """Keep the lowest runs: the highest one's rows, repeats included, are only counted."""
        first, last = self.runs.pop()
        self.above = first - 1
        self.hidden += last - first + 1
        for row in [row for row in self.repeats if isinstance(row, int) and row >= first]:
            self.hidden += self.repeats.pop(row) - 1

    def __str__(self) -> str:
        named = [f"{first}" if first == last else f"{first}-{last}" for first, last in self.runs]
        named += ["?"] * bool(self.unnamed)
        if not named:
            return "no rows"
        single = len(named) == 1 and "-" not in named[0] and not self.hidden
        text = ("row " if single else "rows ") + ", ".join(named)
        text += f" and {self.hidden} more" if self.hidden else ""
        repeats = dict(self.repeats)
        if self.unnamed > 1:
            repeats["?"] = self.unnamed
        return text + (f" ({repeats_named(repeats)})" if repeats else "")


def repeats_named(repeats: dict[object, int]) -> str:
    """'twice: 3-5, 9; 3 times: 7': rows by the number of times each was added."""
    by_times: dict[int, list[object]] = {}
    for row, times in sorted(repeats.items(), key=lambda item: str(item[0]).zfill(12)):
        by_times.setdefault(times, []).append(row)
    return "; ".join(
        f"{'twice' if times == 2 else f'{times} times'}: {runs_of(rows)}"
        for times, rows in sorted(by_times.items())
    )


def runs_of(rows: list[object]) -> str:
    """'3-5, 9, ?': sorted rows, consecutive ones shortened to a run."""
    runs: list[list[object]] = []
    for row in rows:
        last = runs[-1][1] if runs else None
        if isinstance(row, int) and isinstance(last, int) and row == last + 1:
            runs[-1][1] = row
        else:
            runs.append([row, row])
    return ", ".join(f"{first}" if first == last else f"{first}-{last}" for first, last in runs)


def rows_named(rows: Iterable[object]) -> str:
    """'rows 3, 7-9, 12': runs of consecutive rows shortened, in order (see RowRuns)."""
    return str(RowRuns(rows))


def runs_named(runs: list[range]) -> str:
    """'rows 3, 7-9': runs of rows given as ranges, in their order, as rows_named writes them
    (for runs too long to go row by row through RowRuns)."""
    named = [f"{run.start}" if len(run) == 1 else f"{run.start}-{run[-1]}" for run in runs]
    single = len(runs) == 1 and len(runs[0]) == 1
    return ("row " if single else "rows ") + ", ".join(named)


def named_rows(text: str) -> list[int]:
    """The rows of a 'rows 3, 7-9, 12' text, as rows_named writes it: [3, 7, 8, 9, 12].

    Rows counted but not named ('... and 5 more') are not in the list.
    """
    named = text.removeprefix("rows ").removeprefix("row ").split(" and ")[0].split(" (")[0]
    runs = named.split(", ")
    rows: list[int] = []
    for run in runs:
        first, _, last = run.partition("-")
        if first.isdigit():
            rows += range(int(first), int(last or first) + 1)
    return rows
