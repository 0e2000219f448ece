"""RabbitMQ nodes of the tests' own, started beside the main broker by a script of scripts/
(local_cluster.sh, local_tls_broker.sh), each with a state directory of its own."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path


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
