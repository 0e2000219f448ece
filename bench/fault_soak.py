"""Fault soak: three v3 workers on 2,000 tasks while one of them is SIGKILLed every second.

    python -m bench.fault_soak [--tasks 2000] [--seconds-per-dot 0.2] [--interval 1.0]
                               [--fail-one-in N]

Every task is unique ("task 17 .", row header 17). A killed worker is restarted at once.
Kills stop when the queue has no ready task left; once every task is done (or nothing is
in flight any more), the workers are stopped with SIGTERM and the soak reports:
- lost: tasks with no "Done" line in any worker's output, neither set aside nor acked in
  the instant of a kill (below); must be 0, with the work queue empty;
- set aside: with --fail-one-in N, the workers' work fails one try in N at random
  (bench/failing_work.py); a task that fails its two tries (--retries 1) is set aside in
  the dead-letter queue, which must hold exactly those, each counting 2 failures;
- acked as killed: tasks whose work had ended when their worker was killed, with no "Done"
  line: the worker acks, then prints "Done", and the kill fell in between (not lost);
- done twice: tasks with more than one "Done" line (work completed twice);
- redelivered: tasks received more than once (a kill took them mid-work; expected).
Exit status 0 when nothing is lost and at least --min-kills kills happened, 1 otherwise.
Not part of `make bench`: it takes about three minutes.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import datetime
import random
import signal
import sys
import time
from dataclasses import dataclass, field

from bench.children import BenchChild, bench_env, kill_all, start
from bench.publishers import publish_pipelined
from bench.task_files import OUT_DIR, numbered_bodies
from harness.broker import Vhost
from harness.children import wait_until
from utils.console_lines import READY_WORDS, done_rows, parse_all_received

QUEUE = "task_queue3"
FAILED = " failed on try "  # in the worker's line for a try whose work raised
DEAD_LETTER = f"{QUEUE}.dead-letter"
WORKERS = 3


def clock_seconds(moment: datetime.datetime) -> float:
    """Seconds since midnight, as the worker's "at HH:MM:SS.fff" gives them."""
    return moment.hour * 3600 + moment.minute * 60 + moment.second + moment.microsecond / 1e6


@dataclass
class Incarnation:
    """One worker process: its output, and when (seconds since midnight) it was killed."""

    child: BenchChild
    killed_at: float | None = None

    def ready(self) -> bool:
        """Whether the worker has said it is ready for work."""
        return READY_WORDS in self.text()

    def text(self) -> str:
        return self.child.output


@dataclass
class Soak:
    """The running workers (one slot each), every process that ran, and the kills."""

    vhost: Vhost
    env: dict[str, str]
    slots: list[Incarnation] = field(default_factory=list)
    retired: list[Incarnation] = field(default_factory=list)
    kills: int = 0
    fail_one_in: int = 0  # 0: the worker's own work, which never fails

    def start(self, slot: int) -> Incarnation:
        name = f"soak-{slot}-{self.kills:04d}"
        worker = ["-m", "bench.failing_work", str(self.fail_one_in)] if self.fail_one_in else []
        args = [*(worker or ["v3_listening_worker.py"]), "--name", str(slot + 1)]
        return Incarnation(start(args, self.env, name))

    def start_all(self) -> None:
        self.slots = [self.start(slot) for slot in range(WORKERS)]

    def kill_one(self, rng: random.Random) -> None:
        """SIGKILL one worker, chosen at random, reap it and start another in its place."""
        slot = rng.randrange(WORKERS)
        victim = self.slots[slot]
        victim.killed_at = clock_seconds(datetime.datetime.now())
        victim.child.send(signal.SIGKILL)
        victim.child.wait()
        self.retired.append(victim)
        self.kills += 1
        self.slots[slot] = self.start(slot)

    def everyone(self) -> list[Incarnation]:
        return self.retired + self.slots

    def idle(self) -> bool:
        """No task in hand: every running worker has ended (a "Done" line, or a failed try
        said) as many tasks as it has "Received"."""
        return all(
            len(parse_all_received(text)) == len(done_rows(text)) + text.count(FAILED)
            for text in (worker.text() for worker in self.slots)
        )

    def stop_all(self) -> list[int]:
        """SIGTERM the running workers (a graceful stop) once they are up; their exit codes.

        A worker still importing has no signal handler yet: SIGTERM would kill it (-15).
        """
        for worker in self.slots:
            with contextlib.suppress(TimeoutError):  # not up in time: stop it anyway
                wait_until(worker.ready, "a worker ready", timeout=15)
        return [worker.child.stop(signal.SIGTERM).code for worker in self.slots]


def done_counts(soak: Soak) -> collections.Counter[int]:
    """How many "Done" lines each task row has, over every worker that ran."""
    return collections.Counter(
        row for worker in soak.everyone() for row in done_rows(worker.text())
    )


def finished(soak: Soak, tasks: int) -> bool:
    """Every task done, or nothing left to do: no ready task and no worker busy."""
    if len(done_counts(soak)) >= tasks:
        return True
    return soak.vhost.ready_count(QUEUE) == 0 and soak.idle()


def run_soak(soak: Soak, tasks: int, interval: float, timeout: float, seed: int) -> float:
    """Kill a worker every `interval` s while tasks are waiting, until all is done."""
    rng = random.Random(seed)
    started = time.monotonic()
    soak.start_all()
    quiet_checks = 0  # "nothing left to do" must hold twice in a row, `interval` apart
    while quiet_checks < 2:
        if time.monotonic() - started > timeout:
            print(f"fault soak: gave up after {timeout:.0f} s", file=sys.stderr)
            break
        time.sleep(interval)
        quiet_checks = quiet_checks + 1 if finished(soak, tasks) else 0
        if not quiet_checks and soak.vhost.ready_count(QUEUE):
            soak.kill_one(rng)
    return time.monotonic() - started


def receptions(soak: Soak) -> dict[int, list[tuple[float, Incarnation]]]:
    """For each task row, when (seconds since midnight) and by whom it was received."""
    seen = collections.defaultdict(list)
    for worker in soak.everyone():
        for task in parse_all_received(worker.text()):
            seen[task.row].append((task.second_of_day, worker))
    return seen


def acked_as_killed(row: int, seen, work: float) -> bool:
    """Whether the task's last worker was killed after its work had ended (ack, then kill)."""
    if not seen.get(row):
        return False
    at, worker = max(seen[row], key=lambda reception: reception[0])
    return worker.killed_at is not None and worker.killed_at >= at + work


def make_argument_parser() -> argparse.ArgumentParser:
    """The command line: how many tasks, how long each, how often a kill."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--seconds-per-dot", type=float, default=0.2, help="each task has one")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between kills")
    parser.add_argument("--min-kills", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--fail-one-in", type=int, default=0, help="work that fails one try in N at random"
    )
    return parser


def set_aside(soak: Soak) -> collections.Counter[tuple[object, object]]:
    """(row, failures) of each task in the dead-letter queue (taken: the vhost goes next)."""
    if not soak.vhost.ready_count(DEAD_LETTER, missing_ok=True):
        return collections.Counter()
    return collections.Counter(
        ((properties.headers or {}).get("row"), (properties.headers or {}).get("x-failures"))
        for _body, properties in soak.vhost.take_all(DEAD_LETTER)
    )


def report(soak: Soak, args, seconds: float, codes: list[int]) -> bool:
    """Print the soak's figures; True when nothing was lost and there were enough kills."""
    done, seen, aside = done_counts(soak), receptions(soak), set_aside(soak)
    aside_rows = {row for row, _failures in aside}
    missing = sorted(set(range(1, args.tasks + 1)) - set(done) - aside_rows)
    killed = [row for row in missing if acked_as_killed(row, seen, args.seconds_per_dot)]
    lost = [row for row in missing if row not in killed]
    twice = sorted(row for row, count in done.items() if count > 1)
    both = sorted(row for row in aside_rows if isinstance(row, int) and row in done)
    miscounted = sorted(str(row) for row, failures in aside if failures != 2)
    redelivered = sum(1 for receptions_of_row in seen.values() if len(receptions_of_row) > 1)
    left, dead = soak.vhost.ready_count(QUEUE), sum(aside.values())
    failing = f", work failing one try in {args.fail_one_in}" if args.fail_one_in else ""
    print(
        f"fault soak: {args.tasks} tasks, {WORKERS} v3 workers, SECONDS_PER_DOT="
        f"{args.seconds_per_dot}, one SIGKILL every {args.interval} s{failing}\n"
        f"  kills: {soak.kills} in {seconds:.1f} s (at least {args.min_kills} wanted)\n"
        f"  tasks with a Done line: {len(done)} of {args.tasks}\n"
        f"  lost: {len(lost)} {lost[:20]}\n"
        f"  acked as their worker was killed (work ended, no Done line): {len(killed)} "
        f"{killed[:20]}\n"
        f"  done twice or more: {len(twice)} {twice[:20]}\n"
        f"  received more than once (redelivered after a kill, or retried): {redelivered}\n"
        f"  set aside (failed twice): {len(aside_rows)}; not with 2 failures: {miscounted[:20]}; "
        f"both done and set aside: {both[:20]}\n"
        f"  left in {QUEUE}: {left}; in {DEAD_LETTER}: {dead}\n"
        f"  exit codes of the last three workers on SIGTERM: {codes}"
    )
    expected_aside = dead == len(aside_rows) and not miscounted and (args.fail_one_in or not dead)
    enough = soak.kills >= args.min_kills
    return not lost and not left and expected_aside and enough and not any(codes)


def main(argv: list[str] | None = None) -> int:
    """Run the soak in a vhost of its own; exit 0 only if no task was lost."""
    args = make_argument_parser().parse_args(argv)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    for old in OUT_DIR.glob("soak-*.out"):
        old.unlink()
    expected = args.tasks * args.seconds_per_dot / WORKERS
    with Vhost("soak") as vhost:
        publish_pipelined(vhost.url, QUEUE, enumerate(numbered_bodies(args.tasks, dots=1), 1))
        env = bench_env(vhost.url, seconds_per_dot=args.seconds_per_dot)
        soak = Soak(vhost, env, fail_one_in=args.fail_one_in)
        try:
            seconds = run_soak(soak, args.tasks, args.interval, 3 * expected + 60, args.seed)
            codes = soak.stop_all()
        finally:
            kill_all()  # after a failure or Ctrl+C: no worker outlives the soak
        ok = report(soak, args, seconds, codes)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
