"""Quorum queues on a three-node cluster: killing the queue's leader loses no task.

Brings up scripts/local_cluster.sh (rmq1..rmq3@localhost on 127.0.0.1:5701-5703; the broker
on 5672 is never touched) for this module and always tears it down. The cluster takes
30-50 s to form. Select it with `pytest -m cluster`, leave it out with `-m "not cluster"`;
the figures (start-up time, duplicates, redeliveries) are printed even without `-s`.
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from pathlib import Path

import pika
import pytest

from tests.local_nodes import LocalNodes
from tests.support import run_script, script_env, wait_until
from utils import PROJECT_ROOT
from utils.console_lines import READY_WORDS, done_rows, parse_all_received

pytestmark = pytest.mark.cluster

CLUSTER_SCRIPT = PROJECT_ROOT / "scripts" / "local_cluster.sh"
PORTS = {"rmq1": 5701, "rmq2": 5702, "rmq3": 5703}
QUEUE = "cq"
TASKS = 1000
KILL_AFTER = 100  # tasks done before the leader is killed: most are still to do


class LocalCluster(LocalNodes):
    """scripts/local_cluster.sh, with a state directory of its own."""

    def __init__(self, state_dir: Path) -> None:
        super().__init__(CLUSTER_SCRIPT, "RMQ_CLUSTER_DIR", state_dir)

    def urls(self, first: str) -> str:
        """Every node's URL, `first` first: what a client of that node is given."""
        order = [first, *(node for node in PORTS if node != first)]
        return ",".join(f"amqp://guest:guest@127.0.0.1:{PORTS[node]}/" for node in order)

    def leader(self, queue: str, ask: str = "rmq1") -> str:
        """The node whose replica leads a quorum queue, e.g. 'rmq2'."""
        return self._column(queue, "leader", ask).split("@")[0]

    def _column(self, queue: str, column: str, ask: str) -> str:
        out = self.ctl(ask, "list_queues", "--no-table-headers", "name", column)
        [value] = [line.split()[1] for line in out.splitlines() if line.split()[:1] == [queue]]
        return value

    def ready(self, queue: str, node: str) -> int:
        """Messages ready in a queue, exactly, as its leader counts them.

        (A passive declare: list_queues's `messages` of a quorum queue is a metric sampled
        every few seconds, and reads 0 for a while after a new leader is elected.)
        """
        params = pika.URLParameters(f"amqp://guest:guest@127.0.0.1:{PORTS[node]}/")
        with pika.BlockingConnection(params) as connection:
            return connection.channel().queue_declare(queue, passive=True).method.message_count

    def kill(self, node: str) -> None:
        """SIGKILL a node's Erlang VM: no goodbye to its peers or to its clients."""
        pid = int((self.state_dir / node / f"{node}.pid").read_text())
        os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A three-node cluster for this module, torn down whatever happens."""
    local = LocalCluster(tmp_path_factory.mktemp("cluster") / "state")
    try:
        local.up()
        yield local
    finally:
        local.down()


def emit_tasks(cluster: LocalCluster, tmp_path: Path) -> None:
    """TASKS one-dot tasks ('task n .' on line n) into a new quorum queue, all confirmed."""
    tasks = tmp_path / "tasks.csv"
    tasks.write_text("".join(f"task {n} .\n" for n in range(1, TASKS + 1)))
    args = ("--queue", QUEUE, "--queue-type", "quorum", "--quiet")
    env = script_env(cluster.urls("rmq1"), log_dir=tmp_path)
    result = run_script("v3_emitter_of_tasks.py", str(tasks), *args, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{TASKS} confirmed" in result.stdout


def start_team(cluster: LocalCluster, workers, log_dir: Path) -> dict:
    """One worker per node, named after it, given its own node's URL first."""
    args = ("--queue", QUEUE, "--queue-type", "quorum")
    team = {
        node: workers(
            "v3_listening_worker.py",
            *args,
            "--name",
            node,
            env=script_env(cluster.urls(node), log_dir=log_dir, seconds_per_dot="0.01"),
        )
        for node in PORTS
    }
    for worker in team.values():
        worker.wait_for(READY_WORDS)
    return team


def report(cluster, team: dict, leader: str, done_at_kill: int, seconds: float) -> Counter:
    """Print what happened; return how many times each row was done."""
    counts = Counter(row for worker in team.values() for row in done_rows(worker.output))
    duplicates = {
        row: [node for node, worker in team.items() if row in done_rows(worker.output)]
        for row, times in sorted(counts.items())
        if times > 1
    }
    per_worker = {node: len(done_rows(worker.output)) for node, worker in team.items()}
    redelivered = sum(
        task.note == "redelivered"
        for worker in team.values()
        for task in parse_all_received(worker.output)
    )
    print(
        f"\ncluster up in {cluster.up_seconds:.1f} s; "
        f"{leader} (the leader) killed after {done_at_kill} of {TASKS} tasks; all done in "
        f"{seconds:.1f} s; done per worker {per_worker}; {sum(counts.values())} done in all: "
        f"{sum(counts.values()) - len(counts)} duplicates (row: workers {duplicates}), "
        f"{redelivered} redeliveries"
    )
    return counts


def test_killing_the_quorum_queue_leader_loses_no_task(cluster, workers, tmp_path, capsys):
    emit_tasks(cluster, tmp_path)
    leader = cluster.leader(QUEUE)
    survivor = next(node for node in PORTS if node != leader)
    started = time.monotonic()
    team = start_team(cluster, workers, tmp_path)

    def done() -> list[int]:
        return [row for worker in team.values() for row in done_rows(worker.output)]

    wait_until(lambda: len(done()) >= KILL_AFTER, timeout=30, what=f"{KILL_AFTER} tasks done")
    cluster.kill(leader)
    done_at_kill = len(done())
    everything = set(range(1, TASKS + 1))
    wait_until(lambda: set(done()) >= everything, timeout=60, what=f"all {TASKS} tasks done")
    seconds = time.monotonic() - started
    # a task whose ack died with the leader comes back: let it be done again, so that the
    # duplicates are all counted (a task in hand is finished when its worker stops)
    wait_until(lambda: cluster.ready(QUEUE, survivor) == 0, timeout=30, what="no task ready")
    exits = {node: worker.stop(signal.SIGINT).code for node, worker in team.items()}

    with capsys.disabled():  # the figures belong in the log, -s or not
        counts = report(cluster, team, leader, done_at_kill, seconds)
    orphan = team[leader].output  # its node died under it
    assert done_at_kill < TASKS, "the leader died after the work was over"
    assert set(counts) == everything
    assert "reconnected" in orphan, orphan
    assert done_rows(orphan.split("reconnected", 1)[1]), "no task done after reconnecting"
    assert cluster.leader(QUEUE, ask=survivor) != leader
    assert exits == dict.fromkeys(PORTS, 0)
