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


def exits(task: str, seconds: float) -> None:
    """Calls sys.exit(3) on every task that says "fail", as a careless library might."""
    if "fail" in task.lower():
        sys.exit(3)
    worker.work(task, seconds)


def interrupts(task: str, seconds: float) -> None:
    """Raises KeyboardInterrupt on every task that says "fail"."""
    if "fail" in task.lower():
        raise KeyboardInterrupt
    worker.work(task, seconds)


def generator_exit(task: str, seconds: float) -> None:
    """Raises GeneratorExit on every task that says "fail"."""
    if "fail" in task.lower():
        raise GeneratorExit
    worker.work(task, seconds)


def breaks_the_worker(task: str, seconds: float) -> None:
    """Does its task, then breaks what the work thread calls before the next one: the
    thread dies, as nothing a work function raises can make it."""

    def broken(*_args: object) -> str:
        raise RuntimeError("the work thread is broken")

    worker.received_note = broken  # type: ignore[assignment]
    worker.work(task, seconds)


def crashing(task: str, seconds: float) -> None:
    """Kills its own process, as a task that crashes the worker does (a segfault in a
    library, the out-of-memory killer): no failure to count, the task goes back unacked."""
    os.kill(os.getpid(), signal.SIGKILL)


HOOKS = {
    "failing": failing,
    "flaky": flaky,
    "gated": gated,
    "exits": exits,
    "interrupts": interrupts,
    "generator_exit": generator_exit,
    "breaks_the_worker": breaks_the_worker,
    "crashing": crashing,
}

if __name__ == "__main__":
    sys.exit(worker.main(sys.argv[2:], work=HOOKS[sys.argv[1]]))
