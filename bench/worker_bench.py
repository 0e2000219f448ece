"""Section 2: the v3 worker against the course's loop with its work on a thread, at prefetch 1.

Two kinds of task, each in a queue filled before the consumers start:
- zero-dot tasks: what the worker's own machinery costs a task (its work is a sleep of 0 s);
- one-dot tasks with SECONDS_PER_DOT=0.005 (5 ms of work); the course loop sleeps as long
  in its callback.
The v3 worker takes one path for every task: to its work thread and back to pika's I/O
thread for the ack, a log record for Received and one for Done. The baseline of its graded
figures is the course loop with its work on a thread (bench/threaded_course_worker.py): the
course's loop (bench/course_worker.py: the tutorial's callback logging its two lines, two
records, to a file and the console) with the two hand-offs of the v3 worker's path added and
nothing else. Its ratio to the course loop itself is shown beside, not graded: that loop
works on pika's I/O thread, so during long work it answers no heartbeats. The bare loop
(bench/bare_worker.py: print, no logging) is shown for reference.
Each figure is timed from the start of the first consumer process until every task is
acked, which is counted exactly: each consumer prints one "Done" line per task, after its ack.
"""

from __future__ import annotations

import signal
import time
from dataclasses import dataclass, field

from bench.children import BenchChild, bench_env, run, start
from bench.publishers import publish_pipelined
from bench.results_table import Figure, Target, in_run_order
from bench.sizes import Sizes
from bench.task_files import numbered_bodies
from harness.broker import Vhost

SECTION = "2 Worker"
QUEUE = "task_queue3"
POLL = 0.005  # seconds between two looks at the workers' output
DRAIN_TIMEOUT = 600  # seconds: a consumer this slow is broken, not slow
SHORT_WORK_PER_DOT = 0.005  # seconds of work in a one-dot task: 5 ms
BARE, COURSE, THREADED, V3 = (
    ["-m", "bench.bare_worker"],
    ["-m", "bench.course_worker"],
    ["-m", "bench.threaded_course_worker"],
    ["v3_listening_worker.py"],
)


@dataclass
class Consumer:
    """A consumer program, how many copies run at once, on which tasks, and its figure."""

    figure: Figure
    args: list[str]
    copies: int
    tasks: int
    dots: int = 0  # dots in each task
    per_dot: float = 0.0  # SECONDS_PER_DOT (the loops get it as --seconds-per-dot)
    peer: PeerQueue | None = None  # a peer's worker: its own vhost, queue and messages


@dataclass(frozen=True)
class PeerQueue:
    """Where a peer's worker (bench/peer_bench.py) takes its no-op tasks from: its own vhost
    and queue, filled by its own client (`python FILL N`) in its own message format; and
    the settings its worker reads from the environment."""

    vhost: Vhost
    queue: str
    fill: list[str]
    env: dict[str, str] = field(default_factory=dict)


def processes(copies: int) -> str:
    return "1 process" if copies == 1 else "3 processes at once"


def compared(copies: int, tasks: int, per_dot: float, what: str, bound: float) -> list[Consumer]:
    """The course loop, the course loop with its work on a thread, and the v3 worker, graded
    against the latter (the course loop's ratio shown, not graded), on the same tasks."""
    dots = 1 if per_dot else 0
    work = ["--seconds-per-dot", str(per_dot)] if per_dot else []
    course = Figure(SECTION, f"course loop (logging), {what}", "tasks/s", short="course loop")
    threaded = Figure(
        SECTION,
        f"course loop, its work on a thread (logging), {what}",
        "tasks/s",
        short="threaded reference",
        baseline=course,  # what the hand-offs alone cost: a reference
    )
    v3 = Figure(
        SECTION,
        f"**v3 worker**, {what}",
        "tasks/s",
        baseline=threaded,
        target=Target(">=", bound),
        also=[course],  # not graded: it works on pika's I/O thread (README, The figures)
    )
    return [
        Consumer(course, COURSE + work, copies, tasks, dots, per_dot),
        Consumer(threaded, THREADED + work, copies, tasks, dots, per_dot),
        Consumer(v3, V3, copies, tasks, dots, per_dot),
    ]


def zero_dot_consumers(tasks: int) -> list[Consumer]:
    """Zero-dot tasks: the bare loop (a reference), the course loop, the course loop with its
    work on a thread, the v3 worker."""
    measured = []
    for copies in (1, 3):
        what = f"{processes(copies)}, {tasks:,} zero-dot tasks"
        consumers = compared(copies, tasks, 0.0, what, bound=0.95)
        bare = Figure(
            SECTION, f"bare pika loop (print, no logging), {what}", "tasks/s", short="bare loop"
        )
        consumers[0].figure.baseline = bare  # what the course's logging costs: a reference
        measured += [Consumer(bare, BARE, copies, tasks), *consumers]
    return measured


def short_task_consumers(tasks: int) -> list[Consumer]:
    """One-dot tasks of 5 ms: the v3 worker's work thread against the threaded reference."""
    measured = []
    for copies in (1, 3):
        ms = SHORT_WORK_PER_DOT * 1000
        what = f"{processes(copies)}, {tasks:,} one-dot tasks of {ms:g} ms"
        measured += compared(copies, tasks, SHORT_WORK_PER_DOT, what, bound=0.97)
    return measured


def fill_queue(vhost: Vhost, tasks: int, dots: int) -> None:
    """Put `tasks` tasks of `dots` dots in an empty queue, each with its "row" header."""
    vhost.delete_queue(QUEUE)
    publish_pipelined(vhost.url, QUEUE, enumerate(numbered_bodies(tasks, dots), start=1))
    if vhost.ready_count(QUEUE) != tasks:
        raise RuntimeError(f"the queue does not hold the {tasks} tasks just published")


def drain(children: list[BenchChild], tasks: int) -> float:
    """Wait until the children have acked `tasks` tasks; seconds since the first started."""
    deadline = time.monotonic() + DRAIN_TIMEOUT
    while sum(child.count_lines(b"Done") for child in children) < tasks:
        if time.monotonic() > deadline or not all(child.running() for child in children):
            raise RuntimeError(f"workers stopped or stalled:\n{children[0].output[-2000:]}")
        time.sleep(POLL)
    return time.monotonic() - min(child.started for child in children)


def fill_peer_queue(peer: PeerQueue, tasks: int, name: str) -> None:
    """Fill a peer's queue with `tasks` no-op tasks, through the peer's own client."""
    peer.vhost.delete_queue(peer.queue)  # its client declares it anew, as the peer sets it up
    run([*peer.fill, str(tasks)], bench_env(peer.vhost.url), f"{name}-fill")
    if peer.vhost.ready_count(peer.queue) != tasks:
        raise RuntimeError(f"{peer.queue} does not hold the {tasks} tasks just published")


def consume_once(vhost: Vhost, consumer: Consumer, name: str) -> float:
    """Fill the queue, let the consumers empty it, stop them; return tasks per second."""
    tasks, peer = consumer.tasks, consumer.peer
    if peer is None:
        fill_queue(vhost, tasks, consumer.dots)
        env, queue = bench_env(vhost.url, seconds_per_dot=consumer.per_dot), QUEUE
    else:
        fill_peer_queue(peer, tasks, name)
        vhost, queue = peer.vhost, peer.queue
        env = bench_env(vhost.url, **peer.env)
    children = []
    try:
        for copy in range(consumer.copies):
            children.append(start(consumer.args, env, f"{name}-{copy}"))
        seconds = drain(children, tasks)
    finally:
        exits = [child.stop(signal.SIGTERM) for child in children]
    done = sum(child.count_lines(b"Done") for child in children)
    left = vhost.ready_count(queue)
    if any(finished.code != 0 for finished in exits) or done != tasks or left:
        raise RuntimeError(f"{name}: exits {exits}, {done} done of {tasks}, {left} left")
    for child in children:
        child.remove_output()
    return tasks / seconds


def measure_consumers(
    vhost: Vhost, measured: list[Consumer], runs: int, name: str, log=print
) -> list[Figure]:
    """Measure every consumer `runs` times, interleaved, and return their figures."""
    for run_number in range(1, runs + 1):
        for index, consumer in in_run_order(list(enumerate(measured)), run_number):
            rate = consume_once(vhost, consumer, f"{name}-{index}-run{run_number}")
            consumer.figure.values.append(rate)
            log(f"  run {run_number}: {consumer.figure.name}: {rate:,.0f} tasks/s")
    return [consumer.figure for consumer in measured]


def worker_figures(vhost: Vhost, sizes: Sizes, log=print) -> list[Figure]:
    """Measure every consumer `sizes.runs` times, interleaved, and return the figures."""
    measured = zero_dot_consumers(sizes.worker_tasks) + short_task_consumers(sizes.short_tasks)
    return measure_consumers(vhost, measured, sizes.runs, "worker", log)
