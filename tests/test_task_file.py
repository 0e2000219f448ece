"""The CSV file of tasks read as tasks (utils.tasks.TaskFile), a task's work, and rows named."""

from __future__ import annotations

import pytest

from utils.console_lines import MOST_ROWS_NAMED, RowRuns, rows_named
from utils.errors import InputError
from utils.tasks import Task, TaskFile, from_row, work_seconds


def tasks_of(tmp_path, content: bytes) -> tuple[list[Task], int]:
    path = tmp_path / "t.csv"
    path.write_bytes(content)
    task_file = TaskFile(path)
    return list(task_file), task_file.skipped


def test_rows_become_fields_joined_by_single_spaces(tmp_path):
    tasks, skipped = tasks_of(tmp_path, b"a,b,c\nFirst task....\n")
    assert tasks == [Task(1, "a b c"), Task(2, "First task....")]
    assert skipped == 0


def test_blank_rows_are_skipped_and_counted(tmp_path):
    tasks, skipped = tasks_of(tmp_path, b"\none\n , \n\r\ntwo\n")
    assert tasks == [Task(2, "one"), Task(5, "two")]
    assert skipped == 3


def test_a_row_number_is_the_line_where_the_row_starts(tmp_path):
    tasks, _ = tasks_of(tmp_path, b'"multi\nline, quoted",x\r\nnext\r\n')
    assert tasks == [Task(1, "multi\nline, quoted x"), Task(3, "next")]


def test_from_row_n_leaves_out_the_rows_that_start_before_line_n(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b'one\n"two\nlines"\n\nfour\nfive\n')
    assert list(from_row(iter(TaskFile(path)), 1)) == list(TaskFile(path))
    assert list(from_row(iter(TaskFile(path)), 2)) == [
        Task(2, "two\nlines"),
        Task(5, "four"),
        Task(6, "five"),
    ]
    # line 3 is inside the row of line 2, line 4 is blank: the next row is that of line 5
    assert list(from_row(iter(TaskFile(path)), 3)) == [Task(5, "four"), Task(6, "five")]
    assert list(from_row(iter(TaskFile(path)), 7)) == []


def test_utf8_with_or_without_a_byte_order_mark(tmp_path):
    with_bom, _ = tasks_of(tmp_path, "\ufeffCaf\u00e9 task.\n".encode())
    without, _ = tasks_of(tmp_path, "Caf\u00e9 task.\n".encode())
    assert with_bom == without == [Task(1, "Caf\u00e9 task.")]


def test_bytes_that_are_not_utf8_are_reported_with_their_line(tmp_path):
    with pytest.raises(InputError, match=r"t\.csv, line 2: not UTF-8 .*byte 0xe9 at column 4"):
        tasks_of(tmp_path, b"ok\nCaf\xe9\n")


def test_a_nul_byte_is_reported_with_its_line(tmp_path):
    with pytest.raises(InputError, match=r"t\.csv, line 3: contains a NUL byte"):
        tasks_of(tmp_path, b"a\nb\nc\x00d\n")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "missing.csv", "no such file"),
        (lambda p: p, "is a directory"),
    ],
)
def test_a_file_that_cannot_be_read_fails_on_opening(tmp_path, make, message):
    with pytest.raises(InputError, match=message):
        iter(TaskFile(make(tmp_path)))


def test_the_file_is_read_as_a_stream(tmp_path):
    path = tmp_path / "big.csv"
    path.write_bytes(b"task.\n" * 10 + b"\xff\n")
    tasks = iter(TaskFile(path))
    assert next(tasks) == Task(1, "task.")  # the bad last line is not read yet


def test_work_is_seconds_per_dot():
    assert work_seconds("Third task....", 1) == 4
    assert work_seconds("42", 1) == 0
    assert work_seconds("a.b.", 0.25) == 0.5


def test_rows_named_shortens_runs_of_consecutive_rows_in_order():
    assert rows_named([1, 4, 7, 12]) == "rows 1, 4, 7, 12"
    assert rows_named([6, 7, 8, 9, 3, 4, "?", 10]) == "rows 3-4, 6-10, ?"
    assert rows_named(range(1, 100_001)) == "rows 1-100000"
    assert rows_named([]) == "no rows"
    every_other = list(range(1, 2 * (MOST_ROWS_NAMED + 5), 2))
    assert rows_named(every_other).endswith(f", {2 * MOST_ROWS_NAMED - 1} and 5 more")


def test_one_row_is_named_in_the_singular():
    assert rows_named([7]) == "row 7"
    assert rows_named([7, 8]) == "rows 7-8"


def test_rows_of_two_runs_are_sorted_and_repeats_counted():
    # a worker that served two emitter runs of tasks.csv, in the order it did them
    done = [3, 1, 4, 5, 6, 9, 10, 16, 17, 3, 5, 7, 18, 5]
    rows = RowRuns(done)
    assert str(rows) == "rows 1, 3-7, 9-10, 16-18 (twice: 3; 3 times: 5)"
    assert rows.count == len(done)
    assert rows_named(["?", 2, "?"]) == "rows 2, ? (twice: ?)"
    assert rows_named([*range(1, 19), *range(1, 19)]) == "rows 1-18 (twice: 1-18)"


def test_rows_stay_bounded_in_any_order_keeping_the_lowest():
    for order in (range(1, 300_000, 3), range(299_998, 0, -3)):  # one worker of three
        rows = RowRuns(order)
        assert rows.count == 100_000
        assert len(rows.runs) == MOST_ROWS_NAMED
        assert str(rows).endswith(f", 58 and {100_000 - MOST_ROWS_NAMED} more")
    again = RowRuns([*range(1, 100, 2), *range(1, 100, 2)])  # 50 rows, each twice
    assert str(again).endswith(
        " and 60 more (twice: 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, "
        "23, 25, 27, 29, 31, 33, 35, 37, 39)"
    )
