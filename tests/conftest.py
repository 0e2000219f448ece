"""Fixtures: every broker test gets a virtual host of its own, deleted afterwards."""

from __future__ import annotations

import urllib.error

import pytest

from tests.support import Vhost, Worker, api


@pytest.fixture(scope="session")
def management_api() -> None:
    """The broker must be there: a test that needs it fails (never skips) without it."""
    try:
        api("GET", "/overview")
    except (urllib.error.URLError, OSError) as error:
        pytest.fail(
            f"RabbitMQ's management API is not answering on 127.0.0.1:15672 ({error}); "
            "run `make broker` (scripts/ensure_rabbitmq.sh)"
        )


@pytest.fixture
def vhost(management_api):
    isolated = Vhost()
    isolated.create()
    yield isolated
    isolated.delete()


@pytest.fixture
def workers(tmp_path):
    """Start worker scripts in the background; any still running are killed at the end."""
    started: list[Worker] = []

    def start(script: str, *args: str, env: dict[str, str]) -> Worker:
        worker = Worker(script, *args, env=env, out_dir=tmp_path)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.kill()


def pytest_collection_modifyitems(config, items):
    """Tests that restart the broker run last, so they cannot disturb the others."""
    items.sort(key=lambda item: item.get_closest_marker("restart") is not None)
