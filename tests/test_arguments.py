"""Bad flags are usage errors: one line naming the flag, exit 2, and nothing done."""

from __future__ import annotations

import pytest

from tests.support import api, quoted, run_script, script_env

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
