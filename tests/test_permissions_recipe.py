"""The users-and-permissions recipe of docs/permissions.md runs as printed, on this broker's
machine, and the users it makes can send and do the tasks.

The recipe runs in bash as the page prints it, only its names made unique (a vhost and two
users of the test's own, deleted at the end): it never touches the default vhost.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import urllib.error
import uuid

import pytest

from tests.support import CTL, GUEST, PROJECT_ROOT, api, broker_url, quoted, run_script, script_env
from utils.console_lines import done_rows

pytestmark = pytest.mark.broker

PAGE = PROJECT_ROOT / "docs" / "permissions.md"


def recipe() -> str:
    """The page's first bash block: the recipe."""
    block = re.search(r"^```bash\n(.*?)^```", PAGE.read_text(), re.MULTILINE | re.DOTALL)
    assert block, f"{PAGE} prints no recipe"
    return block[1]


def test_the_permissions_recipe_runs_as_printed_and_its_users_can_work(workers, tmp_path):
    name = f"test-recipe-{uuid.uuid4().hex[:8]}"
    script = (
        recipe()
        .replace("work-queues-producer", f"{name}-producer")
        .replace("work-queues-worker", f"{name}-worker")
        .replace("work-queues", name)
    )
    # the CLI that reaches the broker under test (as the recipe says, with sudo unless root),
    # and rabbitmqadmin asking its management API
    script = re.sub(r"^(\s*)rabbitmqctl ", rf"\1{shlex.join(CTL)} ", script, flags=re.M)
    host, port = GUEST.host.rsplit(":", 1)
    script = re.sub(
        r"^(\s*)rabbitmqadmin ", rf"\1rabbitmqadmin -H {host} -P {port} ", script, flags=re.M
    )
    try:
        ran = subprocess.run(
            ["bash", "-e", "-c", script], capture_output=True, text=True, timeout=120
        )
        assert ran.returncode == 0, ran.stdout + ran.stderr
        assert ran.stdout.count("queue declared") == 6

        producer = broker_url(f"{name}-producer", "a-long-password", name)
        worker = broker_url(f"{name}-worker", "another-long-password", name)
        sent = run_script("v3_emitter_of_tasks.py", env=script_env(producer, log_dir=tmp_path))
        assert sent.returncode == 0, sent.stdout + sent.stderr
        assert "may not declare queue task_queue3, which exists: using it as it is" in sent.stdout
        env = script_env(worker, log_dir=tmp_path, seconds_per_dot="0")
        taking = workers("v3_listening_worker.py", env=env)
        taking.wait_until(lambda out: set(done_rows(out)) == set(range(1, 19)), "every row done")
        assert taking.stop().code == 0
    finally:
        for path in (f"/vhosts/{quoted(name)}", f"/users/{name}-producer", f"/users/{name}-worker"):
            try:
                api("DELETE", path)
            except urllib.error.HTTPError as error:
                if error.code != 404:  # a step that never ran made nothing to delete
                    raise
