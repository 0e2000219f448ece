"""Queues someone else set up, and users with only the permissions they need.

A queue that exists with other settings is used as it is, with one line (and a warning
when it breaks a promise); a user who may not configure queues uses the queue an
administrator declared; a missing queue or permission is one line naming the user.
"""

from __future__ import annotations

import uuid
from contextlib import contextmanager

import pika
import pytest

from harness.broker import api, broker_url
from harness.children import run_script, script_env, wait_until
from tools.management import quoted
from utils.console_lines import READY_WORDS, done_rows

pytestmark = pytest.mark.broker

ALL_ROWS = list(range(1, 19))  # tasks.csv


@contextmanager
def user_with(vhost, configure: str, write: str, read: str):
    """A throwaway user with these permission patterns on the test's vhost: its AMQP URL."""
    name = f"test-{uuid.uuid4().hex[:8]}"
    api("PUT", f"/users/{name}", {"password": "secret-pw", "tags": ""})
    try:
        permissions = {"configure": configure, "write": write, "read": read}
        api("PUT", f"/permissions/{quoted(vhost.name)}/{name}", permissions)
        yield name, broker_url(name, "secret-pw", vhost.name)
    finally:
        api("DELETE", f"/users/{name}")


def declare(vhost, queue: str, durable: bool = True, arguments: dict | None = None) -> None:
    """Declare a queue as an administrator would, before the scripts run."""
    with vhost.connection() as connection:
        connection.channel().queue_declare(queue, durable=durable, arguments=arguments)


@pytest.mark.parametrize(("version", "queue"), [("v1", "task_queue"), ("v2", "task_queue2")])
def test_a_quorum_queue_declared_elsewhere_is_used_as_it_is(
    vhost, workers, tmp_path, version, queue
):
    declare(vhost, queue, arguments={"x-queue-type": "quorum"})
    env = script_env(vhost.url, log_dir=tmp_path)

    sent = run_script(f"{version}_emitter_of_tasks.py", "Quick task", env=env)
    assert sent.returncode == 0, sent.stderr
    assert (
        f" [*] queue {queue} already exists with other settings (its x-queue-type is quorum): "
        "using it as it is"
    ) in sent.stdout
    assert "[!]" not in sent.stdout + sent.stderr  # a quorum queue breaks no promise

    worker = workers(f"{version}_listening_worker.py", env=env)
    worker.wait_for("Done")
    assert worker.stop().code == 0
    assert vhost.ready_count(queue) == 0


def test_the_v3_emitter_uses_a_quorum_queue_declared_elsewhere_as_it_is(vhost, tmp_path):
    declare(vhost, "task_queue3", arguments={"x-queue-type": "quorum"})

    sent = run_script("v3_emitter_of_tasks.py", env=script_env(vhost.url, log_dir=tmp_path))

    assert sent.returncode == 0, sent.stderr
    assert (
        " [*] queue task_queue3 already exists with other settings (its x-queue-type is "
        "quorum): using it as it is"
    ) in sent.stdout
    assert "18 confirmed by the broker" in sent.stdout
    assert sent.stderr == ""  # a quorum queue breaks no promise
    assert vhost.queue_info("task_queue3")["type"] == "quorum"
    assert vhost.ready_count("task_queue3") == 18


def test_a_queue_that_is_not_durable_is_used_with_a_warning(vhost, tmp_path):
    declare(vhost, "task_queue", durable=False)

    sent = run_script("v1_emitter_of_tasks.py", env=script_env(vhost.url, log_dir=tmp_path))

    assert sent.returncode == 0, sent.stderr
    assert " [*] queue task_queue already exists with other settings (its durable is false)" in (
        sent.stdout
    )
    assert (
        " [!] queue task_queue: it is not durable: it and its tasks vanish when the broker restarts"
    ) in sent.stderr
    assert vhost.ready_count("task_queue") == 1


def send(vhost, queue: str, bodies: list[bytes]) -> None:
    """Publish persistent messages to a queue as it is (no declare), each confirmed."""
    with vhost.connection() as connection:
        channel = connection.channel()
        channel.confirm_delivery()
        for body in bodies:
            channel.basic_publish("", queue, body, pika.BasicProperties(delivery_mode=2))


def test_the_v3_worker_uses_a_quorum_queue_declared_elsewhere_as_it_is(vhost, workers, tmp_path):
    declare(vhost, "task_queue3", arguments={"x-queue-type": "quorum"})
    send(vhost, "task_queue3", [b"Quorum task."])

    worker = workers("v3_listening_worker.py", env=script_env(vhost.url, log_dir=tmp_path))
    worker.wait_for("Done")
    assert worker.stop().code == 0

    assert (
        " [*] queue task_queue3 already exists with other settings (its x-queue-type is "
        "quorum): using it as it is"
    ) in worker.output
    assert "[!]" not in worker.output  # a quorum queue breaks no promise
    assert vhost.ready_count("task_queue3") == 0


def test_a_least_privilege_v3_worker_works_through_queues_an_administrator_declared(
    vhost, workers, tmp_path
):
    declare(vhost, "task_queue3")
    declare(vhost, "task_queue3.dead-letter")
    # the work fails on "Failing task" (tests/work_hooks.py): retried, then set aside
    send(vhost, "task_queue3", [b"\xff not UTF-8", b"Failing task.", b"Least privilege task"])
    # it reads its queue, and publishes to the default exchange: retries, set-aside messages
    worker_user = user_with(vhost, configure="^$", write="^amq\\.default$", read="^task_queue3$")
    with worker_user as (name, url):
        env = script_env(url, log_dir=tmp_path)
        worker = workers("-m", "tests.work_hooks", "failing", env=env)
        worker.wait_for("Done")
        worker.wait_for("set aside in task_queue3.dead-letter")
        assert worker.stop().code == 0

    assert (
        f" [*] user {name} may not declare queue task_queue3, which exists: using it as it is"
    ) in worker.output
    set_aside = vhost.take_all("task_queue3.dead-letter")
    assert [body for body, _properties in set_aside] == [b"\xff not UTF-8", b"Failing task."]
    assert vhost.ready_count("task_queue3") == 0
    assert "secret-pw" not in worker.output


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_least_privilege_users_work_through_a_queue_an_administrator_declared(
    vhost, workers, tmp_path, version
):
    queue = {"v1": "task_queue", "v2": "task_queue2"}[version]
    declare(vhost, queue)
    declare(vhost, f"{queue}.dead-letter")
    producer = user_with(vhost, configure="^$", write="^amq\\.default$", read="^$")
    # the worker reads its queue, and may set a bad message aside in the dead-letter queue
    worker_user = user_with(vhost, configure="^$", write="^amq\\.default$", read=f"^{queue}$")
    with producer as (producer_name, producer_url), worker_user as (_name, worker_url):
        sent = run_script(
            f"{version}_emitter_of_tasks.py",
            "Least privilege task.",
            env=script_env(producer_url, log_dir=tmp_path),
        )
        assert sent.returncode == 0, sent.stderr
        assert (
            f" [*] user {producer_name} may not declare queue {queue}, which exists: "
            "using it as it is"
        ) in sent.stdout

        worker = workers(
            f"{version}_listening_worker.py", env=script_env(worker_url, log_dir=tmp_path)
        )
        worker.wait_for("Done")
        assert "Received Least privilege task." in worker.output
        assert worker.stop().code == 0
    assert vhost.ready_count(queue) == 0
    assert "secret-pw" not in sent.stdout + sent.stderr + worker.output


def test_a_least_privilege_user_runs_the_v3_emitter_on_a_queue_an_administrator_declared(
    vhost, tmp_path
):
    declare(vhost, "task_queue3")
    producer = user_with(vhost, configure="^$", write="^amq\\.default$", read="^$")
    with producer as (name, url):
        sent = run_script("v3_emitter_of_tasks.py", env=script_env(url, log_dir=tmp_path))
    assert sent.returncode == 0, sent.stderr
    assert (
        f" [*] user {name} may not declare queue task_queue3, which exists: using it as it is"
    ) in sent.stdout
    assert "18 confirmed by the broker" in sent.stdout
    assert vhost.ready_count("task_queue3") == 18
    assert "secret-pw" not in sent.stdout + sent.stderr


@pytest.mark.parametrize(
    "script", ["v1_emitter_of_tasks.py", "v2_listening_worker.py", "v3_emitter_of_tasks.py"]
)
def test_a_missing_queue_the_user_may_not_create_is_one_line(vhost, tmp_path, script):
    queue = {"v1": "task_queue", "v2": "task_queue2", "v3": "task_queue3"}[script[:2]]
    with user_with(vhost, configure="^$", write=".*", read=".*") as (name, url):
        result = run_script(script, env=script_env(url, log_dir=tmp_path), timeout=30)
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line == (
        f"{script[:-3]}: error: queue {queue} does not exist in vhost {vhost.name!r}, and user "
        f"{name!r} may not create it (no configure permission): ask the broker's "
        "administrator to declare it"
    )


def test_an_emitter_without_the_write_permission_says_so_and_sends_nothing(vhost, tmp_path):
    with user_with(vhost, configure=".*", write="^$", read=".*") as (name, url):
        result = run_script("v1_emitter_of_tasks.py", env=script_env(url, log_dir=tmp_path))
    assert result.returncode == 1
    assert "Sent" not in result.stdout  # it never claims a task the broker refused
    [line] = result.stderr.splitlines()
    assert line == (
        f"v1_emitter_of_tasks: error: user {name!r} may not publish to the default exchange "
        f"(amq.default) in vhost {vhost.name!r} (it needs the write permission on it): ask "
        "the broker's administrator"
    )


def test_a_worker_without_the_read_permission_says_so(vhost, tmp_path):
    declare(vhost, "task_queue2")
    with user_with(vhost, configure=".*", write=".*", read="^$") as (name, url):
        result = run_script(
            "v2_listening_worker.py", env=script_env(url, log_dir=tmp_path), timeout=30
        )
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line == (
        f"v2_listening_worker: error: user {name!r} may not take messages from queue "
        f"task_queue2 in vhost {vhost.name!r} (it needs the read permission on it): ask the "
        "broker's administrator"
    )


def test_least_privilege_users_run_the_demo_tasks_through_an_administrators_queue(
    vhost, workers, tmp_path
):
    """tasks.csv, as the demo sends it: a producer that may only publish, three workers that
    may only read their queue (and set bad messages aside), a queue declared beforehand."""
    declare(vhost, "task_queue3")
    declare(vhost, "task_queue3.dead-letter")
    producer = user_with(vhost, configure="^$", write="^amq\\.default$", read="^$")
    worker_user = user_with(vhost, configure="^$", write="^amq\\.default$", read="^task_queue3$")
    with producer as (_producer, producer_url), worker_user as (_worker, worker_url):
        env = script_env(worker_url, log_dir=tmp_path)
        started = [workers("v3_listening_worker.py", "--name", str(n), env=env) for n in (1, 2, 3)]
        for worker in started:
            worker.wait_for(READY_WORDS)
        sent = run_script("v3_emitter_of_tasks.py", env=script_env(producer_url, log_dir=tmp_path))
        assert sent.returncode == 0, sent.stdout + sent.stderr
        wait_until(
            lambda: sorted(row for w in started for row in done_rows(w.output)) == ALL_ROWS,
            what="every row of tasks.csv done once",
        )
        assert all(worker.stop().code == 0 for worker in started)
    assert vhost.ready_count("task_queue3") == 0
