"""prefetch: long and short tasks. Prefetch 1 (fair dispatch), or no limit (plain round robin).

What `python -m tools.demo --compare-prefetch` shows, run by the demo's own code in the
lab's vhost: three v3 workers on tasks.csv with prefetch 1, then the same with --prefetch 0,
each real timeline beside the ideal schedule. With prefetch 1 the next task goes to
whichever worker is free; with no limit the broker hands the tasks out in turn as they
arrive, and a worker that drew long ones keeps short ones waiting behind them.
"""

from __future__ import annotations

from tools import demo
from tools.lab.session import Lab
from tools.lab.verdict import Column, Tally, Verdict, side_by_side, verdict_lines
from tools.schedule_view import makespan
from tools.supervisor import RoundLog, child_environment
from utils.tasks import DEFAULT_TASKS_FILE, TaskFile

NAME = "prefetch"
SUMMARY = "long and short tasks: prefetch 1 (fair dispatch), or no limit (the demo's comparison)"
WORKERS = 3
PROGRAMS = ("v3_listening_worker.py --prefetch 1", "v3_listening_worker.py --prefetch 0")


def run(lab: Lab) -> list[str]:
    """The demo's two rounds in the lab's vhost, its report, then the verdict."""
    url = lab.make_vhost()
    lab.supervisor.env = child_environment(url, lab.per_dot)  # the demo's children use it
    settings = demo.Settings(
        WORKERS, lab.per_dot, DEFAULT_TASKS_FILE, NAME, list(TaskFile(DEFAULT_TASKS_FILE))
    )
    lab.say(f"the demo's --compare-prefetch, on queue {NAME}")
    rounds: list[tuple[str, RoundLog]] = []
    demo.run_rounds(lab.supervisor, settings, demo.plan_of(True), rounds)
    ideal = makespan(demo.ideal_blocks(settings))
    what = (
        f"the same {len(settings.tasks)} tasks of tasks.csv each way, {WORKERS} v3 workers, "
        f"{lab.per_dot:g} s per dot; the ideal schedule takes {ideal:.2f} s"
    )
    columns = [
        Column(f"{key}: {title}", program)
        for key, (title, _log), program in zip(("with", "without"), rounds, PROGRAMS, strict=True)
    ]
    table = Verdict(NAME, what, columns, side_by_side(*(column(log, ideal) for _, log in rounds)))
    return [*demo.report(rounds, settings, lab.supervisor.paint_lane), "", *verdict_lines(table)]


# --- the verdict (pure) -------------------------------------------------------------------


def column(log: RoundLog, ideal: float) -> list[tuple[str, str]]:
    """One round's facts."""
    tally = Tally.of(log)
    real = makespan(log.blocks())
    counts = [len(rows) for rows in log.rows_by_worker(WORKERS).values()]
    return [
        *tally.cells(),
        ("makespan", f"{real:.2f} s, {demo.ratio(real, ideal)} x the ideal"),
        ("tasks each worker did", ", ".join(map(str, counts))),
    ]
