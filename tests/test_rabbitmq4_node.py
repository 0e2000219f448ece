"""scripts/rabbitmq4_node.sh: a RabbitMQ 4 node from the Debian 13 chroot, beside the broker
on 5672, that leaves nothing behind; and what the tests do when it cannot be had.

The node's tests need root and the chroot (scripts/trixie_chroot.sh builds it on first use):
where it cannot be built they skip with its one-line reason, and fail in CI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pika
import pytest

from tools.lab.node import free_port
from tools.management import Api
from utils import PROJECT_ROOT

SCRIPT = PROJECT_ROOT / "scripts" / "rabbitmq4_node.sh"
CHROOT_SCRIPT = PROJECT_ROOT / "scripts" / "trixie_chroot.sh"
CHROOT = os.environ.get("TRIXIE_CHROOT", "/var/cache/work-queues/trixie")


def run(*args: str, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", *args], env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=timeout,
    )  # fmt: skip


@pytest.fixture(scope="module")
def chroot() -> None:
    """The chroot, built if missing; where it cannot be, skip (fail in CI) with its line."""
    built = run(str(CHROOT_SCRIPT), "build", "rabbitmq-server", env=dict(os.environ))
    if built.returncode == 0:
        return
    why = built.stderr.strip().splitlines()[-1]
    if os.environ.get("CI"):
        pytest.fail(why)
    pytest.skip(why)


def node_env(state: Path) -> dict[str, str]:
    """A node of the test's own: its state directory and ports, none of 5790's."""
    ports = {
        f"RMQ4_{name}_PORT": str(free_port()) for name in ("AMQP", "MANAGEMENT", "DIST", "EPMD")
    }
    return dict(os.environ, RMQ4_DIR=str(state), **ports)


def node_processes(epmd_port: str) -> list[int]:
    """Processes chrooted in the chroot with this epmd port: the node's, its epmd's."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if os.readlink(proc / "root") != CHROOT:
                continue
            environ = (proc / "environ").read_bytes().split(b"\0")
        except OSError:  # gone meanwhile
            continue
        if f"ERL_EPMD_PORT={epmd_port}".encode() in environ:
            found.append(int(proc.name))
    return found


def overview(management_port: str) -> dict:
    """The management API's overview of the broker whose API is on 127.0.0.1:`port`."""
    answer = Api(f"127.0.0.1:{management_port}", "/", "guest", "guest").call("GET", "/overview")
    assert isinstance(answer, dict)
    return answer


def uptime(management_port: str) -> int:
    """Milliseconds since the node whose API is on 127.0.0.1:`port` started."""
    nodes = Api(f"127.0.0.1:{management_port}", "/", "guest", "guest").call("GET", "/nodes")
    assert isinstance(nodes, list)
    [node] = nodes
    return node["uptime"]


def test_up_runs_rabbitmq_4_beside_the_broker_and_down_leaves_nothing(chroot, tmp_path):
    env = node_env(tmp_path / "state")
    main_broker_up = uptime("15672")
    try:
        up = run(str(SCRIPT), "up", env=env)
        assert up.returncode == 0, up.stdout + up.stderr
        assert " RabbitMQ 4." in up.stdout
        assert overview(env["RMQ4_MANAGEMENT_PORT"])["rabbitmq_version"].startswith("4.")
        with pika.BlockingConnection(
            pika.URLParameters(f"amqp://guest:guest@127.0.0.1:{env['RMQ4_AMQP_PORT']}/")
        ):
            pass  # AMQP answers on its port
        assert node_processes(env["RMQ4_EPMD_PORT"])
        status = run(str(SCRIPT), "status", env=env)
        assert status.returncode == 0, status.stdout + status.stderr
    finally:
        down = run(str(SCRIPT), "down", env=env)

    assert down.returncode == 0, down.stdout + down.stderr
    assert "down: no process, no epmd, no mount left" in down.stdout
    assert node_processes(env["RMQ4_EPMD_PORT"]) == []
    assert f" {CHROOT}/" not in Path("/proc/mounts").read_text()
    assert not (tmp_path / "state").exists()
    assert uptime("15672") > main_broker_up  # the broker on 5672 was not restarted


def with_no_chroot(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess:
    """`rabbitmq4_node.sh with pytest ...` where the chroot cannot be built (its mirror
    refuses connections), CI set or not."""
    env = node_env(tmp_path / "state")
    env.update(TRIXIE_CHROOT=str(tmp_path / "trixie"), TRIXIE_MIRROR="http://127.0.0.1:1/debian")
    for name in [name for name in env if name.startswith("RABBITMQ_TEST_") or name == "CI"]:
        del env[name]
    if ci is not None:
        env["CI"] = ci
    test = "tests/test_queue_types.py::test_a_task_that_keeps_crashing_its_worker_is_dropped"
    test += "_after_the_delivery_limit_on_4"
    pytest_args = ["-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", test]
    return subprocess.run(
        ["bash", str(SCRIPT), "with", sys.executable, *pytest_args],
        cwd=PROJECT_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_without_a_chroot_the_tests_skip_with_its_one_line_reason(tmp_path):
    result = with_no_chroot(tmp_path, ci=None)

    why = f"trixie_chroot: cannot build the Debian 13 chroot in {tmp_path / 'trixie'}: "
    cause = "debootstrap failed (is http://127.0.0.1:1/debian reachable?"
    if os.geteuid() != 0:
        cause = "needs root"
    assert result.returncode == 0, result.stdout + result.stderr
    [line] = [line for line in result.stderr.splitlines() if why in line]
    assert line.startswith(why + cause)
    assert why + cause in result.stdout  # the skip's reason
    assert "1 skipped" in result.stdout
    assert not (tmp_path / "trixie").exists() and not (tmp_path / "trixie.partial").exists()


def test_without_a_chroot_the_tests_fail_in_ci(tmp_path):
    result = with_no_chroot(tmp_path, ci="true")

    assert result.returncode == 1, result.stdout + result.stderr
    assert "the broker under test is unavailable: trixie_chroot: cannot build" in result.stdout
    assert "1 error in " in result.stdout  # at set-up: the test never ran
