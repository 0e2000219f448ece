"""The v3 emitter carries on where a run stopped: --from-row, and the command that resumes."""

from __future__ import annotations

import shlex
import subprocess

import pytest

from harness.children import run_script, script_env
from tests.support import PYTHON, TASKS_CSV_ROWS
from utils import PROJECT_ROOT
from utils.outcome import Outcome, resume_command
from v3_emitter_of_tasks import make_argument_parser


def resumed(argv: list[str], row: int, python: str = "python", shell: str = "sh") -> str:
    """The resume command of a run given `argv`, started by `python`, for `shell`."""
    parser = make_argument_parser()
    args, defaults = parser.parse_args(argv), parser.parse_args([])
    return resume_command("v3_emitter_of_tasks.py", args, defaults, row, python, shell)


def test_the_resume_row_is_the_first_row_not_confirmed():
    outcome = Outcome(sent=9, last_row=12, unconfirmed=[11, 12], refused=[7])
    assert outcome.resume_row() == 7


def test_with_every_row_sent_confirmed_the_resume_row_is_the_first_not_read():
    assert Outcome(sent=3, last_row=5).resume_row() == 6
    assert Outcome(sent=3, last_row=5, at_end=True).resume_row() is None
    assert Outcome().resume_row() is None  # nothing sent: the same command again


def test_the_resume_command_names_the_file_the_queue_and_the_row():
    argv = ["my tasks.csv", "--queue", "jobs", "--queue-type", "quorum", "--url", "amqp://u:pw@h/"]
    assert resumed(argv, 1234) == (
        "python v3_emitter_of_tasks.py 'my tasks.csv' --queue jobs --queue-type quorum "
        "--from-row 1234"
    )  # without the URL: it may hold a password


def test_the_default_file_is_left_out_of_the_resume_command():
    assert resumed(["--from-row", "3", "--quiet"], 9) == (
        "python v3_emitter_of_tasks.py --queue task_queue3 --quiet --from-row 9"
    )


def test_the_resume_command_keeps_the_waits_given_and_leaves_out_the_defaults():
    assert resumed(["--blocked-timeout", "30", "--retry-for", "2.5"], 9) == (
        "python v3_emitter_of_tasks.py --queue task_queue3 --blocked-timeout 30 "
        "--retry-for 2.5 --from-row 9"
    )
    default = resumed(["--retry-for", "60"], 9)
    assert default.endswith(" --queue task_queue3 --from-row 9")


@pytest.mark.parametrize(
    ("python", "shell", "command"),
    [
        (
            "python3",
            "sh",
            "python3 v3_emitter_of_tasks.py 'R&D 50%.csv' --queue 'jobs$1' --from-row 9",
        ),
        (
            r"C:\Program Files\Python312\python.exe",
            "cmd",
            r'"C:\Program Files\Python312\python.exe" v3_emitter_of_tasks.py ^"R^&D 50^%.csv^" '
            "--queue jobs$1 --from-row 9",
        ),
        (
            r"C:\Program Files\Python312\python.exe",
            "powershell",
            r"& 'C:\Program Files\Python312\python.exe' v3_emitter_of_tasks.py 'R&D 50%.csv' "
            "--queue 'jobs$1' --from-row 9",
        ),
    ],
)
def test_the_resume_command_starts_with_the_python_given_quoted_for_the_shell(
    python, shell, command
):
    assert resumed(["R&D 50%.csv", "--queue", "jobs$1"], 9, python, shell) == command


@pytest.mark.broker
def test_from_row_sends_the_rows_from_that_line_on(vhost, tmp_path):
    env = script_env(vhost.url, log_dir=tmp_path)
    result = run_script("v3_emitter_of_tasks.py", "--from-row", "5", env=env)

    assert result.returncode == 0, result.stderr
    assert " [x] Sent 14 rows of tasks.csv from row 5 to task_queue3 in " in result.stdout
    messages = vhost.take_all("task_queue3")
    assert [properties.headers["row"] for _, properties in messages] == list(range(5, 19))
    assert [body.decode() for body, _ in messages] == TASKS_CSV_ROWS[4:]


@pytest.mark.broker
def test_rows_refused_end_the_error_line_with_the_command_that_resumes(vhost, tmp_path):
    with vhost.connection() as connection:  # room for five tasks; the rest are refused
        arguments = {"x-max-length": 5, "x-overflow": "reject-publish"}
        connection.channel().queue_declare("task_queue3", durable=True, arguments=arguments)
    env = script_env(vhost.url, log_dir=tmp_path)

    give_up = ("--retry-for", "0.5")  # the queue stays full until the test takes its rows
    result = run_script("v3_emitter_of_tasks.py", *give_up, env=env)
    line = result.stderr.strip().splitlines()[-1]
    assert result.returncode == 1
    assert line.endswith(  # the 13 refused were published again before the budget ran out
        ": rows 6-18 (5 confirmed); 13 republished, so some may be in the queue twice; "
        "resume with: "
        f"{PYTHON} v3_emitter_of_tasks.py --queue task_queue3 --retry-for 0.5 --from-row 6"
    )
    taken = vhost.take_all("task_queue3")
    for _run in range(3):  # each run takes five more rows, then names where to resume
        command = shlex.split(line.split("; resume with: ")[1])  # as a user pastes it
        result = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
        taken += vhost.take_all("task_queue3")
        if result.returncode == 0:
            break
        line = result.stderr.strip().splitlines()[-1]
    assert result.returncode == 0, result.stderr
    assert [properties.headers["row"] for _, properties in taken] == list(range(1, 19))
