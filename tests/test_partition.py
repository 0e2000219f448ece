"""Partitions: make partition's bookkeeping, and every worker noticing a silent cut.

The run itself (tools/partition.py, root, network namespaces, 2-4 minutes) is `make
partition`; the first tests check that it reads the emitter's lines as the emitter writes
them. The last one (marked partition: root, scripts/partition_cluster.sh's nodes) cuts a
node off silently under the v1, v2 and v3 workers.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator

import pytest

from harness.children import Child, script_env, start_script
from tools import partition
from tools.partition import CLUSTER, CUT_SECONDS, HEARTBEAT, confirmed_rows, node_url
from utils.errors import BrokerError, ExitCode
from utils.outcome import Outcome, failure_line
from utils.parameters import connection_parameters


def test_an_emitter_that_exits_0_had_every_row_confirmed():
    assert confirmed_rows(ExitCode.OK, [], 5) == ({1, 2, 3, 4, 5}, True)


def test_the_rows_the_emitter_names_as_not_confirmed_are_left_out():
    outcome = Outcome(sent=10, confirmed=7, refused=[2, 3], unconfirmed=[10])
    line = f"v3_emitter_of_tasks: error: {failure_line(outcome)}"
    assert confirmed_rows(ExitCode.FAILURE, ["a line before", line], 12) == (
        {1, 4, 5, 6, 7, 8, 9},
        True,
    )


def test_a_line_that_names_only_some_rows_gives_an_upper_bound():
    refused = list(range(1, 200, 2))  # 100 runs of one row: the line names the first 20
    outcome = Outcome(sent=200, confirmed=100, refused=refused)
    line = failure_line(outcome)
    confirmed, exact = confirmed_rows(ExitCode.FAILURE, [line], 200)
    assert not exact
    assert set(refused[:20]).isdisjoint(confirmed)
    assert set(range(2, 201, 2)) <= confirmed


def test_an_emitter_stopped_with_nothing_in_flight_had_its_sent_rows_confirmed():
    outcome = Outcome(sent=4, confirmed=4, error=BrokerError("lost the connection"))
    assert confirmed_rows(ExitCode.FAILURE, [failure_line(outcome)], 9) == ({1, 2, 3, 4}, True)


def test_an_emitter_that_said_nothing_had_nothing_confirmed():
    assert confirmed_rows(ExitCode.FAILURE, ["Traceback (most recent call last):"], 9) == (
        set(),
        True,
    )


@pytest.mark.parametrize(
    ("query", "tcp_options"),
    [
        ("?heartbeat=4", {"TCP_USER_TIMEOUT": 4000}),  # unacknowledged for 4 s: cut
        ("", None),  # pika's and the broker's own heartbeat (60 s): left alone
        ("?heartbeat=0", None),  # no heartbeat: no timeout either
        ("?heartbeat=4&tcp_options={'TCP_KEEPIDLE':60}", {"TCP_KEEPIDLE": 60}),  # the URL's own
    ],
)
def test_a_urls_heartbeat_becomes_its_tcp_user_timeout_unless_it_gives_tcp_options(
    query, tcp_options
):
    [params] = connection_parameters(f"amqp://guest:guest@localhost:5672/{query}")
    assert params.tcp_options == tcp_options


# --- a real silent cut: every worker notices it within twice its heartbeat -------------------

NOTICE_HEARTBEAT = 2  # seconds: the URL's heartbeat= in this test


@pytest.mark.partition
def test_make_partition_says_each_cut_and_heal_as_it_happens():
    """Not two silent minutes: each step on stderr when it happens, the result on stdout."""
    if os.geteuid() != 0:
        pytest.fail("the partition tests need root (network namespaces); run them as root")
    run = start_script(
        *("-m", "tools.partition", "--rows", "3000"),
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert run.stderr is not None and run.stdout is not None
        heard = [(time.monotonic(), line.rstrip("\n")) for line in run.stderr]  # as they come
        result = run.stdout.read()
        status = run.wait(timeout=60)
    finally:
        run.kill()
        run.wait()

    assert status == 0, result + "\n".join(line for _, line in heard)
    assert result.rstrip().endswith("lost: 0") and result.count("\n") == 1
    steps = [re.sub(r"^partition: +[\d.]+ s ", "", line) for _, line in heard]
    cuts = [step for step in steps if step.startswith(("cut ", "healed cut "))]
    assert [cut.split(" (")[0].split(":")[0] for cut in cuts] == [
        f"{what} {number} of 4" for number in range(1, 5) for what in ("cut", "healed cut")
    ]
    assert steps[0] == "starting the cluster" and steps[-1] == "stopping the workers (SIGTERM)"
    # each cut was heard when it began, not at the end: its heal came CUT_SECONDS later
    at = {line.split(" s ", 1)[1].split(":")[0].split(" (")[0]: when for when, line in heard}
    for number in range(1, 5):
        assert at[f"healed cut {number} of 4"] - at[f"cut {number} of 4"] >= CUT_SECONDS - 1


def cluster(*args: str) -> None:
    subprocess.run(["bash", str(CLUSTER), *args], check=True, capture_output=True, timeout=300)


@pytest.fixture(scope="module")
def cut_cluster() -> Iterator[None]:
    """scripts/partition_cluster.sh's three nodes, up for this module, down after it."""
    if os.geteuid() != 0:
        pytest.fail("the partition tests need root (network namespaces); run them as root")
    cluster("up")
    try:
        yield
    finally:
        cluster("down")


def url(*nodes: str) -> str:
    """The nodes' URLs, a small heartbeat in each."""
    urls = [
        node_url(node).replace(f"heartbeat={HEARTBEAT}", f"heartbeat={NOTICE_HEARTBEAT}")
        for node in nodes
    ]
    return ",".join(urls)


@pytest.mark.partition
def test_every_worker_notices_a_silent_cut_within_twice_its_heartbeat(cut_cluster, tmp_path):
    def start(script: str, nodes: tuple[str, ...]) -> Child:
        env = script_env(url(*nodes), log_dir=tmp_path)
        return Child(script, env=env, out_path=tmp_path / f"{script}.out")

    v1 = start("v1_listening_worker.py", ("rmq1",))
    v2 = start("v2_listening_worker.py", ("rmq1",))
    v3 = start("v3_listening_worker.py", ("rmq1", "rmq2"))
    try:
        for worker in (v1, v2):
            worker.wait_for("Ready for work")
        v3.wait_for("ready for work")
        cut = time.monotonic()
        cluster("cut", "silent", "isolate", "rmq1")  # packets to and from rmq1 vanish
        try:
            v3.wait_for(" [!] ", timeout=4 * NOTICE_HEARTBEAT)
            v3_noticed = time.monotonic() - cut
            ended = [(worker, worker.wait(timeout=4 * NOTICE_HEARTBEAT)) for worker in (v1, v2)]
            v1_v2_noticed = time.monotonic() - cut  # both had exited by then
            v3.wait_for("reconnected to 10.77.0.2:5712")
        finally:
            cluster("heal")
        assert v3_noticed < 2 * NOTICE_HEARTBEAT, v3.output
        assert v1_v2_noticed < 2 * NOTICE_HEARTBEAT
        for worker, status in ended:  # one clear line, exit 1: v1 and v2 do not reconnect
            assert status.code == ExitCode.FAILURE, worker.output
            assert "Traceback" not in worker.output
            [error] = [line for line in worker.output.splitlines() if ": error: " in line]
            assert error == worker.output.strip().splitlines()[-1], worker.output  # the last
            name = "v1_listening_worker" if worker is v1 else "v2_listening_worker"
            assert error.startswith(f"{name}: error: lost the connection to RabbitMQ: ")
        assert v3.stop(signal.SIGTERM).code == ExitCode.OK
    finally:
        for worker in (v1, v2, v3):
            worker.kill()


@pytest.mark.partition
def test_a_node_that_does_not_serve_again_is_restarted_and_said(cut_cluster, monkeypatch):
    """As RabbitMQ 3.10.8 on Erlang 25.1+ does after some cuts (rabbitmq-server#6034), a node
    stops serving and does not come back by itself: here its application stopped by hand."""
    said: list[str] = []
    partition.wait_for_recovery(said.append, [], "after the test before")  # any earlier cut
    partition.cluster("cli", "rmq2", "rabbitmqctl", "stop_app")
    assert partition.recovered() == ["rmq1", "rmq2", "rmq3"]  # none sees rmq2 running
    monkeypatch.setattr(partition, "STUCK_AFTER", 5.0)
    restarted: list[str] = []
    partition.wait_for_recovery(said.append, restarted, "after the heal of cut 2")

    assert restarted == ["rmq2 after the heal of cut 2"]
    assert said[-1].startswith(
        "rmq2 is still not serving 5 s after the heal of cut 2: restarting it, as an operator would"
    )
    assert partition.recovered() == []
