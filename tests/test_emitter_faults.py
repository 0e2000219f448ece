"""The v3 emitter against a broker in trouble: it never hangs and never gives up early.

A resource alarm blocks its publishing: it says so at once, and why, waits, and carries on
when the alarm clears, or gives up after --blocked-timeout (or the URL's
blocked_connection_timeout). All on a throwaway node of the tests' own
(scripts/local_broker.sh, the scratch_broker fixture): the broker on 5672 never sees an
alarm or a restart.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from tests.support import Child, ready_count, script_env

pytestmark = pytest.mark.broker

BLOCKED = " [!] RabbitMQ is blocking publishers (low on disk): "
QUEUE = "task_queue3"


def start_emitter(url: str, log_dir: Path, *args: str) -> Child:
    env = script_env(url, log_dir=log_dir)
    return Child("v3_emitter_of_tasks.py", *args, env=env, out_path=log_dir / "emitter.out")


def test_a_blocked_emitter_says_why_within_2_s_then_completes_when_the_alarm_clears(
    scratch_broker, tmp_path, disk_alarm
):
    before = ready_count(scratch_broker.url, QUEUE, missing_ok=True)
    emitter = start_emitter(scratch_broker.url, tmp_path)
    try:
        emitter.wait_for(" [x] Sent row 1: ")  # published: the broker blocks as it reads it
        sent = time.monotonic()
        emitter.wait_for(BLOCKED, timeout=10)
        said_after = time.monotonic() - sent
        assert "free disk space on the broker's machine" in emitter.output
        assert emitter.running()  # waiting, not failed
        disk_alarm.clear()
        assert emitter.wait(timeout=30).code == 0, emitter.output
    finally:
        emitter.kill()
    assert said_after < 2, emitter.output
    assert " [*] RabbitMQ unblocked publishers after " in emitter.output
    assert "18 confirmed by the broker" in emitter.output
    assert ready_count(scratch_broker.url, QUEUE) == before + 18


@pytest.mark.parametrize(
    ("query", "args", "limit"),
    [
        ("?blocked_connection_timeout=3", (), "the URL's blocked_connection_timeout"),
        ("", ("--blocked-timeout", "3"), "--blocked-timeout (3 s)"),
    ],
)
def test_a_blocked_emitter_gives_up_after_its_timeout_naming_the_cause_and_the_rows(
    scratch_broker, tmp_path, disk_alarm, query, args, limit
):
    emitter = start_emitter(scratch_broker.url + query, tmp_path, *args)
    try:
        ended = emitter.wait(timeout=60)
    finally:
        emitter.kill()
    output = emitter.output
    last = output.strip().splitlines()[-1]
    assert ended.code == 1, output
    assert BLOCKED in output
    assert ended.seconds < 15  # start-up, three seconds blocked, the close
    assert last.startswith(
        f"v3_emitter_of_tasks: error: blocked by RabbitMQ (low on disk) for 3 s, longer than "
        f"{limit}: gave up; the broker's free disk space is below its disk_free_limit: free "
        "disk space on the broker's machine; 18 rows were already sent; "
    )
    found = re.search(
        r"; (\d+) of 18 rows not confirmed \(\1 with no answer\): rows (\d+)-18 \((\d+) "
        r"confirmed\); resume with: python v3_emitter_of_tasks.py --queue task_queue3 "
        r"--from-row (\d+)$",
        last,
    )
    assert found, last
    unconfirmed, first, confirmed, resume = map(int, found.groups())
    assert unconfirmed + confirmed == 18
    assert first == resume == confirmed + 1
