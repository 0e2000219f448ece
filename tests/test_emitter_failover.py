"""The v3 emitter fails over to another node, and every row reaches the quorum queue; it
says when a quorum queue without a majority leaves its rows unanswered, and waits for it
no longer than --retry-for.

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

from harness.broker import take_all
from harness.children import script_env, wait_until
from tests.support import PYTHON

pytestmark = pytest.mark.cluster

QUEUE = "failover"
ROWS = 200_000
KILL_AT = ROWS // 10  # rows in the queue when the emitter's node is killed


def test_a_quorum_queue_without_a_majority_is_waited_for_within_retry_for(
    cluster, workers, tmp_path, capsys
):
    """RabbitMQ neither confirms nor refuses what a quorum queue without a majority cannot
    commit: the emitter says that it waits. With a short --retry-for it gives up, naming
    the rows and the command that resumes; with the majority back within the budget it
    carries on, every row confirmed once. Runs before the node kill below, on the whole
    cluster."""
    with pika.BlockingConnection(pika.URLParameters(cluster.url("rmq1"))) as connection:
        arguments = {"x-queue-type": "quorum"}  # a replica on each of the three nodes
        for queue in ("no-majority", "short-budget"):
            connection.channel().queue_declare(queue, durable=True, arguments=arguments)
    env = script_env(cluster.url("rmq1"), log_dir=tmp_path)
    for node in ("rmq2", "rmq3"):
        cluster.ctl(node, "stop_app")
    try:
        emitter = workers("v3_emitter_of_tasks.py", "--queue", "no-majority", env=env)
        short = workers(
            "v3_emitter_of_tasks.py", "--queue", "short-budget", "--retry-for", "3", env=env
        )
        gave_up = short.wait(timeout=60)
        waiting = re.compile(r" \[!\] no confirm from RabbitMQ for \d+ s, 18 rows in flight: still")
        emitter.wait_until(waiting.search, "the line that says the emitter waits")
    finally:
        for node in ("rmq2", "rmq3"):
            cluster.ctl(node, "start_app")
        # as found: a quorum queue declared next gets a replica on each of the three
        wait_until(lambda: len(cluster.running()) == 3, what="rmq1 to see three nodes running")

    last = short.output.strip().splitlines()[-1]
    ended = emitter.wait(timeout=60)
    with capsys.disabled():  # the figures belong in the log, -s or not
        print(f"\n--retry-for 3, exit {gave_up.code} after {gave_up.seconds:.1f} s: {last}")
        print(f"--retry-for 60, exit {ended.code}: {emitter.output.strip().splitlines()[-1]}")
    assert gave_up.code == 1, short.output
    # the budget spent (rows in flight are a silence after 10 s), then 5 s for answers
    assert 3 <= gave_up.seconds < 30
    assert re.match(
        r"v3_emitter_of_tasks: error: (no confirm from RabbitMQ for 1\d s, past --retry-for "
        r"\(3 s\)|RabbitMQ refused rows for 3 s \(--retry-for\)): short-budget may be .*; "
        r"18 rows were already sent; 18 of 18 rows not confirmed \(.*\): rows 1-18 "
        r"\(0 confirmed\)(; .*)?; resume with: "
        + re.escape(f"{PYTHON} v3_emitter_of_tasks.py --queue short-budget --retry-for 3")
        + " --from-row 1$",
        last,
    ), last
    assert ended.code == 0, emitter.output
    assert "18 confirmed by the broker, 0 blank rows skipped." in emitter.output  # none again
    rows = Counter(
        properties.headers["row"] for _, properties in take_all(cluster.url("rmq1"), "no-majority")
    )
    assert rows == Counter(range(1, 19))  # every row once


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
