"""Section 3: fair dispatch. Three v3 workers on tasks.csv, against the ideal schedule.

The makespan runs from the start of the first task to the end of the last, as the workers'
lines tell: a task starts at its "Received" line's time stamp and ends the "Done" line's
seconds later (tools.demo.RoundLog.blocks). The ideal schedule gives each task, in row
order, to whichever worker is free first (tools.schedule_view.ideal_schedule).
"""

from __future__ import annotations

import signal

from bench.children import BenchChild, bench_env, run, start
from bench.results_table import Figure, Target
from bench.sizes import Sizes
from harness.broker import Vhost
from harness.children import wait_until
from tools.demo import RoundLog
from tools.schedule_view import ideal_schedule, makespan
from utils.console_lines import READY_WORDS, done_rows
from utils.tasks import DEFAULT_TASKS_FILE, TaskFile, work_seconds

SECTION = "3 Fair dispatch"
QUEUE = "task_queue3"
WORKERS = 3
SECONDS_PER_DOT = 0.1


def ideal_makespan() -> float:
    """The end of the last task when tasks.csv is dispatched ideally to the workers."""
    durations = [work_seconds(task.text, SECONDS_PER_DOT) for task in TaskFile(DEFAULT_TASKS_FILE)]
    return max(end for _worker, _start, end in ideal_schedule(durations, WORKERS))


def start_workers(vhost: Vhost, name: str) -> list[BenchChild]:
    """Three v3 workers, named 1, 2, 3, each once it says it is ready for work."""
    env = bench_env(vhost.url, seconds_per_dot=SECONDS_PER_DOT)
    workers = []
    try:
        for number in range(1, WORKERS + 1):
            args = ["v3_listening_worker.py", "--name", str(number)]
            workers.append(start(args, env, f"{name}-worker{number}"))
        for worker in workers:
            worker.wait_for(READY_WORDS)
    except BaseException:
        for worker in workers:
            worker.stop(signal.SIGTERM)
        raise
    return workers


def makespan_once(vhost: Vhost, name: str) -> float:
    """Start the workers, publish tasks.csv with the v3 emitter, return the makespan."""
    tasks = sum(1 for _task in TaskFile(DEFAULT_TASKS_FILE))
    vhost.delete_queue(QUEUE)
    workers = start_workers(vhost, name)
    try:
        run(["v3_emitter_of_tasks.py", str(DEFAULT_TASKS_FILE)], bench_env(vhost.url), name)
        wait_until(
            lambda: sum(len(done_rows(worker.output)) for worker in workers) >= tasks,
            f"{tasks} tasks done",
            timeout=60,
        )
    finally:
        codes = [worker.stop(signal.SIGTERM).code for worker in workers]
    if any(codes):
        raise RuntimeError(f"{name}: worker exit codes {codes}")
    lines = RoundLog()
    for number, worker in enumerate(workers, start=1):
        for line in worker.output.splitlines():
            lines.feed(number, line)
        worker.remove_output()
    return makespan(lines.blocks())


def fair_dispatch_figures(vhost: Vhost, sizes: Sizes, log=print) -> list[Figure]:
    """The ideal makespan, and the measured one `sizes.fair_runs` times."""
    ideal = Figure(
        SECTION,
        f"ideal schedule of tasks.csv on {WORKERS} workers (simulated)",
        "s",
        short="ideal",
        values=[ideal_makespan()],
    )
    measured = Figure(
        SECTION,
        f"**3 v3 workers**, tasks.csv, SECONDS_PER_DOT={SECONDS_PER_DOT}: makespan",
        "s",
        baseline=ideal,
        target=Target("<=", 1.05),
    )
    for run_number in range(1, sizes.fair_runs + 1):
        measured.values.append(makespan_once(vhost, f"fair-run{run_number}"))
        log(f"  run {run_number}: makespan {measured.values[-1]:.3f} s")
    return [ideal, measured]
