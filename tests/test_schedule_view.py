"""The timelines (tools.schedule_view): the ideal schedule, and the blocks drawn for it."""

from __future__ import annotations

import re

import pytest

from tools.schedule_view import (
    Block,
    common_scale,
    draw_timeline,
    ideal_schedule,
    lane_text,
    legend,
)
from utils import PROJECT_ROOT
from utils.tasks import TaskFile, work_seconds


def test_ideal_schedule_gives_each_task_to_the_first_free_worker():
    schedule = ideal_schedule([4, 1, 1, 1], workers=2)
    assert schedule == [(0, 0, 4), (1, 0, 1), (1, 1, 2), (1, 2, 3)]


def test_ideal_makespan_of_tasks_csv_on_three_workers_is_ten_dots():
    dots = [task.text.count(".") for task in TaskFile(PROJECT_ROOT / "tasks.csv")]
    assert max(end for _, _, end in ideal_schedule(dots, workers=3)) == 10


def ideal_blocks_of_tasks_csv(per_dot: float = 1.0) -> list[Block]:
    tasks = list(TaskFile(PROJECT_ROOT / "tasks.csv"))
    schedule = ideal_schedule([work_seconds(task.text, per_dot) for task in tasks], 3)
    return [
        Block(w, task.row, start, end)
        for task, (w, start, end) in zip(tasks, schedule, strict=True)
    ]


@pytest.mark.parametrize("width", [40, 70, 150])
def test_every_task_is_one_block_with_its_row_and_the_lanes_fit(width):
    blocks = ideal_blocks_of_tasks_csv()
    scale = common_scale([blocks], width)
    lines = draw_timeline(blocks, ["worker 1", "worker 2", "worker 3"], scale, width)

    lanes = lines[:3]
    rows = [int(row) for lane in lanes for row in re.findall(r"├(\d+)", lane)]
    assert sorted(rows) == list(range(1, 19))  # tasks.csv
    assert all(len(lane) <= len("worker 1 │") + width for lane in lanes)
    assert lines[3].startswith(" " * 9 + "└") and "0s" in lines[4]


def test_a_block_spans_its_time_and_a_zero_length_task_still_shows():
    blocks = [Block(0, 1, 0.0, 1.0), Block(0, 2, 1.0, 1.0), Block(0, 3, 1.0, 2.0)]

    assert lane_text(blocks, 10) == "├1───────┤├2┤├3────┤"  # 2 and 3 pushed right


def test_a_redelivered_block_is_starred_and_a_cut_one_ends_in_a_cross():
    blocks = [Block(0, 2, 0.0, 1.0, cut=True), Block(1, 2, 1.0, 2.0, redelivered=True)]

    assert lane_text(blocks[:1], 10) == "├2───────╳"
    assert lane_text(blocks[1:], 10) == " " * 10 + "├2*──────┤"
    assert [line[0] for line in legend(blocks)] == ["*", "╳"]
    assert [line[0] for line in legend(blocks[1:])] == ["*"]  # only the marks that appear
    assert [line[0] for line in legend(blocks[:1])] == ["╳"]
    assert legend([Block(0, 1, 0, 1)]) == []
