"""A broker that says no to the v3 worker: a copy refused (a full dead-letter queue, a missing
permission) is held and published again with backoff, said at growing intervals, never spun;
and a broker that does not answer at start-up is left at once on the first Ctrl+C."""

from __future__ import annotations

import signal
import socket
import time

import pytest

from harness.broker import api
from harness.children import Child, script_env
from tests.test_permissions import user_with
from tests.test_worker_retries import send_rows
from tools.management import quoted
from utils.console_lines import done_rows

pytestmark = pytest.mark.broker

HOOKED = ("-m", "tests.work_hooks", "failing")  # fails every task that says "fail"
SET_ASIDE = "set aside in task_queue3.dead-letter"


@pytest.fixture
def full_dead_letters(vhost) -> str:
    """A policy that keeps the vhost's dead-letter queues at 0 messages, refusing (nacking)
    every publish to them; its path in the management API, to delete it."""
    policy = f"/policies/{quoted(vhost.name)}/full-dead-letters"
    full = {"max-length": 0, "overflow": "reject-publish"}
    api("PUT", policy, {"pattern": r"\.dead-letter$", "definition": full, "apply-to": "queues"})
    return policy


def test_a_copy_refused_by_a_full_dead_letter_queue_is_held_not_spun(
    vhost, full_dead_letters, workers, tmp_path
):
    env = script_env(vhost.url, log_dir=tmp_path, seconds_per_dot="0")
    send_rows(env, tmp_path, ["Fail this", "Good task."])
    worker = workers(*HOOKED, "--retries", "0", "--name", "w", env=env)

    worker.wait_for("holds row 1")
    time.sleep(10)  # what a refused copy costs over 10 s: a few lines, not thousands
    held = worker.lines("holds row 1")
    assert 2 <= len(held) <= 4, worker.output
    assert held[0].endswith(
        "worker w holds row 1: the broker refused its copy to task_queue3.dead-letter (a "
        "nack); its copy goes again in " + held[0].split("goes again in ")[1]
    )
    assert "refusal 1)" in held[0] and "refusal 2)" in held[1]
    assert len(worker.output.splitlines()) < 12
    assert done_rows(worker.output) == []  # no new task meanwhile
    assert vhost.declared("task_queue3").message_count == 1  # row 2 waits; row 1 is held
    assert vhost.ready_count("task_queue3.dead-letter") == 0

    api("DELETE", full_dead_letters)  # the limit lifted: the next copy goes, and the worker with it
    worker.wait_for("Done", timeout=40)
    assert worker.stop().code == 0
    assert "row 1's copy taken; going on" in worker.output
    assert done_rows(worker.output) == [2]
    [(body, _properties)] = vhost.take_all("task_queue3.dead-letter")
    assert body == b"Fail this"
    assert vhost.ready_count("task_queue3") == 0


def test_a_stop_while_a_copy_is_refused_gives_its_task_back(
    vhost, full_dead_letters, workers, tmp_path
):
    env = script_env(vhost.url, log_dir=tmp_path, seconds_per_dot="0")
    send_rows(env, tmp_path, ["Fail this", "Good task."])
    worker = workers(*HOOKED, "--retries", "0", "--name", "w", env=env)
    worker.wait_for("holds row 1")

    assert worker.stop().code == 0
    [line] = worker.lines("stopping")
    assert line.endswith(
        "worker w interrupted (Ctrl+C): stopping; row 1, its copy refused, goes back to task_queue3"
    )
    assert vhost.ready_count("task_queue3") == 2  # row 1 given back, row 2 never taken
    assert vhost.ready_count("task_queue3.dead-letter") == 0


def test_a_copy_refused_for_a_missing_permission_says_why_and_goes_once_granted(
    vhost, workers, tmp_path
):
    with user_with(vhost, configure="^task_queue3$", write=".*", read=".*") as (name, url):
        env = script_env(url, log_dir=tmp_path, seconds_per_dot="0")
        send_rows(env, tmp_path, ["Fail this", "Good task."])
        worker = workers(*HOOKED, "--retries", "0", "--name", "w", env=env)
        worker.wait_for("holds row 1")
        [line] = worker.lines("holds row 1")
        assert (
            f"worker w holds row 1: queue task_queue3.dead-letter does not exist in vhost "
            f"{vhost.name!r}, and user {name!r} may not create it (no configure permission): "
            "ask the broker's administrator to declare it; its copy goes again in "
        ) in line

        everything = {"configure": ".*", "write": ".*", "read": ".*"}
        api("PUT", f"/permissions/{quoted(vhost.name)}/{name}", everything)
        worker.wait_for("Done", timeout=40)
        assert worker.stop().code == 0

    assert "row 1's copy taken; going on" in worker.output
    assert done_rows(worker.output) == [2]  # each task once: row 1 set aside, row 2 done
    assert [body for body, _ in vhost.take_all("task_queue3.dead-letter")] == [b"Fail this"]
    assert vhost.ready_count("task_queue3") == 0
    assert "Traceback" not in worker.output


def test_the_first_ctrl_c_while_connecting_to_a_silent_broker_stops_at_once(tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, then never answers
        port = silent.getsockname()[1]
        env = script_env(f"amqp://guest:guest@127.0.0.1:{port}/%2F", log_dir=tmp_path)
        worker = Child(
            "v3_listening_worker.py", "--name", "w", env=env, out_path=tmp_path / "w.out"
        )
        try:
            time.sleep(1.5)  # well inside its connect, which waits up to 10 s for an answer
            assert worker.running()
            started = time.monotonic()
            exited = worker.stop(signal.SIGINT, timeout=10)
        finally:
            worker.kill()
    assert exited.code == 0
    assert time.monotonic() - started < 2
    assert worker.output.splitlines()[0] == (
        " [*] worker w interrupted (Ctrl+C) while connecting: stopped"
    )
    assert "Traceback" not in worker.output
