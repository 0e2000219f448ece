"""The v3 worker reconnects when its connection is closed under it, without a broker restart."""

from __future__ import annotations

import pytest

from harness.broker import ADDRESS, api
from harness.children import run_script, script_env, wait_until
from tools.management import quoted
from utils.console_lines import READY_WORDS, done_rows

pytestmark = pytest.mark.broker


def connections_of(vhost) -> list[str]:
    """The names of the connections open on the vhost, as the management API lists them."""
    connections = api("GET", "/connections")
    assert isinstance(connections, list)
    return [c["name"] for c in connections if c.get("vhost") == vhost.name]


def test_a_worker_whose_connection_is_closed_reconnects_and_works_on(vhost, workers, tmp_path):
    env = script_env(vhost.url, log_dir=tmp_path, seconds_per_dot="0")
    worker = workers("v3_listening_worker.py", "--name", "w", env=env)
    worker.wait_for(READY_WORDS)
    wait_until(lambda: connections_of(vhost), what="the worker's connection to be listed")

    # as an operator does in the admin panel: the broker closes the connection
    for name in connections_of(vhost):
        api("DELETE", f"/connections/{quoted(name)}")

    worker.wait_for(f"worker w lost its connection to {ADDRESS}: ")
    worker.wait_for(f"worker w reconnected to {ADDRESS} (the same node)", timeout=30)
    worker.wait_for(READY_WORDS, count=2)
    assert run_script("v3_emitter_of_tasks.py", env=env).returncode == 0
    worker.wait_until(lambda output: len(done_rows(output)) == 18, "18 rows done")
    assert worker.stop().code == 0
    assert "worker w did 18 tasks: rows 1-18" in worker.output
    assert vhost.ready_count("task_queue3") == 0


def test_a_worker_that_loses_its_node_says_which_and_moves_to_the_next_url(
    vhost, workers, tmp_path
):
    # two URLs for one broker, by two names: the worker tells them apart as it would two nodes
    other = vhost.url.replace("127.0.0.1", "localhost")
    env = script_env(f"{vhost.url},{other}", log_dir=tmp_path, seconds_per_dot="0")
    worker = workers("v3_listening_worker.py", "--name", "w", env=env)
    worker.wait_for(READY_WORDS)
    wait_until(lambda: connections_of(vhost), what="the worker's connection to be listed")

    for name in connections_of(vhost):
        api("DELETE", f"/connections/{quoted(name)}")

    other_address = ADDRESS.replace("127.0.0.1", "localhost")
    worker.wait_for(f"worker w reconnected to {other_address} (moved from {ADDRESS})")
    assert f"worker w lost its connection to {ADDRESS}: " in worker.output
    worker.wait_for(READY_WORDS, count=2)
    assert worker.stop().code == 0
