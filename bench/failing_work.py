"""The v3 worker with work that fails one task in N at random, as a user puts theirs in:

    python -m bench.failing_work N [worker options]

Each try fails with probability 1/N, a retry too (its own draw); the other tries do the
worker's own work (a sleep of the task's dots times SECONDS_PER_DOT). For the fault soak.
"""

from __future__ import annotations

import random
import sys

import v3_listening_worker as worker


def failing_one_in(one_in: int):
    """A work function that raises on one try in `one_in`, at random, and works otherwise."""
    draw = random.Random()

    def work(task: str, seconds: float) -> None:
        if draw.randrange(one_in) == 0:
            raise RuntimeError(f"one try in {one_in} fails")
        worker.work(task, seconds)

    return work


if __name__ == "__main__":
    sys.exit(worker.main(sys.argv[2:], work=failing_one_in(int(sys.argv[1]))))
