"""Section 1: the v3 emitter against baseline publishers, on the same CSV, in the same run.

Every publisher runs as a process of its own, timed from its start to its exit, so each
figure includes the same start-up (interpreter, imports, connection) as the v3 emitter.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from bench.children import BenchExit, bench_env, run
from bench.results_table import Figure, Target, in_run_order
from bench.sizes import Sizes
from bench.task_files import cycled_tasks_csv
from harness.broker import Vhost

SECTION = "1 Emitter"
QUEUE = "task_queue3"  # the v3 emitter's default: it is run with default options
LIMIT_WINDOW = 10_000  # unconfirmed messages in flight; the fastest in a sweep of 1k-50k


@dataclass
class Publisher:
    """One way of publishing a CSV: the command that runs it, and its figures."""

    figure: Figure
    args: list[str]
    rows: int
    peak_rss: Figure | None = None  # filled for the v3 emitter (for section 4)
    vhost: Vhost | None = None  # a peer's own vhost (bench/peer_bench.py); None: the section's
    queue: str = QUEUE


def _baseline(mode: str, rows: int, *extra: str) -> list[str]:
    return ["-m", "bench.publishers", mode, str(cycled_tasks_csv(rows)), *extra]


def publishers(sizes: Sizes) -> list[Publisher]:
    """The publishers of the section, the limit (the baseline of every ratio) first."""
    n, per_row, sync = sizes.emitter_rows, sizes.per_row_connection_rows, sizes.sync_confirm_rows
    pipelined = f"pipelined confirms on SelectConnection, window {LIMIT_WINDOW:,}"
    limit = Figure(
        SECTION,
        f"{pipelined}, a Sent line a row (one log record, a file and the console), {n:,} rows",
        "rows/s",
        short="limit",
    )
    silent = Figure(
        SECTION, f"{pipelined}, silent: the limit, {n:,} rows", "rows/s", short="silent limit"
    )
    v3 = Figure(
        SECTION,
        f"**v3 emitter, end to end, default options** (a Sent line a row), {n:,} rows",
        "rows/s",
        baseline=limit,
        target=Target(">=", 0.9),
    )
    quiet = Figure(
        SECTION,
        f"**v3 emitter --quiet** (no line per row), {n:,} rows",
        "rows/s",
        baseline=silent,
        target=Target(">=", 0.9),
    )
    v3_rss = Figure(
        "4 Memory", f"v3 emitter, default options, {n:,} rows (the runs of section 1)", "MiB"
    )
    csv_file = str(cycled_tasks_csv(n))

    def compared(name: str) -> Figure:
        return Figure(SECTION, name, "rows/s", baseline=silent)

    window = ["--window", str(LIMIT_WINDOW)]
    return [
        Publisher(limit, _baseline("pipelined", n, *window, "--lines"), n),
        Publisher(v3, ["v3_emitter_of_tasks.py", csv_file], n, v3_rss),
        Publisher(silent, _baseline("pipelined", n, *window), n),
        Publisher(quiet, ["v3_emitter_of_tasks.py", csv_file, "--quiet"], n),
        Publisher(
            compared(f"one connection, no confirms (unsafe: a reference), {n:,} rows"),
            _baseline("no-confirm", n),
            n,
        ),
        Publisher(
            compared(f"one connection, a synchronous confirm per publish, {sync:,} rows"),
            _baseline("sync-confirm", sync),
            sync,
        ),
        Publisher(
            compared(f"the original's approach: a connection per row, {per_row:,} rows"),
            _baseline("per-row-connection", per_row),
            per_row,
        ),
    ]


def publish_once(
    vhost: Vhost, args: list[str], rows: int, name: str, queue: str = QUEUE
) -> BenchExit:
    """Run one publisher into an empty queue; check every row arrived; empty the queue."""
    vhost.delete_queue(queue)
    finished = run(args, bench_env(vhost.url), name)
    arrived = wait_for_count(vhost, queue, rows)
    vhost.delete_queue(queue)
    if arrived != rows:
        raise RuntimeError(f"{name}: {arrived} of {rows} rows in the queue")
    return finished


def wait_for_count(vhost: Vhost, queue: str, count: int, timeout: float = 30) -> int:
    """Wait until a queue holds `count` ready messages; return the last count seen."""
    deadline = time.monotonic() + timeout
    seen = vhost.ready_count(queue, missing_ok=True)
    while seen != count and time.monotonic() < deadline:
        time.sleep(0.1)
        seen = vhost.ready_count(queue, missing_ok=True)
    return seen


def measure_publishers(
    vhost: Vhost, measured: list[Publisher], runs: int, name: str, log=print
) -> list[Figure]:
    """Measure every publisher `runs` times, interleaved; their figures, then their peaks."""
    for run_number in range(1, runs + 1):
        for index, publisher in in_run_order(list(enumerate(measured)), run_number):
            finished = publish_once(
                publisher.vhost or vhost,
                publisher.args,
                publisher.rows,
                f"{name}-{index}-run{run_number}",
                publisher.queue,
            )
            publisher.figure.values.append(publisher.rows / finished.seconds)
            if publisher.peak_rss is not None:
                publisher.peak_rss.values.append(finished.peak_rss_kib / 1024)
            log(f"  run {run_number}: {publisher.figure.name}: {publisher.figure.values[-1]:,.0f}")
    return [publisher.figure for publisher in measured] + [
        publisher.peak_rss for publisher in measured if publisher.peak_rss is not None
    ]


def emitter_figures(vhost: Vhost, sizes: Sizes, log=print) -> list[Figure]:
    """Measure every publisher `sizes.runs` times, interleaved, and return the figures."""
    return measure_publishers(vhost, publishers(sizes), sizes.runs, "emitter", log)
