"""A broker restart: the persistent tasks waiting in the queue survive it, and a running v3
worker reconnects and does every one of them; with no worker, every row the v3 emitter sent
is still there after it.

The broker restarted is a throwaway node of the tests' own (scripts/local_broker.sh, the
scratch_broker fixture, shared with the alarm tests): the broker on 5672 is never stopped.
"""

from __future__ import annotations

import pytest

from harness.broker import take_all
from harness.children import run_script, script_env, wait_until
from tests.support import TASKS_CSV_ROWS
from utils.console_lines import READY_WORDS, done_rows, parse_all_received

pytestmark = pytest.mark.broker

ALL_ROWS = set(range(1, 19))  # tasks.csv


def restart(scratch_broker) -> None:
    """Restart RabbitMQ on the scratch node: what it kept on disk is all it has after."""
    try:
        scratch_broker.rabbitmqctl("stop_app")
    finally:
        scratch_broker.rabbitmqctl("start_app")
        scratch_broker.rabbitmqctl("await_startup")


def test_v3_rows_wait_durably_when_no_worker_runs(scratch_broker, tmp_path):
    queue = "rows-waiting"  # of this test alone, on the scratch node
    env = script_env(scratch_broker.url, log_dir=tmp_path)
    result = run_script("v3_emitter_of_tasks.py", "--queue", queue, env=env)
    assert result.returncode == 0, result.stderr  # every row confirmed: stored

    restart(scratch_broker)

    messages = take_all(scratch_broker.url, queue)  # the queue too is still there
    assert [body.decode() for body, _ in messages] == TASKS_CSV_ROWS
    assert {properties.delivery_mode for _, properties in messages} == {2}
    assert [properties.headers["row"] for _, properties in messages] == list(range(1, 19))


def test_tasks_survive_a_broker_restart_and_the_worker_reconnects(
    scratch_broker, workers, tmp_path
):
    # tasks.csv at 0.3 s per dot: about 9 s of work for one worker, so most of it still
    # waits in the queue when the broker stops
    # a queue of this test alone: the scratch node's other tests leave rows in task_queue3
    queue = "tasks-through-a-restart"
    env = script_env(scratch_broker.url, log_dir=tmp_path, seconds_per_dot="0.3")
    worker = workers("v3_listening_worker.py", "--queue", queue, "--name", "survivor", env=env)
    worker.wait_for(READY_WORDS)
    emitted = run_script("v3_emitter_of_tasks.py", "--queue", queue, env=env)
    assert emitted.returncode == 0  # all 18 confirmed
    worker.wait_until(lambda output: 1 in done_rows(output), "row 1 done")

    try:
        scratch_broker.rabbitmqctl("stop_app")
        worker.wait_for("lost its connection", timeout=30)
    finally:
        scratch_broker.rabbitmqctl("start_app")
        scratch_broker.rabbitmqctl("await_startup")
    worker.wait_for("reconnected", timeout=60)

    before_stop = worker.output.split("lost its connection")[0]
    not_done = ALL_ROWS - set(done_rows(before_stop))
    # prefetch 1: at most one task was in the worker's hands; the others were in the queue
    in_hand = {task.row for task in parse_all_received(before_stop)} & not_done
    waiting = not_done - in_hand
    assert len(in_hand) <= 1 and waiting, before_stop

    wait_until(
        lambda: not_done <= set(done_rows(worker.output.split("reconnected", 1)[1])),
        timeout=60,
        what=f"rows {sorted(not_done)} done after the restart",
    )
    assert worker.running()  # it never exited
    assert worker.stop().code == 0
