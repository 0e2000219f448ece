"""Bad flags are usage errors: one line naming the flag, exit 2, and nothing done."""

from __future__ import annotations

import pytest

from harness.broker import api
from harness.children import run_script, script_env
from tools.management import quoted

V3_PROGRAMS = [
    ["v3_emitter_of_tasks.py"],
    ["v3_listening_worker.py"],
    ["-m", "tools.demo"],
]


@pytest.mark.broker
@pytest.mark.parametrize("program", V3_PROGRAMS)
@pytest.mark.parametrize(
    ("queue", "says"),
    [
        ("", "must not be empty"),
        ("  ", "must not be empty"),
        ("amq.tasks", "'amq.tasks': names starting with 'amq.' are reserved"),
        ("q" * 256, "must be at most 255 bytes long"),
    ],
)
def test_a_queue_name_the_broker_would_not_take_is_a_usage_error(
    vhost, tmp_path, program, queue, says
):
    result = run_script(*program, "--queue", queue, env=script_env(vhost.url, log_dir=tmp_path))
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert "argument --queue: " + says in last
    assert "Traceback" not in result.stderr
    # nothing declared: no server-named queue left behind
    assert api("GET", f"/queues/{quoted(vhost.name)}") == []


@pytest.mark.parametrize(
    ("flag", "value", "says"),
    [
        ("--from-row", "0", "must be a line number, 1 or more (got '0')"),
        ("--from-row", "x", "must be a line number, 1 or more (got 'x')"),
        ("--blocked-timeout", "-1", "must be a number of seconds, 0 or more (got '-1')"),
        ("--retry-for", "soon", "must be a number of seconds, 0 or more (got 'soon')"),
        ("--retry-for", "nan", "must be a number of seconds, 0 or more (got 'nan')"),
    ],
)
def test_a_bad_v3_emitter_number_is_a_usage_error_naming_the_flag(tmp_path, flag, value, says):
    # nothing listens on the URL: a usage error comes before any connection
    env = script_env("amqp://guest:guest@127.0.0.1:1/", log_dir=tmp_path)
    result = run_script("v3_emitter_of_tasks.py", flag, value, env=env)
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert f"argument {flag}: {says}" in last
