"""Fixtures: every broker test gets a virtual host of its own, deleted afterwards."""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from harness.broker import ADDRESS, AMQP, MANAGEMENT, Vhost, api, rabbitmqctl
from harness.children import Child, wait_until
from tests.local_nodes import LocalCluster, ScratchBroker
from tests.no_skips_in_ci import (  # noqa: F401 - hooks: with CI set, a skip fails
    pytest_make_collect_report,
    pytest_runtest_makereport,
)
from tools.management import ManagementError

# Set (by scripts/rabbitmq4_node.sh `with`) when the broker under test is a node of the
# tests' own: the scratch_broker tests (restarts, alarms) run on it, not on a node of theirs.
SCRATCH = os.environ.get("RABBITMQ_TEST_SCRATCH") == "1"


def pytest_configure(config: pytest.Config) -> None:
    """Started in the background (`nohup`, a script's `&`), pytest inherits SIGINT ignored,
    and so would every script it starts: Python then installs no Ctrl+C handler, and the
    tests that send a script Ctrl+C's SIGINT, as a terminal does, would see it ignored. A
    handler of our own is reset to the default at exec: the scripts start as from a
    terminal."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_report_header() -> str:
    """Which broker the broker tests run on, and its version."""
    try:
        overview = api("GET", "/overview")
        assert isinstance(overview, dict)
        version = f"RabbitMQ {overview['rabbitmq_version']} on Erlang {overview['erlang_version']}"
    except ManagementError as error:
        version = f"not answering ({error})"
    return f"broker under test: {ADDRESS}, management {MANAGEMENT}: {version}"


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A broker test whose broker could not be had (RABBITMQ_TEST_UNAVAILABLE says why, in one
    line) skips with that reason on a developer's machine, and fails in CI (CI set)."""
    why = os.environ.get("RABBITMQ_TEST_UNAVAILABLE")
    if why and item.get_closest_marker("broker"):
        if os.environ.get("CI"):
            pytest.fail(f"the broker under test is unavailable: {why}", pytrace=False)
        pytest.skip(why)


@pytest.fixture(scope="session")
def management_api() -> None:
    """The broker must be there: a test that needs it fails (never skips) without it."""
    try:
        api("GET", "/overview")
    except ManagementError as error:
        pytest.fail(
            f"RabbitMQ's management API is not answering at {MANAGEMENT} ({error}); "
            "run `make broker` (scripts/ensure_rabbitmq.sh)"
        )


@pytest.fixture
def vhost(management_api):
    with Vhost() as isolated:
        yield isolated


@pytest.fixture
def workers(tmp_path):
    """Start scripts in the background, SIGINT ignored as in a background job of a
    non-interactive shell, their output in tmp_path; any still running are killed at the end."""
    started: list[Child] = []

    def start(script: str, *args: str, env: dict[str, str]) -> Child:
        out_path = tmp_path / f"{Path(script).stem}-{uuid.uuid4().hex[:6]}.out"
        child = Child(script, *args, env=env, out_path=out_path, ignore_sigint=True)
        started.append(child)
        return child

    yield start
    for child in started:
        child.kill()


class BrokerUnderTest:
    """The broker under test, when it is a node of the tests' own, as a scratch broker."""

    url = f"{AMQP}/"
    port = int(ADDRESS.rpartition(":")[2])

    @staticmethod
    def rabbitmqctl(*args: str) -> str:
        return rabbitmqctl(*args)


@contextmanager
def throwaway_node(tmp_path_factory, kind: str = "") -> Iterator[ScratchBroker]:
    """A throwaway RabbitMQ node of the host's, always stopped."""
    broker = ScratchBroker(tmp_path_factory.mktemp("scratch") / "state", kind)
    broker.up()
    try:
        yield broker
    finally:
        broker.down()


@pytest.fixture(scope="session")
def scratch_broker(tmp_path_factory):
    """A throwaway RabbitMQ node for the tests that restart it or raise its alarms, started
    once for them all: each test leaves it as it found it (running, its alarms cleared), as
    they do on the broker under test itself when it is a throwaway node (SCRATCH)."""
    if SCRATCH:
        yield BrokerUnderTest()
        return
    with throwaway_node(tmp_path_factory) as broker:
        yield broker


@pytest.fixture(scope="module")
def own_scratch_broker(tmp_path_factory):
    """A throwaway node for the module's tests alone (own_node): for tests that change
    broker-wide state that no other module's tests should meet."""
    with throwaway_node(tmp_path_factory, "own") as broker:
        yield broker


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A three-node cluster (scripts/local_cluster.sh, ports 5701-5703) for the module's
    tests, torn down whatever happens: each module gets a whole one, as tests kill nodes."""
    local = LocalCluster(tmp_path_factory.mktemp("cluster") / "state")
    try:
        local.up()
        yield local
    finally:
        local.down()


@pytest.fixture
def disk_alarm(scratch_broker):
    """A disk alarm on the scratch broker for the test, `clear()` ending it early: its
    disk_free_limit set far above the free disk space, the original limit always restored."""
    ctl = scratch_broker.rabbitmqctl
    original = ctl("eval", "rabbit_disk_monitor:get_disk_free_limit().").strip()

    def alarm_on() -> bool:
        return "disk" in ctl("eval", "rabbit_alarm:get_alarms().")

    class Alarm:
        cleared = False

        def clear(self) -> None:
            """Restore the limit and wait for the alarm to end; once done, a second call
            (the fixture's own, after a test's) has nothing to do."""
            if self.cleared:
                return
            ctl("set_disk_free_limit", original)
            wait_until(lambda: not alarm_on(), timeout=30, what="the disk alarm to clear")
            self.cleared = True

    alarm = Alarm()
    try:
        ctl("set_disk_free_limit", "100000GB")  # far above any free space
        wait_until(alarm_on, timeout=30, what="the disk alarm")
        yield alarm
    finally:
        alarm.clear()
