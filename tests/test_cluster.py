"""Quorum queues on a three-node cluster: killing the queue's leader loses no task.

Brings up scripts/local_cluster.sh (rmq1..rmq3@localhost on 127.0.0.1:5701-5703; the broker
on 5672 is never touched) for this module and always tears it down. The cluster takes
30-50 s to form. Select it with `pytest -m cluster`, leave it out with `-m "not cluster"`;
the figures (start-up time, duplicates, redeliveries) are printed even without `-s`.
"""

from __future__ import annotations

import signal
import time
from collections import Counter
from pathlib import Path

import pytest

from harness.children import run_script, script_env, wait_until
from tests.local_nodes import LocalCluster
from utils.console_lines import READY_WORDS, done_rows, parse_all_received

pytestmark = pytest.mark.cluster

PORTS = LocalCluster.PORTS
QUEUE = "cq"
TASKS = 1000
KILL_AFTER = 100  # tasks done before the leader is killed: most are still to do


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
    # a majority of the queue's replicas must outlive the leader's node
    wait_until(lambda: len(cluster.online(QUEUE)) == 3, what="the queue's 3 replicas online")
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
