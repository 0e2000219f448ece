"""The queue watcher (tools.watch_queues), run as a user runs it."""

from __future__ import annotations

import re

import pytest

from tests.support import GUEST, MANAGEMENT_ARGS, check_a_tool_refused, run_tool, script_env


@pytest.mark.broker
def test_the_watcher_counts_ready_messages_and_consumers_live(vhost, workers, tmp_path):
    """No waiting for the broker's 5-second samples: ready and consumers are read over AMQP."""
    vhost.publish("watched", [b"long task....", b"two", b"three"])

    watch = ("watch_queues", "--once", *MANAGEMENT_ARGS)
    result = run_tool(*watch, url=vhost.url, log_dir=tmp_path, timeout=15)
    assert result.returncode == 0, result.stderr
    assert re.search(r"^watched +3 +\S+\* +0$", result.stdout, re.MULTILINE), result.stdout
    assert f"vhost {vhost.name} at {GUEST.host}" in result.stdout

    env = script_env(vhost.url, log_dir=tmp_path, seconds_per_dot="5")
    worker = workers("v3_listening_worker.py", "--queue", "watched", env=env)
    worker.wait_for("Received row ? by worker")  # holds the long task; two stay ready
    result = run_tool(*watch, url=vhost.url, log_dir=tmp_path, timeout=15)
    assert re.search(r"^watched +2 +\S+\* +1$", result.stdout, re.MULTILINE), result.stdout


def test_an_unreachable_broker_gives_one_line_and_exit_1(tmp_path):
    check_a_tool_refused("watch_queues", "--once", "--management-port", "1", log_dir=tmp_path)
