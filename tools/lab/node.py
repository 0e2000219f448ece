"""A throwaway RabbitMQ node of the lab's own (scripts/local_broker.sh), for the restart experiment.

The node runs beside the user's broker with a name, ports and a state directory of its own
(rmqlab<pid>@localhost, free ports on 127.0.0.1, a temporary directory), so the lab can
restart it without touching the broker anyone else uses. `down` stops it and deletes
everything it wrote. It needs Linux, bash and RabbitMQ installed locally; `unavailable`
says why not, otherwise.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from tools.supervisor import STOP
from utils import PROJECT_ROOT
from utils.errors import ScriptError

SCRIPT = PROJECT_ROOT / "scripts" / "local_broker.sh"
RABBITMQ_SCRIPTS = Path("/usr/lib/rabbitmq/bin")  # Debian's; otherwise rabbitmq-server on PATH


def unavailable() -> str | None:
    """Why the lab cannot start a node of its own here, or None when it can."""
    if not sys.platform.startswith("linux"):
        return f"it needs Linux, to run scripts/local_broker.sh (this is {sys.platform})"
    if shutil.which("bash") is None:
        return "it needs bash, to run scripts/local_broker.sh"
    installed = (RABBITMQ_SCRIPTS / "rabbitmq-server").exists() or shutil.which("rabbitmq-server")
    if not (installed or os.environ.get("RMQ_SCRIPTS_DIR")):
        return (
            "RabbitMQ is not installed on this machine (no rabbitmq-server), and the lab "
            "restarts only a node of its own, never the broker it is given"
        )
    return None


def free_port() -> int:
    """A TCP port nothing listens on now, on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def node_environment(name: str, port: int, state_dir: Path) -> dict[str, str]:
    """What scripts/local_broker.sh reads: the node's name, its AMQP port, a free port for
    Erlang distribution, and the directory for its state."""
    return {
        "RMQ_SCRATCH_DIR": str(state_dir),
        "RMQ_SCRATCH_NODE": name,
        "RMQ_SCRATCH_PORT": str(port),
        "RMQ_SCRATCH_DIST_PORT": str(free_port()),
    }


def guest_url(port: int) -> str:
    """The AMQP URL of a local node's default vhost, as guest."""
    return f"amqp://guest:guest@127.0.0.1:{port}/%2F"


class ThrowawayNode:
    """rmqlab<pid>@localhost: started by `up`, restarted by `restart`, gone after `down`."""

    def __init__(self) -> None:
        self.name = f"rmqlab{os.getpid()}"
        self.port = free_port()
        self.state_dir = Path(tempfile.mkdtemp(prefix="rmq-lab-"))
        self.env = dict(os.environ, **node_environment(self.name, self.port, self.state_dir))
        self.env["RMQ_START_TIMEOUT"] = "60"
        self.url = guest_url(self.port)
        self.starting: subprocess.Popen | None = None

    def _script(self, *args: str) -> subprocess.Popen:
        """scripts/local_broker.sh ARGS in a session of its own: Ctrl+C is the lab's alone."""
        return subprocess.Popen(
            ["bash", str(SCRIPT), *args],
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )

    def _finish(self, process: subprocess.Popen, say: Callable[[str], None]) -> int:
        """Wait for the script to end, saying its lines; its exit status."""
        assert process.stdout is not None
        for line in process.stdout:
            say(line.rstrip("\n"))
        return process.wait()

    def up(self, say: Callable[[str], None]) -> None:
        """Start the node and wait until it answers (6-30 s)."""
        with STOP.held():  # an `up` started is an `up` recorded, for `down` to wait for
            self.starting = self._script("up")
        status = self._finish(self.starting, say)
        self.starting = None
        if status != 0:
            raise ScriptError(f"the lab's node did not start (status {status}); see above")

    def ctl(self, *args: str) -> None:
        """rabbitmqctl against the node, with its cookie; raises ScriptError if it fails."""
        node = f"{self.name}@localhost"
        process = self._script("cli", "rabbitmqctl", "-q", "-n", node, *args)
        output, _ = process.communicate(timeout=120)
        if process.returncode != 0:
            raise ScriptError(f"rabbitmqctl {' '.join(args)} failed: {output.strip()}")

    def down(self, say: Callable[[str], None]) -> None:
        """Stop the node (after an `up` still running: once it ends) and delete its state."""
        if self.starting is not None:
            say("waiting for the node to finish starting, to stop it")
            self._finish(self.starting, say)
            self.starting = None
        if self._finish(self._script("down"), say) != 0:
            say(f"the node {self.name}@localhost may still run: see {self.state_dir}")
        shutil.rmtree(self.state_dir, ignore_errors=True)
