"""restart: tasks waiting in a queue when the broker restarts. Durable and persistent, or not.

The lab never restarts the broker it is given: it starts a throwaway RabbitMQ node of its
own beside it (scripts/local_broker.sh), fills three queues there with the 18 rows of
tasks.csv, restarts RabbitMQ on that node (rabbitmqctl stop_app, start_app) and counts
again. The v3 emitter's durable queue of persistent messages keeps every row; a durable
queue of transient messages comes back empty; a transient queue does not come back at all.
The node is stopped, and everything it wrote deleted, at the end.
"""

from __future__ import annotations

from dataclasses import dataclass

from tools.lab import node
from tools.lab.session import Lab, LabError, Side
from tools.lab.verdict import counted, verdict_of_runs
from tools.supervisor import RoundLog
from utils.tasks import DEFAULT_TASKS_FILE

NAME = "restart"
SUMMARY = "the broker restarts: a durable queue of persistent messages, or transient ones"
USES_YOUR_BROKER = False  # only a throwaway node of its own
SIDES = (
    Side(
        "with",
        "durable queue, persistent messages",
        ("v3_emitter_of_tasks.py",),
        "durable-persistent",
    ),
    Side(
        "without",
        "transient messages",
        ("-m", "tools.lab.emitter_without", "persistent"),
        "transient-messages",
    ),
    Side(
        "without",
        "a transient queue",
        ("-m", "tools.lab.emitter_without", "durable"),
        "transient-queue",
    ),
)


def unavailable() -> str | None:
    """Why the lab cannot run this experiment here, or None."""
    return node.unavailable()


@dataclass
class Run:
    """One queue's story: the rows sent to it, and its rows before and after the restart."""

    side: Side
    log: RoundLog
    before: list[int] | None  # None: no such queue
    after: list[int] | None


def run(lab: Lab) -> list[str]:
    """Start the node, fill the queues, restart, count, then the verdict."""
    url = lab.start_node()
    runs = []
    for side in SIDES:
        queue = f"restart-{side.slug}"
        lab.section(f"{side.title}: {side.program}, to queue {queue}")
        log = RoundLog()
        status = lab.run(
            "emitter", [*side.argv, str(DEFAULT_TASKS_FILE), "--queue", queue], url, log
        )
        if status != 0:
            raise LabError(f"the emitter failed (status {status}); see its lines above")
        runs.append(Run(side, log, lab.rows_in(url, queue), None))
    lab.section("the broker restarts")
    lab.say("rabbitmqctl stop_app on the lab's node: RabbitMQ stops, as in a restart or a crash")
    lab.node_ctl("stop_app")
    lab.say("rabbitmqctl start_app: RabbitMQ starts again and recovers what it kept on disk")
    lab.node_ctl("start_app")
    for each in runs:
        queue = f"restart-{each.side.slug}"
        each.after = lab.rows_in(url, queue) if lab.ready(url, queue) is not None else None
        lab.say(f"queue {queue}: {where(each.after)}")
    what = (
        f"the same {len(runs[0].log.sent)} rows of tasks.csv in each queue, then RabbitMQ "
        "restarted (on a throwaway node of the lab's own)"
    )
    return ["", *verdict_of_runs(NAME, what, runs, column)]


# --- the verdict (pure) -------------------------------------------------------------------


def where(rows: list[int] | None) -> str:
    """What a queue held: its rows, or that it is gone."""
    return "no such queue" if rows is None else counted(rows, none="empty")


def column(run: Run) -> list[tuple[str, str]]:
    """One queue's facts."""
    sent = sorted(run.log.sent)
    lost = sorted(set(sent) - set(run.after or []))
    return [
        ("rows sent", str(len(sent))),
        ("in the queue before the restart", where(run.before)),
        ("in the queue after the restart", where(run.after)),
        ("lost", counted(lost)),
    ]
