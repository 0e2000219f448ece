"""make bench: every benchmark in one run, in a vhost of its own, then the table.

    python -m bench.run_all [--full] [--runs N] [--only SECTION ...]

The sections: emitter, worker, fair (dispatch), memory, peers (Dramatiq and Celery, from
requirements-bench.txt). The table goes to stdout and to bench/results.md. The vhost is
created through the management API and deleted at the end, even on failure or Ctrl+C.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import signal
import sys
import time
from dataclasses import replace
from pathlib import Path

import pika

from bench.children import compile_modules, kill_all
from bench.emitter_bench import emitter_figures
from bench.fair_dispatch_bench import fair_dispatch_figures
from bench.memory_bench import memory_figures
from bench.peer_bench import REQUIREMENTS, missing_packages, peer_figures
from bench.results_table import Figure, markdown
from bench.sizes import FULL, QUICK, Sizes
from bench.worker_bench import worker_figures
from harness.broker import Vhost, api
from tools.management import ManagementError
from utils.errors import ExitCode

RESULTS = Path(__file__).resolve().parent / "results.md"
# sizes the issue does not set: `--full` runs these (the note names them so)
OWN_SIZES = {"short_tasks": "--full", "peer_rows": "--full"}
SECTIONS = {
    "emitter": emitter_figures,
    "worker": worker_figures,
    "fair": fair_dispatch_figures,
    "memory": memory_figures,
    "peers": peer_figures,
}


def make_argument_parser() -> argparse.ArgumentParser:
    """The command line: sizes, repetitions, and which sections to run."""
    parser = argparse.ArgumentParser(
        description="Benchmark the v3 emitter and worker against pika baselines.",
        epilog="example: python -m bench.run_all --only worker fair",
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help="the issue's sizes (100,000 synchronous confirms, 20,000 tasks, 1,000,000 rows "
        "for the memory figure), and 5,000 one-dot tasks of 5 ms: about 25 minutes",
    )
    parser.add_argument(
        "--runs", type=int, help="repetitions of every figure (default 5; --full: 3)"
    )
    parser.add_argument(
        "--only", nargs="+", choices=sorted(SECTIONS), help="run only these sections"
    )
    return parser


def log(line: str) -> None:
    print(line, flush=True)


def measure(sizes: Sizes, sections: list[str]) -> list[Figure]:
    """Run the sections in a fresh vhost; return their figures, in section order."""
    compile_modules()
    figures: list[Figure] = []
    with Vhost("bench") as vhost:
        log(f"bench: vhost {vhost.name}")
        try:
            for section in sections:
                log(f"bench: {section}")
                figures += SECTIONS[section](vhost, sizes, log=log)
        finally:
            kill_all()  # any child a failure left running, before its vhost goes
    link_memory_baseline(figures)
    return sorted(figures, key=lambda figure: figure.section)  # stable: keeps the order within


def link_memory_baseline(figures: list[Figure]) -> None:
    """Compare section 1's peak RSS (default options) with the tasks.csv peak, if measured."""
    small = next((f for f in figures if f.short == "tasks.csv"), None)
    for figure in figures:
        if figure.section.startswith("4") and figure.baseline is None and figure is not small:
            figure.baseline = small


def environment() -> str:
    """One line on what was measured where: broker, Python, pika, CPUs, load."""
    try:
        overview = api("GET", "/overview")
        assert isinstance(overview, dict)
        broker = overview["rabbitmq_version"]
    except (ManagementError, KeyError):
        broker = "?"
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return (
        f"RabbitMQ {broker}, Python {platform.python_version()}, pika {pika.__version__}, "
        f"{os.cpu_count()} CPUs, load average at the end {load}"
    )


def sizes_note(sizes: Sizes) -> str:
    """Which sizes differ from `--full`'s, so that the table says what it measured."""
    smaller = [
        f"{field} {getattr(sizes, field):,} ({OWN_SIZES.get(field, 'issue')}: "
        f"{getattr(FULL, field):,})"
        for field in ("emitter_rows", "per_row_connection_rows", "sync_confirm_rows")
        + ("worker_tasks", "short_tasks", "memory_rows", "peer_rows")
        if getattr(sizes, field) != getattr(FULL, field)
    ]
    if not smaller:
        return "Sizes: the issue's (and `--full`'s for the figures the issue does not size)."
    return (
        "Sizes reduced so that `make bench` stays short (`--full` runs the issue's): "
        + "; ".join(smaller)
        + "."
    )


def report(figures: list[Figure], sizes: Sizes, seconds: float) -> str:
    """The markdown written to bench/results.md: context, table, notes."""
    when = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    return "\n".join(
        [
            "# Benchmark results",
            "",
            f"`make bench` on {when}, {seconds / 60:.1f} minutes; {environment()}.",
            f"Each figure: the median of {sizes.runs} runs (the makespan: {sizes.fair_runs}), "
            "[min - max]; each ratio is the median of the run-by-run ratios, the two "
            "figures of a pair measured back to back (in turn first), runs interleaved.",
            "Rates: rows (tasks) over the wall time of the process, from its start to its "
            "exit (for workers, to the last ack). See bench/README.md for the method.",
            sizes_note(sizes),
            "The v3 worker is graded against the course loop with its work on a thread; its "
            "ratio to the course loop is shown, not graded: the course loop works on pika's "
            "I/O thread, so during long work it answers no heartbeats.",
            "",
            markdown(figures),
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    """Measure, print the table and write it to bench/results.md (when every section ran)."""
    args = make_argument_parser().parse_args(argv)
    sizes = FULL if args.full else QUICK
    if args.runs:
        sizes = replace(sizes, runs=args.runs, fair_runs=max(args.runs, sizes.fair_runs))
    sections = [name for name in SECTIONS if name in (args.only or SECTIONS)]
    missing = missing_packages() if "peers" in sections else []
    if missing:
        print(
            f"bench: error: the peers' packages are not installed ({', '.join(missing)}): "
            f"run `make bench`, or `.venv/bin/pip install -r {REQUIREMENTS.name}`",
            file=sys.stderr,
        )
        return ExitCode.USAGE
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # clean up as on Ctrl+C
    started = time.monotonic()
    try:
        figures = measure(sizes, sections)
    except KeyboardInterrupt:
        print("bench: interrupted; the vhost was deleted", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except ManagementError as error:  # before anything ran: no vhost to delete
        print(
            f"bench: error: {error}; run `make broker`",
            file=sys.stderr,
        )
        return 1
    text = report(figures, sizes, time.monotonic() - started)
    print(text)
    if args.only and set(args.only) != set(SECTIONS):
        print("bench: some sections only: bench/results.md is left as it was")
    else:
        RESULTS.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
