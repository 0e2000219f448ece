"""Section 2: the v3 worker against the bare pika loop, at prefetch 1, one and three at once.

The queue is filled with zero-dot tasks first; each figure is timed from the start of the
first consumer process until every task is acked, which is counted exactly: each worker
prints one "Done" line per task, after its ack.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from bench.processes import Child, script_env
from bench.publishers import publish_pipelined
from bench.results_table import Figure, Target
from bench.sizes import Sizes
from bench.task_files import numbered_bodies
from bench.vhost import Vhost

SECTION = "2 Worker"
QUEUE = "task_queue3"
POLL = 0.005  # seconds between two looks at the workers' output
DRAIN_TIMEOUT = 600  # seconds: a consumer this slow is broken, not slow


@dataclass
class Consumer:
    """A consumer program, how many copies run at once, and its figure."""

    figure: Figure
    args: list[str]
    copies: int


def consumers(tasks: int) -> list[Consumer]:
    """The bare loop and the v3 worker, one process and three; bare loops first."""
    bare = ["-m", "bench.bare_worker"]
    v3 = ["v3_listening_worker.py"]
    target = Target(">=", 0.9)
    measured = []
    for copies in (1, 3):
        what = ("1 process" if copies == 1 else "3 processes at once") + f", {tasks:,} tasks"
        limit = Figure(SECTION, f"bare pika loop, {what}", "tasks/s", short="bare loop")
        ours = Figure(SECTION, f"**v3 worker**, {what}", "tasks/s", baseline=limit, target=target)
        measured += [Consumer(limit, bare, copies), Consumer(ours, v3, copies)]
    return measured


def fill_queue(vhost: Vhost, tasks: int) -> None:
    """Put `tasks` zero-dot tasks in an empty queue, each with its "row" header."""
    vhost.delete_queue(QUEUE)
    publish_pipelined(vhost.url, QUEUE, enumerate(numbered_bodies(tasks), start=1))
    if vhost.ready_count(QUEUE) != tasks:
        raise RuntimeError(f"the queue does not hold the {tasks} tasks just published")


def drain(children: list[Child], tasks: int) -> float:
    """Wait until the children have acked `tasks` tasks; seconds since the first started."""
    deadline = time.monotonic() + DRAIN_TIMEOUT
    while sum(child.count_lines(b"Done") for child in children) < tasks:
        if time.monotonic() > deadline or not all(child.running() for child in children):
            raise RuntimeError(f"workers stopped or stalled:\n{children[0].output()[-2000:]}")
        time.sleep(POLL)
    return time.monotonic() - min(child.started for child in children)


def consume_once(vhost: Vhost, consumer: Consumer, tasks: int, name: str) -> float:
    """Fill the queue, let the consumers empty it, stop them; return tasks per second."""
    fill_queue(vhost, tasks)
    env = script_env(vhost.url, SECONDS_PER_DOT="0")
    children = []
    try:
        for copy in range(consumer.copies):
            children.append(Child(consumer.args, env, f"{name}-{copy}"))
        seconds = drain(children, tasks)
    finally:
        exits = [child.stop() for child in children]
    done = sum(child.count_lines(b"Done") for child in children)
    left = vhost.ready_count(QUEUE)
    if any(finished.code != 0 for finished in exits) or done != tasks or left:
        raise RuntimeError(f"{name}: exits {exits}, {done} done of {tasks}, {left} left")
    for child in children:
        child.remove_output()
    return tasks / seconds


def worker_figures(vhost: Vhost, sizes: Sizes, log=print) -> list[Figure]:
    """Measure every consumer `sizes.runs` times, interleaved, and return the figures."""
    measured = consumers(sizes.worker_tasks)
    for run_number in range(1, sizes.runs + 1):
        for index, consumer in enumerate(measured):
            name = f"worker-{index}-run{run_number}"
            rate = consume_once(vhost, consumer, sizes.worker_tasks, name)
            consumer.figure.values.append(rate)
            log(f"  run {run_number}: {consumer.figure.name}: {rate:,.0f} tasks/s")
    return [consumer.figure for consumer in measured]
