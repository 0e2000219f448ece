"""What only the tests use: the scripts and their queues, a broker nobody listens on, the
tools run and refused. What bench/ shares with the tests is in harness/."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

from harness.broker import MANAGEMENT
from harness.children import run_script, script_env
from utils import PROJECT_ROOT
from utils.platforms import python_command

MANAGEMENT_PORT = urllib.parse.urlsplit(MANAGEMENT).port or 80
MANAGEMENT_ARGS = ("--management-port", str(MANAGEMENT_PORT))  # the tools' option for it
UNREACHABLE = "amqp://guest:guest@127.0.0.1:1/%2F"  # nothing listens on port 1

WORKERS = ["v1_listening_worker.py", "v2_listening_worker.py", "v3_listening_worker.py"]
EMITTERS = ["v1_emitter_of_tasks.py", "v2_emitter_of_tasks.py", "v3_emitter_of_tasks.py"]
QUEUE_OF = {"v1": "task_queue", "v2": "task_queue2", "v3": "task_queue3"}  # each version's
TASKS_CSV_ROWS = (PROJECT_ROOT / "tasks.csv").read_text().splitlines()  # one task a line
# the Python the scripts run with, as the commands they print name it (the resume command)
PYTHON = python_command(sys.executable, str(PROJECT_ROOT), sys.platform == "win32")


def run_tool(
    module: str, *args: str, url: str, log_dir: Path, timeout: float = 60
) -> subprocess.CompletedProcess:
    """Run `python -m tools.<module> ARGS` to its end, its output captured (so: no colours)."""
    env = script_env(url, log_dir=log_dir, COLUMNS="100")
    return run_script("-m", f"tools.{module}", *args, env=env, timeout=timeout)


def check_a_tool_refused(module: str, *args: str, log_dir: Path) -> None:
    """Run a tool against UNREACHABLE: it must exit 1 within 10 s, its one line on stderr
    naming the refused address, and print nothing else."""
    started = time.monotonic()
    result = run_tool(module, *args, url=UNREACHABLE, log_dir=log_dir, timeout=30)

    assert result.returncode == 1
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert "127.0.0.1:1" in line and "refused" in line.lower()
    assert time.monotonic() - started < 10
