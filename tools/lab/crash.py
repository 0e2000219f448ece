"""crash: a worker killed mid-task. Manual ack after the work, or auto-ack.

Three workers share tasks.csv; worker 2 is killed with SIGKILL halfway through the first
task it starts (each of the first three rows takes 4 dots, the longest of the file). With
v3 workers, which ack a task only once it is done, the broker gives the killed task to
another worker, marked redelivered. With auto-ack the broker forgot each task as it sent it:
the killed task is lost, and so is every task it had already sent that worker (auto-ack
knows no prefetch limit: each worker was sent its share at once).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from tools.lab.session import QUIET, Lab, Side
from tools.lab.verdict import Tally, counted, verdict_of_runs
from tools.supervisor import Child, RoundLog, second_of_day
from utils.tasks import DEFAULT_TASKS_FILE, TaskFile, work_seconds

NAME = "crash"
SUMMARY = "a worker killed mid-task (SIGKILL): manual ack after the work, or auto-ack"
MIN_SECONDS_PER_DOT = 0.05  # below it the kill may come after the task is done
WORKERS, VICTIM = 3, 2
SIDES = (
    Side("with", "manual ack after the work", ("v3_listening_worker.py",), "manual-ack"),
    Side("without", "auto-ack", ("-m", "tools.lab.worker_without", "manual-ack"), "auto-ack"),
)


@dataclass
class Run:
    """One side's run: what its lines said, and which row the victim was doing when killed."""

    side: Side
    log: RoundLog
    killed_row: int


def run(lab: Lab) -> list[str]:
    """Both sides, then the timelines and the verdict."""
    url = lab.make_vhost()
    runs = [run_side(lab, side, url) for side in SIDES]
    what = (
        f"the same {len(runs[0].log.sent)} tasks of tasks.csv each way, {WORKERS} workers, "
        f"{lab.per_dot:g} s per dot; worker {VICTIM} killed (SIGKILL) halfway through its "
        "first task"
    )
    titled = [(f"{r.side.title} ({r.side.program})", r.log) for r in runs]
    return [*lab.timelines(titled, WORKERS), "", *verdict_of_runs(NAME, what, runs, column)]


def run_side(lab: Lab, side: Side, url: str) -> Run:
    """Three workers, the v3 emitter on tasks.csv, worker 2 killed mid-task, the rest drained."""
    queue = f"crash-{side.slug}"
    lab.section(f"{side.title}: {WORKERS} workers ({side.program}) on queue {queue}")
    log = RoundLog()
    workers = lab.start_workers(side, WORKERS, queue, url, log)
    lab.emit(str(DEFAULT_TASKS_FILE), queue, url, log)
    killed_row = kill_mid_task(lab, workers[VICTIM - 1], log)
    survivors = [number for number in range(1, WORKERS + 1) if number != VICTIM]

    def settled() -> bool:
        if not log.rows_left():
            return True
        return lab.idle(log, survivors) and lab.ready(url, queue) == 0

    lab.wait(log, settled, "every task done, or the workers left idle", timeout(lab))
    if log.rows_left():
        lab.say(f"the queue is empty and the workers left have been idle for {QUIET:g} s")
    lab.end_side(workers, log, timeout(lab))
    return Run(side, log, killed_row)


def timeout(lab: Lab) -> float:
    """Long enough for one worker to do every task of tasks.csv, and then some."""
    return 30 + sum(work_seconds(task.text, lab.per_dot) for task in TaskFile(DEFAULT_TASKS_FILE))


def first_task(log: RoundLog, worker: int) -> int | None:
    """The row of the first task the worker started, if it started one."""
    return next((row for number, row in log.received if number == worker), None)


def kill_mid_task(lab: Lab, victim: Child, log: RoundLog) -> int:
    """Wait for the victim's first task, SIGKILL it halfway through; return the task's row."""
    number = VICTIM
    lab.wait(log, lambda: first_task(log, number) is not None, f"worker {number}'s first task", 30)
    row = first_task(log, number)
    assert row is not None
    texts = {task.row: task.text for task in TaskFile(DEFAULT_TASKS_FILE)}
    seconds = work_seconds(texts[row], lab.per_dot)
    # the Received line says when the work began: sleep until halfway, by the same clock
    halfway = log.received[number, row] + seconds / 2
    time.sleep(max(0.0, halfway - second_of_day(time.time())))
    lab.kill(victim, log)
    lab.say(f"killed worker {number} (SIGKILL) {seconds / 2:.2f} s into row {row}")
    return row


# --- the verdict (pure) -------------------------------------------------------------------


def killed_task(run: Run) -> str:
    """What became of the task the victim was doing when it was killed."""
    row = run.killed_row
    if (VICTIM, row) in {(worker, done) for worker, done, _ in run.log.done}:
        return f"row {row}: done before the kill landed (try a larger --seconds-per-dot)"
    rescuers = [worker for worker, done, _ in run.log.done if done == row]
    if not rescuers:
        return f"row {row}: lost"
    again = " redelivered," if (rescuers[0], row) in run.log.redelivered else ""
    return f"row {row}:{again} done by worker {rescuers[0]}"


def column(run: Run) -> list[tuple[str, str]]:
    """One side's facts."""
    tally = Tally.of(run.log)
    lost = tally.not_done()
    return [
        *tally.cells(),
        ("lost", counted(lost)),
        (f"worker {VICTIM}'s task when killed", killed_task(run)),
        (
            f"also lost with worker {VICTIM}",
            counted([row for row in lost if row != run.killed_row]),
        ),
    ]
