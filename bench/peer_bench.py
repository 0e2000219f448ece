"""Section 5: the v3 scripts against their peers, Dramatiq and Celery, in the same run.

Workers: each peer's worker, run one task at a time as the v3 worker is (Dramatiq: one
process, one thread, prefetch 1; Celery: prefork, concurrency 1, acks_late, prefetch
multiplier 1), drains as many no-op tasks as the v3 worker's zero-dot figures; each says
Received and Done through the course's logger, two records a task, as the v3 worker does
(bench/dramatiq_peer.py, bench/celery_peer.py). Each peer's tasks are its own messages,
filled by its own client into its own queue, in a vhost of its own; the v3 worker drains
task_queue3 in the run's vhost. Graded: the v3 worker at least 1.0x each peer.

Emitters: Dramatiq's `send` and Celery's `delay`, publisher confirms on, send each row of
the same CSV as a task, silently; against each, `v3_emitter_of_tasks.py --quiet` on that CSV
(no line a row either). Not graded: the peers wait for each confirm in turn, the v3 emitter
pipelines them.

Each peer's figure runs right before or after the v3 figure compared with it (the order
alternates from run to run), as every pair in bench/ does.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
from dataclasses import dataclass, field
from pathlib import Path

from bench.emitter_bench import Publisher, measure_publishers
from bench.results_table import Figure, Target
from bench.sizes import Sizes
from bench.task_files import cycled_tasks_csv
from bench.worker_bench import V3, Consumer, PeerQueue, measure_consumers
from harness.broker import Vhost

SECTION = "5 Peers"
REQUIREMENTS = Path(__file__).resolve().parent.parent / "requirements-bench.txt"


@dataclass(frozen=True)
class Peer:
    """A peer: its package, its side of the benchmark (a module of bench/), its queue, how
    its worker is started and run, and how its client publishes."""

    name: str
    package: str
    module: str
    queue: str
    worker: list[str]  # python ARGS: the worker, one task at a time
    worker_how: str
    send_how: str
    env: dict[str, str] = field(default_factory=dict)  # settings its worker reads

    def version(self) -> str:
        return importlib.metadata.version(self.package)


PEERS = [
    Peer(
        "Dramatiq",
        "dramatiq",
        "bench.dramatiq_peer",
        "default",
        ["-m", "dramatiq", "bench.dramatiq_peer", "--processes", "1", "--threads", "1"],
        "1 process, 1 thread, prefetch 1",
        "`send`, confirm_delivery",
        {"dramatiq_queue_prefetch": "1"},  # its default: two messages a worker thread
    ),
    Peer(
        "Celery",
        "celery",
        "bench.celery_peer",
        "celery",
        ["-m", "celery", "-A", "bench.celery_peer", "worker", "--pool", "prefork"]
        + ["--concurrency", "1", "--loglevel", "WARNING", "--without-mingle", "--without-gossip"],
        "prefork, concurrency 1, acks_late, prefetch multiplier 1",
        "`delay`, confirm_publish",
    ),
]


def missing_packages() -> list[str]:
    """The peers' packages that are not installed (requirements-bench.txt installs them)."""
    missing = []
    for peer in PEERS:
        try:
            peer.version()
        except importlib.metadata.PackageNotFoundError:
            missing.append(peer.package)
    return missing


def worker_pair(peer: Peer, vhost: Vhost, tasks: int) -> list[Consumer]:
    """The peer's worker, then the v3 worker graded against it, on `tasks` no-op tasks."""
    what = f"1 process, {tasks:,} zero-dot tasks"
    theirs = Figure(
        SECTION,
        f"{peer.name} {peer.version()} worker ({peer.worker_how}), {tasks:,} no-op tasks",
        "tasks/s",
        short=f"{peer.name} worker",
    )
    ours = Figure(
        SECTION, f"**v3 worker**, {what}", "tasks/s", baseline=theirs, target=Target(">=", 1.0)
    )
    where = PeerQueue(vhost, peer.queue, ["-m", peer.module, "fill"], peer.env)
    return [Consumer(theirs, peer.worker, 1, tasks, peer=where), Consumer(ours, V3, 1, tasks)]


def emitter_pair(peer: Peer, vhost: Vhost, rows: int) -> list[Publisher]:
    """The peer's client sending each row, then the v3 emitter --quiet compared with it."""
    csv_file = str(cycled_tasks_csv(rows))
    theirs = Figure(
        SECTION,
        f"{peer.name} {peer.version()} {peer.send_how}: a task a row, {rows:,} rows",
        "rows/s",
        short=f"{peer.name} {peer.send_how.split(',')[0]}",
    )
    ours = Figure(SECTION, f"v3 emitter --quiet, {rows:,} rows", "rows/s", baseline=theirs)
    send = ["-m", peer.module, "send", csv_file]
    return [
        Publisher(theirs, send, rows, vhost=vhost, queue=peer.queue),
        Publisher(ours, ["v3_emitter_of_tasks.py", csv_file, "--quiet"], rows),
    ]


def peer_figures(vhost: Vhost, sizes: Sizes, log=print) -> list[Figure]:
    """Measure the v3 worker and emitter against each peer, each peer in a vhost of its own."""
    with contextlib.ExitStack() as stack:
        vhosts = [stack.enter_context(Vhost(f"bench-{peer.package}")) for peer in PEERS]
        consumers, publishers = [], []
        for peer, own in zip(PEERS, vhosts, strict=True):
            consumers += worker_pair(peer, own, sizes.worker_tasks)
            publishers += emitter_pair(peer, own, sizes.peer_rows)
        figures = measure_consumers(vhost, consumers, sizes.runs, "peer-worker", log)
        figures += measure_publishers(vhost, publishers, sizes.runs, "peer-emitter", log)
    return figures
