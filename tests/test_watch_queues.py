"""The queue watcher (tools.watch_queues), run as a user runs it."""

from __future__ import annotations

import re

import pytest

from harness.broker import GUEST, api
from harness.children import script_env, wait_until
from tests.support import MANAGEMENT_ARGS, check_a_tool_refused, run_tool
from tools.management import quoted
from tools.watch_queues import COLUMNS
from utils.queues import queue_arguments


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


@pytest.mark.broker
@pytest.mark.parametrize("queue_type", ["classic", "quorum"])
def test_the_api_gives_the_fields_the_watcher_reads_for_either_queue_type(
    vhost, workers, tmp_path, queue_type
):
    """The management API's queue fields (its columns, sampled) on the broker under test:
    RabbitMQ 4 gives the same ones as 3.10, for a classic and for a quorum queue."""
    with vhost.connection() as connection:
        channel = connection.channel()
        channel.queue_declare("watched", durable=True, arguments=queue_arguments(queue_type))
        for body in (b"long task....", b"two"):
            channel.basic_publish("", "watched", body)
    env = script_env(vhost.url, log_dir=tmp_path, seconds_per_dot="5")
    worker = workers("v3_listening_worker.py", "--queue", "watched", env=env)
    worker.wait_for("Received row ? by worker")  # holds the long task; one stays ready
    path = f"/queues/{quoted(vhost.name)}?columns={','.join(COLUMNS)}"
    expected = [
        {"name": "watched", "messages_ready": 1, "messages_unacknowledged": 1, "consumers": 1}
    ]
    wait_until(lambda: api("GET", path) == expected, f"the API to show {expected}", timeout=30)
    result = run_tool("watch_queues", "--once", *MANAGEMENT_ARGS, url=vhost.url, log_dir=tmp_path)
    assert re.search(r"^watched +1 +1\* +1$", result.stdout, re.MULTILINE), result.stdout


def test_an_unreachable_broker_gives_one_line_and_exit_1(tmp_path):
    check_a_tool_refused("watch_queues", "--once", "--management-port", "1", log_dir=tmp_path)
