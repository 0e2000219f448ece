"""poison: a message that is not UTF-8. The v3 worker sets it aside; the course's original dies.

Three workers; the lab puts the 18 rows of tasks.csv in the queue with, after row 3, one
message whose body is not UTF-8. The v3 worker moves it to <queue>.dead-letter (with the
reason in a header) and carries on: every task is done. The course's original worker
(tools/lab/original_worker.py) calls body.decode() in its callback; the exception ends
start_consuming and the process, the message goes back to the queue unacked, and the next
worker to take it dies too, until none is left and the tasks wait for ever.
"""

from __future__ import annotations

from dataclasses import dataclass

from tools.lab.session import PATIENCE, Lab, Side
from tools.lab.verdict import Tally, counted, verdict_of_runs
from tools.supervisor import RoundLog
from utils.dead_letter import dead_letter_queue
from utils.tasks import DEFAULT_TASKS_FILE, TaskFile, work_seconds

NAME = "poison"
SUMMARY = "a message that is not UTF-8: set aside (v3), or the course's original worker"
WORKERS = 3
AFTER_ROW = 3  # the poison waits behind the first task of each worker
POISON = b"\xff\xfe a message that is not UTF-8 text"
SIDES = (
    Side("with", "a bad message set aside", ("v3_listening_worker.py",), "set-aside"),
    Side(
        "without", "the course's original worker", ("-m", "tools.lab.original_worker"), "original"
    ),
)


@dataclass
class Run:
    """One side's run: its lines, which workers died, and what was left where."""

    side: Side
    log: RoundLog
    died: dict[int, int]  # worker: exit status, for those that ended before the lab stopped them
    left: int  # messages left in the queue, the poison included if it is there
    set_aside: int  # messages in the dead-letter queue


def messages() -> list[tuple[int | None, bytes]]:
    """tasks.csv's rows, and the message that is not UTF-8 after row AFTER_ROW."""
    tasks = [(task.row, task.text.encode()) for task in TaskFile(DEFAULT_TASKS_FILE)]
    return [*tasks[:AFTER_ROW], (None, POISON), *tasks[AFTER_ROW:]]


def run(lab: Lab) -> list[str]:
    """Both sides, then the verdict."""
    url = lab.make_vhost()
    runs = [run_side(lab, side, url) for side in SIDES]
    what = (
        f"the same {len(runs[0].log.sent)} tasks of tasks.csv each way and, after row "
        f"{AFTER_ROW}, one message that is not UTF-8; {WORKERS} workers, {lab.per_dot:g} s per dot"
    )
    return ["", *verdict_of_runs(NAME, what, runs, column)]


def run_side(lab: Lab, side: Side, url: str) -> Run:
    """Three workers, the messages; wait until every task is done or every worker is gone."""
    queue = f"poison-{side.slug}"
    lab.section(f"{side.title}: {WORKERS} workers ({side.program}) on queue {queue}")
    log = RoundLog()
    workers = lab.start_workers(side, WORKERS, queue, url, log)
    batch = messages()
    lab.publish(url, queue, batch)
    log.sent = [row for row, _ in batch if row is not None]
    lab.say(
        f"published the {len(log.sent)} tasks, and after row {AFTER_ROW} a message that is "
        f"not UTF-8 ({POISON[:2]!r}...)"
    )
    side_queue = dead_letter_queue(queue)
    longest = sum(work_seconds(task.text, lab.per_dot) for task in TaskFile(DEFAULT_TASKS_FILE))
    lab.wait(
        log,
        lambda: (
            not lab.supervisor.running()
            or (not log.rows_left() and bool(lab.ready(url, side_queue)))
        ),
        "every task done, or every worker gone",
        longest + PATIENCE,
    )
    died = lab.end_side(workers, log, longest + PATIENCE)
    return Run(side, log, died, lab.ready(url, queue) or 0, lab.ready(url, side_queue) or 0)


# --- the verdict (pure) -------------------------------------------------------------------


def column(run: Run) -> list[tuple[str, str]]:
    """One side's facts."""
    tally = Tally.of(run.log)
    waiting = tally.not_done()
    poison_left = run.left - len(waiting)  # the queue holds the tasks not done, and maybe it
    if run.set_aside:
        poison = f"set aside in {dead_letter_queue(f'poison-{run.side.slug}')}"
    elif poison_left > 0:
        poison = f"back in the queue, after killing {len(run.died)} workers"
    else:
        poison = "gone"
    running = WORKERS - len(run.died)
    return [
        *tally.cells(),
        ("stuck in the queue", counted(waiting)),
        (
            "workers still running",
            f"{running} of {WORKERS}" + (", each died on it" if running == 0 else ""),
        ),
        ("the message that is not UTF-8", poison),
    ]
