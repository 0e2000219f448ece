"""RabbitMQ nodes of the tests' own, beside the main broker: a scratch node, the cluster, TLS.

Each is started by a script of scripts/ (local_broker.sh, local_cluster.sh,
local_tls_broker.sh), with a state directory of its own."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from harness.broker import ready_count
from tools.lab.node import free_port, guest_url, node_environment
from utils import PROJECT_ROOT


class LocalNodes:
    """One of the scripts/ that start nodes (`up`, `down`, `cli`), run with its state in
    `state_dir` (the script reads it from the environment variable `state_variable`)."""

    def __init__(self, script: Path, state_variable: str, state_dir: Path) -> None:
        self.script = script
        self.state_dir = state_dir
        self.up_seconds = 0.0
        self.env = dict(os.environ, **{state_variable: str(state_dir)})

    def run(self, *args: str, timeout: float = 150) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["bash", str(self.script), *args],
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def up(self) -> subprocess.CompletedProcess:
        started = time.monotonic()
        result = self.run("up")
        # `down` deletes the nodes' logs: show their ends now, while they are there
        assert result.returncode == 0, result.stdout + result.stderr + self.log_tails()
        self.up_seconds = time.monotonic() - started
        return result

    def down(self) -> None:
        result = self.run("down", timeout=90)
        print(result.stdout + result.stderr, end="")
        assert result.returncode == 0, result.stdout + result.stderr
        assert not self.state_dir.exists()

    def log_tails(self, lines: int = 15) -> str:
        logs = sorted(self.state_dir.glob("*/log/*.log"))
        return "".join(
            f"\n--- {log}\n" + "\n".join(log.read_text().splitlines()[-lines:]) for log in logs
        )

    def ctl(self, node: str, *args: str) -> str:
        """rabbitmqctl against one node (rmq1, rmqtls), with the nodes' cookie; its stdout."""
        result = self.run("cli", "rabbitmqctl", "-q", "-n", f"{node}@localhost", *args, timeout=60)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout


class ScratchBroker(LocalNodes):
    """scripts/local_broker.sh: one throwaway node, with a name and ports of its own, for
    tests that stop it, restart it or raise its alarms (never the broker on 5672)."""

    def __init__(self, state_dir: Path, kind: str = "") -> None:
        super().__init__(PROJECT_ROOT / "scripts" / "local_broker.sh", "RMQ_SCRATCH_DIR", state_dir)
        self.node = f"rmqscratch{kind}{os.getpid()}"  # kind: two nodes of one run never clash
        self.port = free_port()
        self.env.update(node_environment(self.node, self.port, state_dir))
        self.url = guest_url(self.port)

    def rabbitmqctl(self, *args: str) -> str:
        return self.ctl(self.node, *args)


class LocalCluster(LocalNodes):
    """scripts/local_cluster.sh: rmq1..rmq3@localhost on 127.0.0.1:5701-5703, one cluster."""

    PORTS = {"rmq1": 5701, "rmq2": 5702, "rmq3": 5703}

    def __init__(self, state_dir: Path) -> None:
        super().__init__(
            PROJECT_ROOT / "scripts" / "local_cluster.sh", "RMQ_CLUSTER_DIR", state_dir
        )

    def url(self, node: str) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.PORTS[node]}/"

    def urls(self, first: str) -> str:
        """Every node's URL, `first` first: what a client of that node is given."""
        return ",".join(self.url(node) for node in [first, *(n for n in self.PORTS if n != first)])

    def leader(self, queue: str, ask: str = "rmq1") -> str:
        """The node whose replica leads a quorum queue, e.g. 'rmq2'."""
        return self._column(queue, "leader", ask).split("@")[0]

    def running(self, ask: str = "rmq1") -> list[str]:
        """The nodes `ask` sees running, e.g. ['rmq1', 'rmq2', 'rmq3']: a quorum queue
        declared now gets a replica on each of them, and on no other node."""
        status = json.loads(self.ctl(ask, "cluster_status", "--formatter", "json"))
        return sorted(node.split("@")[0] for node in status["running_nodes"])

    def online(self, queue: str, ask: str = "rmq1") -> list[str]:
        """The nodes whose replica of a quorum queue is online, e.g. ['rmq1', 'rmq3']."""
        out = self.ctl(ask, "list_queues", "--no-table-headers", "name", "online")
        [nodes] = [line.split("\t")[1] for line in out.splitlines() if line.split("\t")[0] == queue]
        return sorted(node.split("@")[0] for node in nodes.strip("[]").split(", ") if node)

    def _column(self, queue: str, column: str, ask: str) -> str:
        out = self.ctl(ask, "list_queues", "--no-table-headers", "name", column)
        [value] = [line.split()[1] for line in out.splitlines() if line.split()[:1] == [queue]]
        return value

    def ready(self, queue: str, node: str, missing_ok: bool = False) -> int:
        """Messages ready in a queue, exactly, as its leader counts them.

        (A passive declare: list_queues's `messages` of a quorum queue is a metric sampled
        every few seconds, and reads 0 for a while after a new leader is elected.)
        """
        return ready_count(self.url(node), queue, missing_ok)

    def kill(self, node: str) -> None:
        """SIGKILL a node's Erlang VM: no goodbye to its peers or to its clients."""
        pid = int((self.state_dir / node / f"{node}.pid").read_text())
        os.kill(pid, signal.SIGKILL)
