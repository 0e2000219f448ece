"""The bash blocks of docs/permissions.md run as printed, on this broker's machine: the
recipe, the import of the definitions file, and the clean-up; the users they make can send
and do the tasks.

Each block runs in bash as the page prints it, only its names made unique (a vhost and two
users of the test's own, deleted at the end whatever happens): it never touches the default
vhost nor anyone else's users.
"""

from __future__ import annotations

import contextlib
import re
import shlex
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.broker import CTL, GUEST, api, broker_url
from harness.children import run_script, script_env
from tools.management import ManagementError, quoted
from utils import PROJECT_ROOT
from utils.console_lines import done_rows

pytestmark = pytest.mark.broker

PAGE = PROJECT_ROOT / "docs" / "permissions.md"
DEFINITIONS = "docs/rabbitmq-definitions.json"


def blocks() -> list[str]:
    """The page's bash blocks: the recipe, the import of the definitions, the clean-up."""
    found = re.findall(r"^```bash\n(.*?)^```", PAGE.read_text(), re.MULTILINE | re.DOTALL)
    assert len(found) == 3, f"{PAGE}: expected 3 bash blocks, found {len(found)}"
    return found


def renamed(text: str, name: str) -> str:
    """The page's (or the definitions file's) names, made the test's own."""
    return (
        text.replace("work-queues-producer", f"{name}-producer")
        .replace("work-queues-worker", f"{name}-worker")
        .replace("work-queues", name)
    )


def run_as_printed(block: str, name: str, cwd: Path = PROJECT_ROOT) -> str:
    """Run a block in bash -e as the page prints it (names renamed); its output."""
    script = renamed(block, name)
    # the CLI that reaches the broker under test (as the page says, with sudo unless root),
    # and rabbitmqadmin asking its management API
    script = re.sub(r"^(\s*)rabbitmqctl ", rf"\1{shlex.join(CTL)} ", script, flags=re.M)
    host, port = GUEST.host.rsplit(":", 1)
    script = script.replace("http://localhost:15672/", f"http://{GUEST.host}/")
    script = re.sub(
        r"^(\s*)rabbitmqadmin ", rf"\1rabbitmqadmin -H {host} -P {port} ", script, flags=re.M
    )
    ran = subprocess.run(
        ["bash", "-e", "-c", script], cwd=cwd, capture_output=True, text=True, timeout=120
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    return ran.stdout


def exists(path: str) -> bool:
    """Whether the management API knows the vhost or user at `path`."""
    try:
        api("GET", path)
    except ManagementError as error:
        if error.status == 404:
            return False
        raise
    return True


@contextlib.contextmanager
def names_of_our_own() -> Iterator[str]:
    """A unique name for the vhost and the users; whatever a test made is deleted at the end,
    even when it failed half-way."""
    name = f"test-recipe-{uuid.uuid4().hex[:8]}"
    try:
        yield name
    finally:
        for path in (f"/vhosts/{quoted(name)}", f"/users/{name}-producer", f"/users/{name}-worker"):
            try:
                api("DELETE", path)
            except ManagementError as error:
                if error.status != 404:  # a step that never ran made nothing to delete
                    raise


def users_can_work(name: str, workers, log_dir: Path) -> None:
    """The producer sends tasks.csv (using the queue it may not declare); the worker does it."""
    producer = broker_url(f"{name}-producer", "a-long-password", name)
    worker = broker_url(f"{name}-worker", "another-long-password", name)
    sent = run_script("v3_emitter_of_tasks.py", env=script_env(producer, log_dir=log_dir))
    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert "may not declare queue task_queue3, which exists: using it as it is" in sent.stdout
    env = script_env(worker, log_dir=log_dir, seconds_per_dot="0")
    taking = workers("v3_listening_worker.py", env=env)
    taking.wait_until(lambda out: set(done_rows(out)) == set(range(1, 19)), "every row done")
    assert taking.stop().code == 0


def cleaned_up(name: str) -> None:
    """The clean-up block, as printed, leaves neither the vhost nor the users."""
    run_as_printed(blocks()[2], name)
    paths = [f"/vhosts/{quoted(name)}", f"/users/{name}-producer", f"/users/{name}-worker"]
    assert [path for path in paths if exists(path)] == []


def test_the_permissions_recipe_runs_as_printed_and_its_users_can_work(workers, tmp_path):
    with names_of_our_own() as name:
        output = run_as_printed(blocks()[0], name)
        assert output.count("queue declared") == 6
        users_can_work(name, workers, tmp_path)
        cleaned_up(name)


def test_the_definitions_import_runs_as_printed_from_the_project_folder(workers, tmp_path):
    """From a project folder (here one holding only the definitions file, its names the
    test's own), as a user runs it: curl reads the file there and hands it to the management
    API, so neither rabbitmqctl's own folder (Debian's wrapper runs in /var/lib/rabbitmq)
    nor its reading of stdin (none in RabbitMQ 4.0) matters."""
    with names_of_our_own() as name:
        folder = tmp_path / "project"
        (folder / "docs").mkdir(parents=True)
        (folder / DEFINITIONS).write_text(renamed((PROJECT_ROOT / DEFINITIONS).read_text(), name))
        run_as_printed(blocks()[1], name, cwd=folder)
        users_can_work(name, workers, tmp_path)
        cleaned_up(name)
