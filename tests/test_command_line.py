"""The scripts' command lines: --help, and a bad SECONDS_PER_DOT refused before anything runs."""

from __future__ import annotations

import pytest

from harness.children import run_script, script_env
from tests.support import WORKERS

pytestmark = pytest.mark.broker


def explained(help_text: str) -> dict[str, str]:
    """Each argument that --help lists (an option by its long name, a positional by its
    name), and the words that explain it."""
    entries: dict[str, str] = {}
    for section in help_text.split("\n\n"):
        heading, *lines = section.splitlines()
        if heading not in ("options:", "positional arguments:"):
            continue
        name = ""
        for line in lines:
            if line.startswith("   "):  # the explanation goes on
                entries[name] += " " + line.strip()
                continue
            flags, _, words = line.strip().partition("  ")  # "-q, --quiet   no line ..."
            name = flags.split(", ")[-1].split(" ")[0]
            entries[name] = words.strip()
    return entries


@pytest.mark.parametrize(
    ("script", "arguments"),
    [
        (
            "v3_emitter_of_tasks.py",
            [
                "csv_file",
                "--url",
                "--queue",
                "--queue-type",
                "--quiet",
                "--blocked-timeout",
                "--retry-for",
                "--from-row",
            ],
        ),
        (
            "v3_listening_worker.py",
            ["--url", "--queue", "--queue-type", "--name", "--prefetch", "--retries"],
        ),
    ],
)
def test_v3_help_explains_every_option(tmp_path, script, arguments):
    env = script_env("amqp://unused/", log_dir=tmp_path, COLUMNS="80")
    result = run_script(script, "--help", env=env)
    assert result.returncode == 0
    entries = explained(result.stdout)
    assert sorted(entries) == sorted([*arguments, "--help"]), result.stdout  # these, no other
    for name, words in entries.items():
        assert len(words.split()) >= 3, f"{name} is not explained: {words!r}"
    assert "\nenvironment: RABBITMQ_URL (default amqp://" in result.stdout


@pytest.mark.parametrize("worker_script", WORKERS)
@pytest.mark.parametrize("value", ["-1", "fast", "3601", "1e308"])
def test_bad_seconds_per_dot_is_a_usage_error_naming_it(tmp_path, worker_script, value):
    env = script_env("amqp://localhost/", log_dir=tmp_path, seconds_per_dot=value)
    result = run_script(worker_script, env=env)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.endswith(
        f"SECONDS_PER_DOT must be a number of seconds from 0 to 3600 (got '{value}'); "
        "for example SECONDS_PER_DOT=0.1"
    )


@pytest.mark.parametrize(
    ("script", "queue", "usage"),
    [
        ("v1_emitter_of_tasks.py", "task_queue", "usage: python v1_emitter_of_tasks.py [WORD ...]"),
        (
            "v2_emitter_of_tasks.py",
            "task_queue2",
            "usage: python v2_emitter_of_tasks.py [WORD ...]",
        ),
        ("v1_listening_worker.py", "task_queue", "usage: python v1_listening_worker.py"),
        ("v2_listening_worker.py", "task_queue2", "usage: python v2_listening_worker.py"),
    ],
)
@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_v1_v2_help_prints_the_usage_and_sends_nothing(vhost, tmp_path, script, queue, usage, flag):
    result = run_script(script, flag, env=script_env(vhost.url, log_dir=tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == usage
    assert "RABBITMQ_URL" in result.stdout
    assert result.stderr == ""
    assert vhost.ready_count(queue, missing_ok=True) == 0  # nothing sent, no queue declared


@pytest.mark.parametrize("worker_script", ["v1_listening_worker.py", "v2_listening_worker.py"])
def test_v1_v2_workers_given_arguments_say_they_take_none(tmp_path, worker_script):
    env = script_env("amqp://guest:guest@127.0.0.1:1/", log_dir=tmp_path)
    result = run_script(worker_script, "--queue", "mine", env=env)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{worker_script[:-3]}: error: takes no arguments (got --queue mine); its settings are "
        "the environment variables RABBITMQ_URL and SECONDS_PER_DOT (see python "
        f"{worker_script} -h)"
    ]


@pytest.mark.parametrize(
    ("program", "name", "command"),
    [
        (["v3_listening_worker.py"], "v3_listening_worker", "python v3_listening_worker.py"),
        (["v3_emitter_of_tasks.py"], "v3_emitter_of_tasks", "python v3_emitter_of_tasks.py"),
        (["-m", "tools.demo"], "demo", "python -m tools.demo"),
        (["-m", "tools.lab"], "lab", "python -m tools.lab"),
        (["-m", "tools.watch_queues"], "watch_queues", "python -m tools.watch_queues"),
        (["-m", "tools.partition"], "partition", "python -m tools.partition"),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else None,
)
def test_a_bad_option_is_one_line_named_as_every_other_error(tmp_path, program, name, command):
    env = script_env("amqp://guest:guest@127.0.0.1:1/", log_dir=tmp_path)
    result = run_script(*program, "--no-such-option", env=env)

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{name}: error: unrecognized arguments: --no-such-option (see: {command} --help)"
    ]
