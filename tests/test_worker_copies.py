"""A copy of a task that the broker refuses is published again with backoff while the v3
worker holds its task, with a line that says why: the worker never goes on with a task left
unacked, and never spins."""

from __future__ import annotations

import pytest

from harness.children import script_env

pytestmark = pytest.mark.broker

HOOKED = ("-m", "tests.work_hooks", "failing")  # fails every task that says "fail"


def test_a_set_aside_copy_with_no_queue_to_go_to_is_held_then_sent_again(vhost, workers, tmp_path):
    env = script_env(vhost.url, log_dir=tmp_path, seconds_per_dot="0")
    worker = workers(*HOOKED, "--retries", "0", "--name", "w", env=env)
    vhost.publish("task_queue3", [b"fail once"])
    worker.wait_for("set aside in task_queue3.dead-letter")
    assert [body for body, _properties in vhost.take_all("task_queue3.dead-letter")] == [
        b"fail once"
    ]

    # an operator deletes the dead-letter queue: the worker's next copy is unroutable
    vhost.delete_queue("task_queue3.dead-letter")
    vhost.publish("task_queue3", [b"fail twice"])
    worker.wait_for("copy taken; going on")
    assert worker.stop().code == 0

    [line] = worker.lines("holds row")
    assert line.strip().startswith(
        "[!] worker w holds row ?: the broker could not route its copy: no queue "
        "task_queue3.dead-letter; its copy goes again in "
    )
    assert "(redelivered)" not in worker.output  # held, not given back
    [(body, properties)] = vhost.take_all("task_queue3.dead-letter")
    assert (body, properties.headers["x-failures"]) == (b"fail twice", 1)
    assert vhost.ready_count("task_queue3") == 0


def test_set_aside_is_said_only_once_the_broker_has_the_copy(vhost, workers, tmp_path):
    with vhost.connection() as connection:  # every copy refused until the limit is lifted
        full = {"x-max-length": 0, "x-overflow": "reject-publish"}
        connection.channel().queue_declare("task_queue3.dead-letter", durable=True, arguments=full)
    env = script_env(vhost.url, log_dir=tmp_path, seconds_per_dot="0")
    worker = workers(*HOOKED, "--retries", "0", "--name", "w", env=env)
    vhost.publish("task_queue3", [b"fail me"])
    worker.wait_for("holds row ?")

    assert "set aside in" not in worker.output  # not yet: the broker refused the copy
    vhost.delete_queue("task_queue3.dead-letter")  # the next copy declares it anew, no limit
    worker.wait_for("copy taken; going on")
    assert worker.stop().code == 0
    [line] = worker.lines("set aside in task_queue3.dead-letter")
    assert worker.output.index("holds row ?") < worker.output.index(line)
    assert [body for body, _properties in vhost.take_all("task_queue3.dead-letter")] == [b"fail me"]
