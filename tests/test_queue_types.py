"""What RabbitMQ 4 changes for the scripts: a vhost whose default queue type is quorum, and
quorum queues' delivery limit (20 by default from 4.0 on).

They run on the broker under test (3.10 with `make test`, 4.0 with `make test-rabbitmq4`),
and where the versions differ each asserts what its version does (docs/worker.md)."""

from __future__ import annotations

import re
import shlex
import subprocess

import pytest

from harness.broker import CTL, GUEST, Vhost, api
from harness.children import run_script, script_env, wait_until
from tests.support import QUEUE_OF
from tools.management import quoted
from utils import PROJECT_ROOT
from utils.dead_letter import dead_letter_queue

pytestmark = pytest.mark.broker

QUEUE = QUEUE_OF["v3"]
SENT = {"v1": 1, "v2": 1, "v3": 18}  # tasks each version's emitter sends by default
DELIVERY_LIMIT = 20  # 4.0's default for a quorum queue; the policy of docs/worker.md's too


def broker_major() -> int:
    """The broker under test's major version: 3 or 4."""
    overview = api("GET", "/overview")
    assert isinstance(overview, dict)
    return int(overview["rabbitmq_version"].split(".")[0])


@pytest.fixture
def quorum_vhost(management_api):
    """A vhost of the test's own whose default queue type is quorum."""
    with Vhost(default_queue_type="quorum") as isolated:
        yield isolated


@pytest.mark.parametrize("version", ["v1", "v2", "v3"])
def test_each_version_declares_its_queue_and_works_where_quorum_is_the_default(
    quorum_vhost, workers, tmp_path, version
):
    """The scripts declare no queue type: the vhost's default gives them a quorum queue."""
    env = script_env(quorum_vhost.url, log_dir=tmp_path, seconds_per_dot="0")
    sent = run_script(f"{version}_emitter_of_tasks.py", env=env)
    assert sent.returncode == 0, sent.stdout + sent.stderr
    worker = workers(f"{version}_listening_worker.py", env=env)

    worker.wait_until(lambda output: output.count("Done") == SENT[version], "every task done")
    assert worker.stop().code == 0, worker.output
    assert quorum_vhost.queue_info(QUEUE_OF[version])["type"] == "quorum"
    assert quorum_vhost.ready_count(QUEUE_OF[version]) == 0
    assert "using it as it is" not in sent.stdout + worker.output  # declared, not refused


def test_queue_type_classic_gives_a_classic_queue_where_quorum_is_the_default(
    quorum_vhost, workers, tmp_path
):
    """--queue-type classic is asked for, not left to the vhost: the v3 scripts' queue is
    classic there, and each task is done once."""
    env = script_env(quorum_vhost.url, log_dir=tmp_path, seconds_per_dot="0")
    sent = run_script("v3_emitter_of_tasks.py", "--queue-type", "classic", env=env)
    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert quorum_vhost.queue_info(QUEUE)["type"] == "classic"
    worker = workers("v3_listening_worker.py", "--queue-type", "classic", env=env)

    worker.wait_until(lambda output: output.count("Done") == SENT["v3"], "every task done")
    assert worker.stop().code == 0, worker.output
    assert quorum_vhost.ready_count(QUEUE) == 0
    assert "using it as it is" not in sent.stdout + worker.output  # same type: no refusal


# --- a task that crashes its worker, on a quorum queue --------------------------------------


def crash_while_ready(vhost: Vhost, tmp_path, most: int) -> int:
    """Start the v3 worker with work that kills it (tests/work_hooks.py `crashing`) while the
    task is in the queue, `most` times at most: how many times it crashed."""
    env = script_env(vhost.url, log_dir=tmp_path, seconds_per_dot="0")
    crashes = 0
    while crashes < most and vhost.ready_count(QUEUE) == 1:
        crashed = run_script("-m", "tests.work_hooks", "crashing", env=env, timeout=30)
        assert crashed.returncode == -9, crashed.stdout + crashed.stderr
        assert "Received row 1 " in crashed.stdout
        crashes += 1
        # the broker takes the task back (or drops it) as it sees the consumer go
        wait_until(lambda: vhost.declared(QUEUE).consumer_count == 0, "the consumer to go")
    return crashes


def send_one_task(vhost: Vhost, tmp_path) -> None:
    csv_file = tmp_path / "one.csv"
    csv_file.write_text("Crash the worker.\n")
    env = script_env(vhost.url, log_dir=tmp_path)
    sent = run_script("v3_emitter_of_tasks.py", str(csv_file), env=env)
    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert vhost.queue_info(QUEUE)["type"] == "quorum"


def test_a_task_that_keeps_crashing_its_worker_is_dropped_after_the_delivery_limit_on_4(
    quorum_vhost, tmp_path
):
    send_one_task(quorum_vhost, tmp_path)

    crashes = crash_while_ready(quorum_vhost, tmp_path, most=DELIVERY_LIMIT + 2)

    if broker_major() >= 4:  # delivered 21 times, then dropped: no dead-letter queue has it
        assert crashes == DELIVERY_LIMIT + 1
        assert quorum_vhost.ready_count(QUEUE) == 0
        assert quorum_vhost.ready_count(dead_letter_queue(QUEUE), missing_ok=True) == 0
    else:  # 3.x: no limit, it comes back for ever
        assert crashes == DELIVERY_LIMIT + 2
        assert quorum_vhost.ready_count(QUEUE) == 1


def policy_recipe(vhost: Vhost) -> str:
    """docs/worker.md's bash block, for the test's vhost and the broker under test."""
    page = (PROJECT_ROOT / "docs" / "worker.md").read_text()
    [block] = re.findall(r"^```bash\n(.*?)^```", page, re.MULTILINE | re.DOTALL)
    recipe = (
        block.replace("-p / ", f"-p {shlex.quote(vhost.name)} ")
        .replace("/%2F/", f"/{quoted(vhost.name)}/")
        .replace("localhost:15672", GUEST.host)
    )
    return re.sub(r"^rabbitmqctl ", f"{shlex.join(CTL)} ", recipe, flags=re.MULTILINE)


def test_the_dead_letter_policy_of_the_docs_sets_the_crashing_task_aside(quorum_vhost, tmp_path):
    send_one_task(quorum_vhost, tmp_path)
    recipe = policy_recipe(quorum_vhost)
    ran = subprocess.run(["bash", "-e", "-c", recipe], capture_output=True, text=True, timeout=60)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    wait_until(
        lambda: quorum_vhost.queue_info(QUEUE).get("policy") == "task-queue3-dead-letter",
        "the policy to apply to the queue",
    )

    crashes = crash_while_ready(quorum_vhost, tmp_path, most=DELIVERY_LIMIT + 2)

    assert crashes == DELIVERY_LIMIT + 1
    assert quorum_vhost.ready_count(QUEUE) == 0
    [(body, properties)] = quorum_vhost.take_all(dead_letter_queue(QUEUE))
    assert body == b"Crash the worker."
    assert properties.headers["row"] == 1
    [death] = properties.headers["x-death"]
    assert death["reason"] == "delivery_limit"
    assert death["queue"] == QUEUE
