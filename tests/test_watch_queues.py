"""The queue watcher (tools.watch_queues), run as a user runs it."""

from __future__ import annotations

import re

import pytest

from tests.support import check_a_tool_refused, run_tool, wait_until


def counts(queue: dict) -> tuple:
    """What the API says of a queue's ready messages and consumers (None: not sampled yet)."""
    return queue.get("messages_ready"), queue.get("consumers")


@pytest.mark.broker
def test_the_watcher_shows_a_queue_s_ready_messages(vhost, tmp_path):
    vhost.publish("watched", [b"one", b"two", b"three"])
    # the API's counts are sampled by the broker (every 5 s by default), the ready messages
    # up to a second before the consumers: wait for both
    wait_until(
        lambda: counts(vhost.queue_info("watched")) == (3, 0),
        timeout=15,
        what="the API to count 3 ready messages and 0 consumers",
    )

    result = run_tool("watch_queues", "--once", url=vhost.url, log_dir=tmp_path, timeout=15)

    assert result.returncode == 0, result.stderr
    assert re.search(r"^watched +3 +0 +0$", result.stdout, re.MULTILINE), result.stdout
    assert f"vhost {vhost.name} at 127.0.0.1:15672" in result.stdout


def test_an_unreachable_broker_gives_one_line_and_exit_1(tmp_path):
    check_a_tool_refused("watch_queues", "--once", "--management-port", "1", log_dir=tmp_path)
