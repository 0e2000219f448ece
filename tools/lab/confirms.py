"""confirms: a queue that refuses rows. Publisher confirms (the v3 emitter), or none.

A policy limits the lab's queues to 10 messages and makes the broker refuse a publish
beyond that (max-length 10, overflow reject-publish); no worker runs, so rows 11-18 of
tasks.csv are refused. The v3 emitter asks the broker to confirm every row: it hears of
each refusal, publishes the refused rows again for RETRY_FOR seconds (--retry-for: a
worker could have made room meanwhile), then exits 1 and names them. An emitter without
confirms is never told: it says it sent 18 rows and exits 0, and 8 of them are gone
without a word.
"""

from __future__ import annotations

from dataclasses import dataclass

from tools.lab.session import Lab, Side
from tools.lab.verdict import counted, verdict_of_runs
from tools.management import quoted
from tools.supervisor import RoundLog
from utils.tasks import DEFAULT_TASKS_FILE

NAME = "confirms"
SUMMARY = "a queue that refuses rows (reject-publish): publisher confirms (v3), or none"
MAX_LENGTH = 10
POLICY = "lab-confirms"
RETRY_FOR = "2"  # seconds the v3 emitter publishes refused rows again: no worker makes room
SIDES = (
    Side(
        "with",
        "publisher confirms",
        ("v3_emitter_of_tasks.py", "--retry-for", RETRY_FOR),
        "confirmed",
    ),
    Side(
        "without",
        "no publisher confirms",
        ("-m", "tools.lab.emitter_without", "confirms"),
        "unconfirmed",
    ),
)


@dataclass
class Run:
    """One side's run: the emitter's lines and exit status, and the rows the queue holds."""

    side: Side
    log: RoundLog
    status: int
    in_queue: list[int]


def run(lab: Lab) -> list[str]:
    """The policy, both emitters, then the verdict."""
    url = lab.make_vhost()
    assert lab.vhost is not None
    api, vhost = lab.vhost
    definition = {"max-length": MAX_LENGTH, "overflow": "reject-publish"}
    policy = {"pattern": "^confirms-", "apply-to": "queues", "definition": definition}
    api.call("PUT", f"/policies/{quoted(vhost)}/{POLICY}", policy)
    lab.say(
        f"policy {POLICY} on the queues confirms-*: max-length {MAX_LENGTH}, overflow "
        f"reject-publish: with {MAX_LENGTH} messages waiting, the broker refuses the next"
    )
    runs = [run_side(lab, side, url) for side in SIDES]
    what = (
        f"the same {len(runs[0].log.sent)} rows of tasks.csv each way, to a queue that "
        f"holds {MAX_LENGTH} at most and refuses the rest (no worker takes any)"
    )
    return ["", *verdict_of_runs(NAME, what, runs, column)]


def run_side(lab: Lab, side: Side, url: str) -> Run:
    """Run the emitter, then read the queue (declared by the emitter: the policy holds it
    from its creation)."""
    queue = f"confirms-{side.slug}"
    lab.section(f"{side.title}: {side.program}, to queue {queue}")
    log = RoundLog()
    status = lab.run("emitter", [*side.argv, str(DEFAULT_TASKS_FILE), "--queue", queue], url, log)
    in_queue = lab.rows_in(url, queue)
    lab.say(f"the emitter exited, status {status}; {counted(in_queue)} in queue {queue}")
    return Run(side, log, status, in_queue)


# --- the verdict (pure) -------------------------------------------------------------------


def column(run: Run) -> list[tuple[str, str]]:
    """One side's facts."""
    sent = sorted(run.log.sent)
    named = run.log.not_confirmed.rows if run.log.not_confirmed else []
    unheard = sorted(set(sent) - set(run.in_queue) - set(named))
    said = (
        f"{run.status}: it names the rows refused"
        if named
        else f"{run.status}: it believes all {len(sent)} stored"
    )
    return [
        ("rows sent", str(len(sent))),
        ("the emitter's exit status", said),
        ("rows it names refused", counted(named)),
        ("rows in the queue", counted(run.in_queue)),
        ("lost without a word", counted(unheard)),
    ]
