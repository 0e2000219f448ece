"""The lab's verdict read back from its output, so that tests can check its figures."""

from __future__ import annotations

from dataclasses import dataclass

from tools.lab.verdict import BAR, CROSS, RULE, TITLE


@dataclass(frozen=True)
class ReadVerdict:
    """A verdict read back from the lab's output."""

    experiment: str
    columns: list[str]  # the column titles
    rows: dict[str, list[str]]  # fact: one cell per column


def read_verdict(text: str) -> ReadVerdict:
    """The last verdict in `text` (the lab's output); ValueError if there is none."""
    lines = text.splitlines()
    starts = [index for index, line in enumerate(lines) if line.startswith(TITLE)]
    if not starts:
        raise ValueError("no verdict in the text")
    title, *table = lines[starts[-1] :]
    experiment = title[len(TITLE) : title.index(")")]
    cells = []
    for line in table:
        if CROSS in line and not line.strip(RULE + CROSS):
            continue  # the rule under the headers
        if f" {BAR}" not in line:
            break
        cells.append([cell.strip() for cell in line.split(f" {BAR}")])
    columns = cells[0][1:]
    rows = {row[0]: row[1:] + [""] * (len(columns) + 1 - len(row)) for row in cells[2:]}
    return ReadVerdict(experiment, columns, rows)
