"""Timelines drawn in the terminal: one lane per worker, one block per task, time across.

    worker 1 │├1──────────┤├4───────┤├7───────┤
    worker 2 │├2──────────┤├5───────┤├8─┤├9┤├10────┤
             └┴─────────┴─────────┴─────────┴────
              0s        1s        2s        3s

A block spans the task's start to its end at `scale` columns per second and carries its
CSV row number, with a `*` when the broker redelivered it; a task never acked (its worker
was killed, or lost its connection, first) ends in `╳` instead of `┤`. A block too short for its
label is widened and the rest of its lane is pushed right, so every task shows;
`common_scale` picks the largest scale at which every lane of every timeline still fits the
width, so timelines drawn with it compare at a glance.
"""

from __future__ import annotations

import heapq
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass

TICK_STEPS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800)
MIN_TICK_GAP = 8  # columns between two labelled ticks, at least
BISECTION_STEPS = 30


REDELIVERED_MARK = "*"
CUT_END = "╳"


@dataclass(frozen=True)
class Block:
    """One task on a timeline: its lane (worker index from 0), CSV row, start and end in s;
    whether the broker redelivered it, and whether it ended unacked (cut: its worker died)."""

    lane: int
    row: int
    start: float
    end: float
    redelivered: bool = False
    cut: bool = False


def makespan(blocks: Sequence[Block]) -> float:
    """When the last task ends, counted from 0."""
    return max((block.end for block in blocks), default=0.0)


def block_text(block: Block, width: int) -> str:
    """'├7────┤': a block of `width` columns (more if its label needs them); '├7*──╳' for a
    redelivered task never acked."""
    label = f"{block.row}{REDELIVERED_MARK if block.redelivered else ''}"
    return "├" + label + "─" * max(0, width - len(label) - 2) + (CUT_END if block.cut else "┤")


def legend(blocks: Sequence[Block]) -> list[str]:
    """What the marks on the blocks mean, for the marks that appear."""
    lines = []
    if any(block.redelivered for block in blocks):
        lines.append(
            f"{REDELIVERED_MARK} redelivered: the broker gave the task again (its first "
            "worker never acked it)"
        )
    if any(block.cut for block in blocks):
        lines.append(f"{CUT_END} never acked: its worker was killed, or lost its connection, first")
    return lines


def lane_text(blocks: Sequence[Block], scale: float) -> str:
    """One lane's blocks in time order, at `scale` columns per second."""
    text = ""
    for block in sorted(blocks, key=lambda block: (block.start, block.end)):
        column = max(round(block.start * scale), len(text))
        text = text.ljust(column) + block_text(block, round(block.end * scale) - column)
    return text


def _widest_lane(timelines: Sequence[Sequence[Block]], scale: float) -> int:
    lanes = {(index, block.lane) for index, blocks in enumerate(timelines) for block in blocks}
    return max(
        (
            len(lane_text([b for b in timelines[index] if b.lane == lane], scale))
            for index, lane in lanes
        ),
        default=0,
    )


def common_scale(timelines: Sequence[Sequence[Block]], width: int) -> float:
    """The largest columns-per-second at which every lane of every timeline fits `width`."""
    span = max((makespan(blocks) for blocks in timelines), default=0.0)
    if span <= 0:
        return 0.0
    low, high = 0.0, width / span
    if _widest_lane(timelines, high) <= width:
        return high
    for _ in range(BISECTION_STEPS):  # lane width grows with the scale: bisect
        middle = (low + high) / 2
        if _widest_lane(timelines, middle) <= width:
            low = middle
        else:
            high = middle
    return low


def time_axis(scale: float, width: int) -> tuple[str, str]:
    """The axis line under the lanes, with a tick every few columns, and the tick labels."""
    if scale <= 0:
        return "└" + "─" * width, " 0s"
    step = next((step for step in TICK_STEPS if step * scale >= MIN_TICK_GAP), TICK_STEPS[-1])
    line, labels = ["─"] * width, [" "] * (width + MIN_TICK_GAP)
    tick = 0
    while round(tick * step * scale) < width:
        column = round(tick * step * scale)
        line[column] = "┴"
        label = f"{tick * step:g}s"
        labels[column : column + len(label)] = label
        tick += 1
    return "└" + "".join(line), " " + "".join(labels).rstrip()


def draw_timeline(
    blocks: Sequence[Block],
    lane_names: Sequence[str],
    scale: float,
    width: int,
    paint: Callable[[int, str], str] = lambda lane, text: text,
) -> list[str]:
    """The lines of one timeline: a lane per name, then the time axis.

    `paint(lane, text)` may colour a lane's name and blocks (for a terminal).
    """
    name_width = max((len(name) for name in lane_names), default=0)
    lines = []
    for lane, name in enumerate(lane_names):
        text = lane_text([block for block in blocks if block.lane == lane], scale)
        lines.append(f"{paint(lane, name.ljust(name_width))} │{paint(lane, text)}".rstrip())
    axis, labels = time_axis(scale, width)
    lines.append(" " * (name_width + 1) + axis)
    lines.append(" " * (name_width + 1) + labels)
    return lines


def draw_timelines(
    titled: Sequence[tuple[str, Sequence[Block]]],
    lane_names: Sequence[str],
    paint: Callable[[int, str], str] = lambda lane, text: text,
) -> list[str]:
    """Several timelines, each under its title and above the legend of its marks, drawn at
    one scale that fits the terminal, so that they compare at a glance."""
    name_width = max((len(name) for name in lane_names), default=0)
    width = max(20, shutil.get_terminal_size((100, 24)).columns - name_width - 3)
    scale = common_scale([blocks for _, blocks in titled], width)
    lines: list[str] = []
    for title, blocks in titled:
        lines += ["", title, *draw_timeline(blocks, lane_names, scale, width, paint)]
        lines += legend(blocks)
    return lines


def ideal_schedule(durations: list[float], workers: int) -> list[tuple[int, float, float]]:
    """Simulate fair dispatch: each task, in order, goes to whichever worker is free first.

    Returns (worker index, start, end) for each task; ties go to the lower worker index.
    """
    free_at = [(0.0, worker) for worker in range(workers)]
    schedule = []
    for duration in durations:
        start, worker = heapq.heappop(free_at)
        schedule.append((worker, start, start + duration))
        heapq.heappush(free_at, (start + duration, worker))
    return schedule
