"""The lab's verdict: a table of the same tasks with and without a setting, written and read back.

    Verdict (crash): 18 tasks of tasks.csv, 3 workers, 1 s per dot; worker 2 killed ...
                 │ with: manual ack after the work │ without: auto-ack
                 │ v3_listening_worker.py          │ python -m tools.lab.worker_without ...
    ─────────────┼─────────────────────────────────┼──────────────────────────────────────
    tasks sent   │ 18                              │ 18
    lost         │ none                            │ 6: rows 2, 5, 8, 11, 14, 17

The lab writes it with `verdict_lines`; tests/lab_verdicts.py reads it back with the same
TITLE, BAR, RULE and CROSS. The tallies (`tally`, `counted`) are pure, and unit-tested.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from tools.supervisor import RoundLog
from utils.console_lines import rows_named

BAR = "│"
RULE, CROSS = "─", "┼"
TITLE = "Verdict ("


@dataclass(frozen=True)
class Column:
    """One way the experiment ran: the setting (or its absence), and the program that ran."""

    title: str  # "with: manual ack after the work"
    program: str  # "v3_listening_worker.py"


@dataclass(frozen=True)
class Verdict:
    """The table: which experiment, on what, its columns, and a row per fact."""

    experiment: str
    what: str
    columns: list[Column]
    rows: list[tuple[str, list[str]]]


def verdict_lines(verdict: Verdict) -> list[str]:
    """The table as the lab prints it: a title, two header lines, a rule, a line per fact."""
    lines = [
        ("", [column.title for column in verdict.columns]),
        ("", [column.program for column in verdict.columns]),
        *verdict.rows,
    ]
    label_width = max(len(label) for label, _ in lines)
    widths = [max(len(cells[index]) for _, cells in lines) for index in range(len(verdict.columns))]

    def line(label: str, cells: list[str]) -> str:
        padded = [cell.ljust(width) for cell, width in zip(cells, widths, strict=True)]
        return f" {BAR} ".join([label.ljust(label_width), *padded]).rstrip()

    rule = f"{RULE}{CROSS}{RULE}".join(RULE * width for width in [label_width, *widths])
    body = [line(label, cells) for label, cells in lines]
    return [f"{TITLE}{verdict.experiment}): {verdict.what}", *body[:2], rule, *body[2:]]


# --- tallies --------------------------------------------------------------------------------


def counted(rows: Iterable[int], none: str = "none") -> str:
    """'none', or '3: rows 2, 5, 8' (runs of rows shortened: 'rows 11-18')."""
    rows = list(rows)
    return f"{len(rows)}: {rows_named(rows)}" if rows else none


@dataclass(frozen=True)
class Tally:
    """What became of the rows sent: done (once or more), twice or more, never."""

    sent: list[int]
    done: Counter[int]

    @classmethod
    def of(cls, log: RoundLog) -> Tally:
        """The tally of a run's lines: rows sent, and Done lines."""
        return cls(sorted(log.sent), Counter(row for _, row, _ in log.done))

    def done_rows(self) -> list[int]:
        return [row for row in self.sent if self.done[row]]

    def twice(self) -> list[int]:
        """Rows done more than once."""
        return [row for row in self.sent if self.done[row] > 1]

    def not_done(self) -> list[int]:
        """Rows sent and never done."""
        return [row for row in self.sent if not self.done[row]]

    def cells(self) -> list[tuple[str, str]]:
        """The facts every verdict with workers shows: sent, done, done twice."""
        return [
            ("tasks sent", str(len(self.sent))),
            ("done", f"{len(self.done_rows())} of {len(self.sent)}"),
            ("done twice", counted(self.twice())),
        ]


def side_by_side(*columns: list[tuple[str, str]]) -> list[tuple[str, list[str]]]:
    """Rows of a verdict from each column's (fact, cell) pairs, the facts in the same order."""
    labels = [label for label, _ in columns[0]]
    for column in columns[1:]:
        assert [label for label, _ in column] == labels, "every column has the same facts"
    return [(label, [dict(column)[label] for column in columns]) for label in labels]


def verdict_of_runs(
    experiment: str, what: str, runs: Sequence[Any], column: Callable[[Any], list[tuple[str, str]]]
) -> list[str]:
    """The verdict's lines for runs that each know their side (its title and program): one
    column each, its facts from column(run)."""
    columns = [Column(run.side.title, run.side.program) for run in runs]
    return verdict_lines(Verdict(experiment, what, columns, side_by_side(*map(column, runs))))
