"""The v3 emitter against a broker in trouble: it never hangs and never gives up early.

A resource alarm blocks its publishing: it says so at once, and why, waits, and carries on
when the alarm clears, or gives up after --blocked-timeout (or the URL's
blocked_connection_timeout). A broker restart mid-stream is ridden out: it reconnects and
publishes again what was not confirmed. All on a throwaway node of the tests' own
(scripts/local_broker.sh, the scratch_broker fixture): the broker on 5672 never sees an
alarm or a restart.
"""

from __future__ import annotations

import re
import signal
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import pytest

from harness.broker import ready_count, take_all
from harness.children import Child, script_env, wait_until
from tests.support import PYTHON

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
        r"confirmed\); resume with: "
        + re.escape(f"{PYTHON} v3_emitter_of_tasks.py --queue task_queue3 ")
        + re.escape(" ".join(args))  # the same wait again, as given
        + r" ?--from-row (\d+)$",
        last,
    )
    assert found, last
    unconfirmed, first, confirmed, resume = map(int, found.groups())
    assert unconfirmed + confirmed == 18
    assert first == resume == confirmed + 1


def test_a_stop_signal_while_blocked_exits_within_seconds(scratch_broker, tmp_path, disk_alarm):
    """A broker that blocks publishers reads no close either: the emitter goes all the same."""
    emitter = start_emitter(scratch_broker.url, tmp_path)
    try:
        emitter.wait_for(BLOCKED)
        emitter.send(signal.SIGTERM)
        signalled = time.monotonic()
        ended = emitter.wait(timeout=60)
    finally:
        emitter.kill()
    last = emitter.output.strip().splitlines()[-1]
    assert ended.code == 1
    assert time.monotonic() - signalled < 10  # the grace for confirms, then the close's
    assert last.startswith(
        "v3_emitter_of_tasks: error: stopped by SIGTERM before every row was confirmed; "
    )
    assert f"; resume with: {PYTHON} v3_emitter_of_tasks.py --queue task_queue3 --from-row" in last


def test_a_second_ctrl_c_says_how_many_rows_to_resume_from_may_be_in_the_queue(
    scratch_broker, tmp_path, disk_alarm
):
    """Blocked, no row is confirmed: a second Ctrl+C leaves all 18 in flight, perhaps stored."""
    emitter = start_emitter(scratch_broker.url, tmp_path)
    try:
        emitter.wait_for(BLOCKED)
        emitter.send(signal.SIGINT)
        emitter.wait_for(
            " [*] interrupted (Ctrl+C): waiting up to 5 s for the confirms of 18 rows in "
            "flight; Ctrl+C again stops at once"
        )
        emitter.send(signal.SIGINT)
        ended = emitter.wait(timeout=30)
    finally:
        emitter.kill()
    last = emitter.output.strip().splitlines()[-1]
    assert ended.code == 1
    assert "Traceback" not in emitter.output
    assert last == (
        "v3_emitter_of_tasks: error: interrupted (Ctrl+C) twice: stopped at once, without "
        "waiting for the confirms of 18 rows in flight: up to 18 of the rows to resume from "
        "may already be in the queue, and would then be sent twice; 18 rows were already sent; "
        "18 of 18 rows not confirmed (18 with no answer): rows 1-18 (0 confirmed); "
        f"resume with: {PYTHON} v3_emitter_of_tasks.py --queue task_queue3 --from-row 1"
    )


# --- a broker restart mid-stream ------------------------------------------------------------

ROWS = 50_000


def emitting(scratch_broker, tmp_path: Path, queue: str, *args: str) -> Child:
    """The emitter sending ROWS rows to `queue`, returned once 3,000 of them are in it."""
    csv_file = tmp_path / "many.csv"
    csv_file.write_text("".join(f"task {row}\n" for row in range(1, ROWS + 1)))
    url = scratch_broker.url
    emitter = start_emitter(url, tmp_path, str(csv_file), "--queue", queue, "--quiet", *args)
    wait_until(
        lambda: ready_count(url, queue, missing_ok=True) >= 3000, what="3,000 rows in the queue"
    )
    return emitter


@contextmanager
def app_stopped(scratch_broker, emitter: Child):
    """RabbitMQ's application stopped on the node (`rabbitmqctl stop_app`) under the emitter
    mid-stream, started again at the end of the block whatever happens. The emitter is paused
    (SIGSTOP) until the application has stopped: however fast the broker takes rows (4.0
    takes the 50,000 in about a second, the CLI needs as long to start), none go meanwhile."""
    emitter.send(signal.SIGSTOP)
    try:
        scratch_broker.rabbitmqctl("stop_app")
    finally:
        emitter.send(signal.SIGCONT)
    try:
        yield
    finally:
        scratch_broker.rabbitmqctl("start_app")


def test_a_broker_restart_mid_stream_is_ridden_out_and_every_row_arrives(scratch_broker, tmp_path):
    emitter = emitting(scratch_broker, tmp_path, "restarted")
    try:
        with app_stopped(scratch_broker, emitter):
            emitter.wait_for("; reconnecting in ")
        ended = emitter.wait(timeout=120)
    finally:
        emitter.kill()

    output = emitter.output
    assert ended.code == 0, output
    assert " [*] reconnected to 127.0.0.1:" in output
    summary = re.search(r"(\d+) confirmed by the broker, 0 blank rows skipped(.*)\.$", output)
    assert summary, output
    assert int(summary[1]) == ROWS
    lost = sum(map(int, re.findall(r"publishing again the (\d+) rows? not confirmed", output)))
    republished = re.fullmatch(
        r", (\d+) republished \(so up to \1 may be in the queue twice\)", summary[2]
    )
    assert republished, summary[2]
    again = int(republished[1])  # every row published more than once: lost, or refused
    assert 0 < lost <= again, output
    messages = take_all(scratch_broker.url, "restarted")
    rows = Counter(properties.headers["row"] for _, properties in messages)
    assert set(rows) == set(range(1, ROWS + 1))  # every row at least once
    assert sum(rows.values()) - ROWS <= again  # twice at most those published again


def test_a_broker_down_longer_than_retry_for_is_one_line_naming_the_rows(scratch_broker, tmp_path):
    emitter = emitting(scratch_broker, tmp_path, "abandoned", "--retry-for", "2")
    try:
        with app_stopped(scratch_broker, emitter):
            ended = emitter.wait(timeout=60)
    finally:
        emitter.kill()

    last = emitter.output.strip().splitlines()[-1]
    assert ended.code == 1, emitter.output
    assert last.startswith(
        "v3_emitter_of_tasks: error: lost the connection to RabbitMQ and could not reconnect "
        f"within 2 s (--retry-for); the last attempt: cannot connect to RabbitMQ at "
        f"127.0.0.1:{scratch_broker.port}: Connection refused "
    )
    found = re.search(
        r"rows not confirmed .*: rows (\d+)-\d+ .*; resume with: .* --from-row (\d+)$", last
    )
    assert found, last
    assert found[1] == found[2]
