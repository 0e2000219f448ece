"""Work functions put into the v3 worker as a user puts theirs: `python -m tests.work_hooks
KIND [worker options]` runs `v3_listening_worker.main(work=KIND)` from the project root."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import v3_listening_worker as worker

GATE = "WORK_GATE"  # gated: the path of a file whose creation lets the work end


def failing(task: str, seconds: float) -> None:
    """Fails every task whose text says "fail"; does the others as the worker does."""
    if "fail" in task.lower():
        raise RuntimeError(f"cannot do {task!r}")
    worker.work(task, seconds)


def flaky(task: str, seconds: float, failed: set[str] = set()) -> None:  # noqa: B006 - kept
    """Fails the first time it sees a task, in this process; does it the next time."""
    if task not in failed:
        failed.add(task)
        raise RuntimeError(f"first try of {task!r}")
    worker.work(task, seconds)


def gated(task: str, seconds: float) -> None:
    """Ends only once the file named by WORK_GATE exists: the test decides when."""
    gate = Path(os.environ[GATE])
    while not gate.exists():
        time.sleep(0.05)


def crashing(task: str, seconds: float) -> None:
    """Kills its own process, as a task that crashes the worker does (a segfault in a
    library, the out-of-memory killer): no failure to count, the task goes back unacked."""
    os.kill(os.getpid(), signal.SIGKILL)


HOOKS = {"failing": failing, "flaky": flaky, "gated": gated, "crashing": crashing}

if __name__ == "__main__":
    sys.exit(worker.main(sys.argv[2:], work=HOOKS[sys.argv[1]]))
