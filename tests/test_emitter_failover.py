"""The v3 emitter fails over to another node, and every row reaches the quorum queue; it
says when a quorum queue without a majority leaves its rows unanswered.

Its node is killed mid-stream; it goes on with another, and every row is in the queue at
least once.

On scripts/local_cluster.sh (rmq1..rmq3@localhost on 127.0.0.1:5701-5703, the cluster
fixture: a whole cluster for this module, torn down whatever happens). The emitter is
given rmq1's URL first, so that is its node; rmq1 gets SIGKILL once a tenth of the rows
are in the queue. Select it with `pytest -m cluster`; its figures are printed even
without `-s`.
"""

from __future__ import annotations

import re
import time
from collections import Counter

import pika
import pytest

from tests.support import script_env, take_all, wait_until

pytestmark = pytest.mark.cluster

QUEUE = "failover"
ROWS = 200_000
KILL_AT = ROWS // 10  # rows in the queue when the emitter's node is killed


def test_a_quorum_queue_without_a_majority_is_waited_for_and_said(cluster, workers, tmp_path):
    """RabbitMQ neither confirms nor refuses what a quorum queue without a majority cannot
    commit: the emitter says that it waits, and carries on once the majority is back.
    Runs before the node kill below, on the whole cluster."""
    with pika.BlockingConnection(pika.URLParameters(cluster.url("rmq1"))) as connection:
        arguments = {"x-queue-type": "quorum"}  # a replica on each of the three nodes
        connection.channel().queue_declare("no-majority", durable=True, arguments=arguments)
    for node in ("rmq2", "rmq3"):
        cluster.ctl(node, "stop_app")
    try:
        env = script_env(cluster.url("rmq1"), log_dir=tmp_path)
        emitter = workers("v3_emitter_of_tasks.py", "--queue", "no-majority", env=env)
        waiting = re.compile(r" \[!\] no confirm from RabbitMQ for \d+ s, 18 rows in flight: still")
        emitter.wait_until(waiting.search, "the line that says the emitter waits")
    finally:
        for node in ("rmq2", "rmq3"):
            cluster.ctl(node, "start_app")
        # as found: a quorum queue declared next gets a replica on each of the three
        wait_until(lambda: len(cluster.running()) == 3, what="rmq1 to see three nodes running")

    assert emitter.wait(timeout=60).code == 0, emitter.output
    assert "18 confirmed by the broker" in emitter.output
    assert cluster.ready("no-majority", "rmq1") == 18


def test_killing_the_emitters_node_mid_stream_loses_no_row(cluster, workers, tmp_path, capsys):
    csv_file = tmp_path / "many.csv"
    csv_file.write_text("".join(f"task {row}\n" for row in range(1, ROWS + 1)))
    args = ("--queue", QUEUE, "--queue-type", "quorum", "--quiet")
    env = script_env(cluster.urls("rmq1"), log_dir=tmp_path)
    emitter = workers("v3_emitter_of_tasks.py", str(csv_file), *args, env=env)
    wait_until(
        lambda: cluster.ready(QUEUE, "rmq2", missing_ok=True) >= KILL_AT,
        timeout=120,
        what=f"{KILL_AT} rows in the queue",
    )
    # a majority of the queue's replicas must outlive rmq1, or it has no leader after it
    wait_until(lambda: len(cluster.online(QUEUE)) == 3, what="the queue's 3 replicas online")
    cluster.kill("rmq1")
    killed = time.monotonic()
    ended = emitter.wait(timeout=300)
    after_kill = time.monotonic() - killed

    output = emitter.output
    replicas = cluster.ctl("rmq2", "list_queues", "name", "members", "online", "leader")
    assert ended.code == 0, f"{output}\n{replicas}"
    assert re.search(r" \(127\.0\.0\.1:5701\); reconnecting in ", output), output
    assert re.search(r" \[\*\] reconnected to 127\.0\.0\.1:570[23] after ", output), output
    summary = re.search(
        r" (\d+) confirmed by the broker, 0 blank rows skipped, (\d+) republ", output
    )
    assert summary, output
    confirmed, republished = map(int, summary.groups())
    started = time.monotonic()
    rows = Counter(
        properties.headers["row"] for _, properties in take_all(cluster.url("rmq2"), QUEUE)
    )
    with capsys.disabled():  # the figures belong in the log, -s or not
        print(
            f"\ncluster up in {cluster.up_seconds:.1f} s; {ROWS:,} rows sent in "
            f"{ended.seconds:.1f} s, {after_kill:.1f} s of it after rmq1 was killed; "
            f"{republished:,} republished, {sum(rows.values()) - ROWS:,} in the queue twice; "
            f"taken back in {time.monotonic() - started:.1f} s"
        )
        print("\n".join(line for line in output.splitlines() if line.startswith((" [!]", " [*]"))))
    assert confirmed == ROWS
    assert set(rows) == set(range(1, ROWS + 1))  # every row at least once
    assert sum(rows.values()) - ROWS <= republished
