"""heartbeat: a task longer than two heartbeats. The work in a thread, or in the callback.

Two workers, one long task, and a short heartbeat in the URL (?heartbeat=2; 1 when the dots
are short). RabbitMQ closes a connection it has heard nothing from for two to three
heartbeat intervals. The v3 worker works in a thread of its own while pika's I/O thread
keeps the heartbeats going: the task is done once. A worker that sleeps in pika's callback,
as the tutorial's does, says nothing while it works: the broker closes its connection and
hands the task to the other worker, which starts it again and loses its connection the same
way. The work runs twice, no ack reaches the broker, and the task is back in the queue.
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tools.lab.session import PATIENCE, Lab, Side, with_query
from tools.lab.verdict import verdict_of_runs
from tools.supervisor import RoundLog

NAME = "heartbeat"
SUMMARY = "a task longer than two heartbeats: the work in a thread (v3), or in pika's callback"
MIN_SECONDS_PER_DOT = 0.01  # the long task gets more dots as they get shorter
WORKERS = 2
SIDES = (
    Side("with", "the work in a thread of its own", ("v3_listening_worker.py",), "work-thread"),
    Side(
        "without",
        "the work in pika's callback",
        ("-m", "tools.lab.worker_without", "work-thread"),
        "callback",
    ),
)


@dataclass
class Run:
    """One side's run: its lines, the workers that died before the lab stopped them, the rest."""

    side: Side
    log: RoundLog
    died: dict[int, int]  # worker: exit status
    left: int  # messages left in the queue


def plan(per_dot: float) -> tuple[int, int]:
    """The heartbeat (s) and the long task's dots: 10 dots or more, 4 heartbeats of work or more.

    The broker gives up on a silent connection between two and three intervals after it last
    heard from it: four leave a clear margin. A heartbeat is a whole number of seconds.
    """
    heartbeat = 2 if 10 * per_dot >= 8 else 1
    return heartbeat, max(10, math.ceil(4 * heartbeat / per_dot))


def run(lab: Lab) -> list[str]:
    """Both sides on the same long task, then the timelines and the verdict."""
    url = lab.make_vhost()
    heartbeat, dots = plan(lab.per_dot)
    seconds = dots * lab.per_dot
    lab.say(
        f"one task of {dots} dots ({seconds:g} s of work) and a heartbeat of {heartbeat} s "
        f"(?heartbeat={heartbeat} in the URL): RabbitMQ closes a connection it has not heard "
        f"from for {2 * heartbeat}-{3 * heartbeat} s"
    )
    with tempfile.TemporaryDirectory(prefix="lab-heartbeat-") as folder:
        csv_file = Path(folder) / "long_task.csv"
        csv_file.write_text("A long task" + "." * dots + "\n")
        url = with_query(url, heartbeat=str(heartbeat))
        runs = [run_side(lab, side, url, str(csv_file), seconds) for side in SIDES]
    what = (
        f"the same task of {dots} dots ({seconds:g} s) each way, {WORKERS} workers, "
        f"heartbeat {heartbeat} s"
    )
    titled = [(f"{r.side.title} ({r.side.program})", r.log) for r in runs]
    return [*lab.timelines(titled, WORKERS), "", *verdict_of_runs(NAME, what, runs, column)]


def run_side(lab: Lab, side: Side, url: str, csv_file: str, seconds: float) -> Run:
    """Two workers, the long task; wait until it is done or every worker has died."""
    queue = f"heartbeat-{side.slug}"
    lab.section(f"{side.title}: {WORKERS} workers ({side.program}) on queue {queue}")
    log = RoundLog()
    workers = lab.start_workers(side, WORKERS, queue, url, log)
    lab.emit(csv_file, queue, url, log)
    lab.wait(
        log,
        lambda: not log.rows_left() or not lab.supervisor.running(),
        "the task done, or every worker gone",
        3 * seconds + PATIENCE,
    )
    died = lab.end_side(workers, log, seconds + PATIENCE)
    return Run(side, log, died, lab.ready(url, queue) or 0)


# --- the verdict (pure) -------------------------------------------------------------------


def column(run: Run) -> list[tuple[str, str]]:
    """One side's facts. A worker that lost its connection did so at its ack, its work over."""
    starts = sum(run.log.starts.values())
    again = sorted(worker for worker, _row in run.log.redelivered)
    ran = str(starts)
    if starts == 2 and len(again) == 1:
        ran += f", the second redelivered to worker {again[0]}"
    elif again:
        ran += f", {len(again)} of them redelivered"
    acked = len(run.log.done)
    died = ", ".join(f"worker {worker}" for worker in sorted(run.died))
    return [
        ("tasks sent", str(len(run.log.sent))),
        ("times its work ran", ran),
        ("acked", f"{acked}: done" if acked else "0: no ack reached the broker"),
        ("connections lost", f"{len(run.died)}: {died}" if run.died else "none"),
        ("left in the queue", f"{run.left}: it would go round again" if run.left else "none"),
    ]
