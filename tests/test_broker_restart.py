"""A broker restart: persistent tasks survive and a running v3 worker carries on.

It stops and starts the local broker's application, so it runs last (see conftest.py) and
always restores the broker.
"""

from __future__ import annotations

import pytest

from tests.support import rabbitmqctl, run_script, script_env, wait_until
from utils.console_lines import READY_WORDS, done_rows

pytestmark = [pytest.mark.broker, pytest.mark.restart]


def test_tasks_survive_a_broker_restart_and_the_worker_reconnects(vhost, workers, tmp_path):
    # tasks.csv: 3 s of work for one worker
    env = script_env(vhost.url, log_dir=tmp_path, seconds_per_dot="0.1")
    worker = workers("v3_listening_worker.py", "--name", "survivor", env=env)
    worker.wait_for(READY_WORDS)
    assert run_script("v3_emitter_of_tasks.py", env=env).returncode == 0
    worker.wait_until(lambda output: 3 in done_rows(output), "row 3 done")

    try:
        rabbitmqctl("stop_app")
        worker.wait_for("lost its connection", timeout=30)
    finally:
        rabbitmqctl("start_app")
        rabbitmqctl("await_startup")

    worker.wait_for("reconnected", timeout=60)
    wait_until(
        lambda: set(done_rows(worker.output)) == set(range(1, 19)),
        timeout=60,
        what="every row done after the restart",
    )
    assert worker.running()  # it never exited
    assert worker.stop().code == 0
    assert vhost.queue_info("task_queue3")["durable"] is True
