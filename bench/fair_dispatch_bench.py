"""Section 3: fair dispatch. Three v3 workers on tasks.csv, against the ideal schedule.

The makespan runs from the first "Received" line to the last "Done" line, each stamped
when it reaches us through the worker's stdout pipe. The ideal schedule gives each task,
in row order, to whichever worker is free first (tools.schedule_view.ideal_schedule).
"""

from __future__ import annotations

from bench.processes import PipedChild, run, script_env, wait_until
from bench.results_table import Figure, Target
from bench.sizes import Sizes
from bench.vhost import Vhost
from tools.schedule_view import ideal_schedule
from utils.tasks import DEFAULT_TASKS_FILE, TaskFile, work_seconds

SECTION = "3 Fair dispatch"
QUEUE = "task_queue3"
WORKERS = 3
SECONDS_PER_DOT = 0.1


def ideal_makespan() -> float:
    """The end of the last task when tasks.csv is dispatched ideally to the workers."""
    durations = [work_seconds(task.text, SECONDS_PER_DOT) for task in TaskFile(DEFAULT_TASKS_FILE)]
    return max(end for _worker, _start, end in ideal_schedule(durations, WORKERS))


def start_workers(vhost: Vhost) -> list[PipedChild]:
    """Three v3 workers, named 1, 2, 3, each once it says it is ready for work."""
    env = script_env(vhost.url, SECONDS_PER_DOT=str(SECONDS_PER_DOT))
    workers = []
    try:
        for name in range(1, WORKERS + 1):
            workers.append(PipedChild(["v3_listening_worker.py", "--name", str(name)], env))
        for worker in workers:
            wait_until(lambda w=worker: w.stamps("ready for work"), 30, "a worker to be ready")
    except BaseException:
        for worker in workers:
            worker.stop()
        raise
    return workers


def makespan_once(vhost: Vhost, name: str) -> float:
    """Start the workers, publish tasks.csv with the v3 emitter, return the makespan."""
    tasks = sum(1 for _task in TaskFile(DEFAULT_TASKS_FILE))
    vhost.delete_queue(QUEUE)
    workers = start_workers(vhost)
    try:
        run(["v3_emitter_of_tasks.py", str(DEFAULT_TASKS_FILE)], script_env(vhost.url), name)
        wait_until(
            lambda: sum(len(worker.stamps("Done")) for worker in workers) >= tasks,
            60,
            f"{tasks} tasks done",
        )
    finally:
        codes = [worker.stop() for worker in workers]
    if any(codes):
        raise RuntimeError(f"{name}: worker exit codes {codes}")
    first = min(min(worker.stamps("Received"), default=float("inf")) for worker in workers)
    last = max(max(worker.stamps("Done"), default=0.0) for worker in workers)
    return last - first


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
