"""Bad flags are usage errors: one line naming the flag, exit 2, and nothing done."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support import PROJECT_ROOT, api, quoted, run_script, script_env

V3_PROGRAMS = [
    ["v3_emitter_of_tasks.py"],
    ["v3_listening_worker.py"],
    ["-m", "tools.demo"],
]


def run(argv: list[str], url: str) -> subprocess.CompletedProcess:
    if argv[0] == "-m":
        return subprocess.run(
            [sys.executable, *argv],
            cwd=PROJECT_ROOT,
            env=script_env(url),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=30,
        )
    return run_script(argv[0], *argv[1:], env=script_env(url))


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
def test_a_queue_name_the_broker_would_not_take_is_a_usage_error(vhost, program, queue, says):
    result = run([*program, "--queue", queue], vhost.url)
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert "argument --queue: " + says in last
    assert "Traceback" not in result.stderr
    # nothing declared: no server-named queue left behind
    assert api("GET", f"/queues/{quoted(vhost.name)}") == []
