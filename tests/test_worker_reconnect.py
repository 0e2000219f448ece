"""The v3 worker reconnects when its connection is closed under it, without a broker restart."""

from __future__ import annotations

import pytest

from tests.support import api, quoted, run_script, script_env, wait_until

pytestmark = pytest.mark.broker


def connections_of(vhost) -> list[str]:
    """The names of the connections open on the vhost, as the management API lists them."""
    return [c["name"] for c in api("GET", "/connections") if c.get("vhost") == vhost.name]


def test_a_worker_whose_connection_is_closed_reconnects_and_works_on(vhost, workers):
    env = script_env(vhost.url, seconds_per_dot="0")
    worker = workers("v3_listening_worker.py", "--name", "w", env=env)
    worker.wait_for("ready for work")
    wait_until(lambda: connections_of(vhost), what="the worker's connection to be listed")

    # as an operator does in the admin panel: the broker closes the connection
    for name in connections_of(vhost):
        api("DELETE", f"/connections/{quoted(name)}")

    worker.wait_for("lost its connection")
    worker.wait_for("reconnected to 127.0.0.1:5672", timeout=30)
    worker.wait_for("ready for work", count=2)
    assert run_script("v3_emitter_of_tasks.py", env=env).returncode == 0
    worker.wait_for("[x] Done row", count=18)
    assert worker.stop() == 0
    assert "worker w did 18 tasks: rows 1-18" in worker.output
    assert vhost.ready_count("task_queue3") == 0
