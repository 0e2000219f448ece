"""Fast tests of the pure logic: CSV to tasks, dots to seconds, settings and URLs."""

from __future__ import annotations

import pytest

from tools.schedule_view import ideal_schedule
from utils.admin_panel import admin_panel_address
from utils.broker import connection_parameters, redact
from utils.errors import InputError, SettingsError
from utils.tasks import Task, TaskFile, seconds_per_dot, work_seconds


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


@pytest.mark.parametrize(("raw", "value"), [("1", 1.0), ("0", 0.0), ("0.05", 0.05)])
def test_seconds_per_dot_accepts_zero_or_more(raw, value):
    assert seconds_per_dot({"SECONDS_PER_DOT": raw}) == value


def test_seconds_per_dot_defaults_to_one():
    assert seconds_per_dot({}) == 1.0


@pytest.mark.parametrize("raw", ["-1", "abc", "", "nan", "inf"])
def test_seconds_per_dot_rejects_bad_values_naming_the_variable(raw):
    with pytest.raises(SettingsError, match="SECONDS_PER_DOT must be a number"):
        seconds_per_dot({"SECONDS_PER_DOT": raw})


def test_redact_hides_the_password_only():
    assert redact("amqp://bob:s3cret@host:5672/v") == "amqp://bob:***@host:5672/v"
    assert redact("amqp://host/v") == "amqp://host/v"


def test_url_query_options_are_honoured_and_timeouts_default_short():
    [params] = connection_parameters("amqp://u:p@h:5673/v?heartbeat=2&connection_attempts=3")
    assert (params.host, params.port, params.virtual_host) == ("h", 5673, "v")
    assert (params.heartbeat, params.connection_attempts) == (2, 3)
    assert params.socket_timeout < 10
    [slow] = connection_parameters("amqp://h/?socket_timeout=20")
    assert slow.socket_timeout == 20


def test_several_urls_separated_by_commas():
    params = connection_parameters("amqp://a:5701/, amqp://b:5702/")
    assert [(p.host, p.port) for p in params] == [("a", 5701), ("b", 5702)]


@pytest.mark.parametrize(
    "url", ["http://x/", "amqp://u:p@h:notaport/", "amqp://h/?heartbeat=abc", " , "]
)
def test_malformed_urls_are_settings_errors_without_the_password(url):
    with pytest.raises(SettingsError, match="RABBITMQ_URL") as caught:
        connection_parameters(url)
    assert ":p@" not in str(caught.value)


def test_admin_panel_points_at_the_broker_host():
    assert (
        admin_panel_address("amqp://u:p@rabbit.lan:5672/%2F") == "http://rabbit.lan:15672/#/queues"
    )
    assert admin_panel_address("amqp://[::1]/") == "http://[::1]:15672/#/queues"


def test_ideal_schedule_gives_each_task_to_the_first_free_worker():
    schedule = ideal_schedule([4, 1, 1, 1], workers=2)
    assert schedule == [(0, 0, 4), (1, 0, 1), (1, 1, 2), (1, 2, 3)]


def test_ideal_makespan_of_tasks_csv_on_three_workers_is_ten_dots():
    from tests.support import PROJECT_ROOT

    dots = [task.text.count(".") for task in TaskFile(PROJECT_ROOT / "tasks.csv")]
    assert max(end for _, _, end in ideal_schedule(dots, workers=3)) == 10


def test_rows_named_shortens_runs_of_consecutive_rows():
    from utils.tasks import MOST_ROWS_NAMED, rows_named

    assert rows_named([1, 4, 7, 12]) == "rows 1, 4, 7, 12"
    assert rows_named([6, 7, 8, 9, 3, 4, "?", 10]) == "rows 6-9, 3-4, ?, 10"
    assert rows_named(range(1, 100_001)) == "rows 1-100000"
    assert rows_named([]) == "no rows"
    every_other = list(range(1, 2 * (MOST_ROWS_NAMED + 5), 2))
    assert rows_named(every_other).endswith(f", {2 * MOST_ROWS_NAMED - 1} and 5 more")
