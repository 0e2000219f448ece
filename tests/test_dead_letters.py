"""Set-aside tasks: `python -m tools.dead_letters` lists them and puts them back, each copy
confirmed before its ack; a v3 worker given a dead-letter queue refuses it."""

from __future__ import annotations

import argparse

import pytest

from harness.children import run_script, script_env
from tests.support import check_a_tool_refused, run_tool
from tests.test_worker_retries import send_rows
from tools.dead_letters import not_moved, rows_wanted, wanted
from utils.console_lines import done_rows, runs_named

pytestmark = pytest.mark.broker

SET_ASIDE = "set aside in task_queue3.dead-letter"


def test_set_aside_tasks_are_listed_then_put_back_and_done(vhost, workers, tmp_path):
    env = script_env(vhost.url, log_dir=tmp_path, seconds_per_dot="0")
    send_rows(env, tmp_path, ["Fail one", "Good task.", "Fail two", "Fail three"])
    failing = workers("-m", "tests.work_hooks", "failing", "--retries", "0", env=env)
    failing.wait_for(SET_ASIDE, count=3)
    failing.wait_for("Done")
    assert failing.stop().code == 0

    listed = run_tool("dead_letters", url=vhost.url, log_dir=tmp_path)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert [line.split(" | ")[0] for line in lines[:3]] == [
        "row 1: Fail one",
        "row 3: Fail two",
        "row 4: Fail three",
    ]
    assert lines[0].split(" | ")[1] == "failures 1"
    assert lines[0].endswith(": work failed on try 1 of 1: RuntimeError(\"cannot do 'Fail one'\")")
    assert " | set aside 20" in lines[0]
    assert lines[3] == (
        "3 tasks set aside in task_queue3.dead-letter (listing marks them redelivered); put "
        "them back in task_queue3 with --requeue [ROWS|all]"
    )
    assert vhost.ready_count("task_queue3.dead-letter") == 3  # listing took none

    moved = run_tool("dead_letters", "--requeue", "2,3,7-9", url=vhost.url, log_dir=tmp_path)
    assert moved.returncode == 0, moved.stderr
    assert moved.stdout.splitlines() == [
        " [x] moved row 3 back to task_queue3",
        "moved 1 task back (row 3); none set aside for rows 2, 7-9",
    ]
    moved = run_tool("dead_letters", "--requeue", url=vhost.url, log_dir=tmp_path)
    assert moved.stdout.splitlines()[-1] == "moved 2 tasks back (rows 1, 4)"
    assert vhost.ready_count("task_queue3.dead-letter") == 0
    assert vhost.ready_count("task_queue3") == 3

    # put back with their failures reset: the default work does them, each once
    worker = workers("v3_listening_worker.py", env=env)
    worker.wait_for("Done", count=3)
    assert worker.stop().code == 0
    assert sorted(done_rows(worker.output)) == [1, 3, 4]
    assert "try 2" not in worker.output
    assert vhost.ready_count("task_queue3") == 0


def test_a_worker_given_a_dead_letter_queue_refuses_and_points_to_the_tool(vhost, tmp_path):
    env = script_env(vhost.url, log_dir=tmp_path)
    result = run_script(
        "v3_listening_worker.py", "--queue", "task_queue3.dead-letter", env=env, timeout=30
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "v3_listening_worker: error: task_queue3.dead-letter holds the tasks set aside from "
        "task_queue3, for people, not workers: to see them, python -m tools.dead_letters "
        "--queue task_queue3; to put them back, add --requeue"
    ]
    assert vhost.ready_count("task_queue3.dead-letter.dead-letter", missing_ok=True) == 0
    assert vhost.ready_count("task_queue3.dead-letter", missing_ok=True) == 0


def test_with_nothing_set_aside_the_list_says_so(vhost, tmp_path):
    listed = run_tool("dead_letters", url=vhost.url, log_dir=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.startswith("0 tasks set aside in task_queue3.dead-letter")


@pytest.mark.parametrize(
    ("text", "runs"),
    [
        ("all", None),
        ("3", [range(3, 4)]),
        ("3,7-9", [range(3, 4), range(7, 10)]),
        (" 4 , 2", [range(2, 3), range(4, 5)]),
        ("5-9,1-3,4,8-12", [range(1, 13)]),  # overlapping and adjacent runs: one
    ],
)
def test_the_rows_to_requeue_are_all_or_runs_of_rows(text, runs):
    assert rows_wanted(text) == runs


def test_a_run_of_a_billion_rows_is_two_numbers_not_a_billion():
    runs = rows_wanted("1-1000000000")
    assert runs == [range(1, 1_000_000_001)]
    assert wanted(999_999_999, runs) and not wanted(1_000_000_001, runs)
    assert not wanted("?", runs) and wanted("?", None)  # a task without a row: only with all
    left = not_moved(runs, [1, 3, 1_000_000_000, "?"])
    assert runs_named(left) == "rows 2, 4-999999999"


def test_the_rows_not_moved_are_named_as_runs():
    assert runs_named(not_moved(rows_wanted("2-4,7-9"), [3, 8])) == "rows 2, 4, 7, 9"
    assert runs_named(not_moved(rows_wanted("3"), [])) == "row 3"
    assert not_moved(rows_wanted("3,7"), [7, 3]) == []


@pytest.mark.parametrize("text", ["", "x", "3-", "-3", "3,,4", "3.5", "9-3"])
def test_rows_to_requeue_that_are_no_rows_are_refused(text):
    with pytest.raises(argparse.ArgumentTypeError):
        rows_wanted(text)


def test_a_broker_that_cannot_be_reached_is_one_line(tmp_path):
    check_a_tool_refused("dead_letters", log_dir=tmp_path)
