"""docs/rabbitmq-definitions.json: a least-privilege set-up that the scripts work with.

Its queues, users and permissions are loaded with `rabbitmqctl import_definitions` on a
throwaway node of the tests."""

from __future__ import annotations

import pytest

from harness.children import run_script, script_env
from utils import PROJECT_ROOT

pytestmark = pytest.mark.broker

DEFINITIONS = PROJECT_ROOT / "docs" / "rabbitmq-definitions.json"


def url(scratch_broker, user: str, password: str) -> str:
    return f"amqp://{user}:{password}@127.0.0.1:{scratch_broker.port}/work-queues"


@pytest.fixture(scope="module")
def defined(scratch_broker):
    scratch_broker.rabbitmqctl("import_definitions", str(DEFINITIONS))
    return scratch_broker


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_the_producer_and_the_worker_of_the_definitions_share_the_work(
    defined, workers, tmp_path, version
):
    producer = url(defined, "work-queues-producer", "change-me-producer")
    worker_url = url(defined, "work-queues-worker", "change-me-worker")

    sent = run_script(
        f"{version}_emitter_of_tasks.py",
        "Defined task.",
        env=script_env(producer, log_dir=tmp_path),
    )
    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert "may not declare queue" in sent.stdout  # the administrator declared it

    worker = workers(f"{version}_listening_worker.py", env=script_env(worker_url, log_dir=tmp_path))
    worker.wait_for("Done")
    assert "Received Defined task." in worker.output
    assert worker.stop().code == 0


def test_the_producer_may_not_take_tasks(defined, tmp_path):
    producer = url(defined, "work-queues-producer", "change-me-producer")
    result = run_script(
        "v1_listening_worker.py", env=script_env(producer, log_dir=tmp_path), timeout=30
    )
    assert result.returncode == 1
    assert "may not take messages from queue task_queue" in result.stderr
