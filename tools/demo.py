"""The demo: N v3 workers and the v3 emitter in one terminal, then who did which rows, and when.

Runs `python -m tools.demo` (or `make demo`). It starts the workers as child
processes, waits until each says it is ready, runs the emitter on the CSV, and prints every
child's lines prefixed with its name ("worker 1 | ...", coloured on a terminal), as a
Procfile runner would. When every row the emitter sent has a "[x] Done row N" line it stops
the workers (SIGTERM: they exit 0) and prints which rows each worker did, the real timeline
read from the workers' lines, and the ideal one simulated from the CSV.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from utils.errors import missing_module

try:
    import pika.exceptions
except ModuleNotFoundError as missing:  # run outside the project's virtual environment
    sys.exit(missing_module(__file__, missing, run_as="-m tools.demo"))

from tools.schedule_view import Block, draw_timelines, ideal_schedule, makespan
from tools.supervisor import (
    BOLD,
    COLOURS,
    STOP,
    RoundLog,
    Supervisor,
    child_environment,
    print_or_fail,
    use_colour,
    wait_for,
)
from utils import PROJECT_ROOT, arguments
from utils.broker_errors import broker_error
from utils.connect import connect
from utils.console_lines import count_of
from utils.errors import ExitCode, ScriptError
from utils.parameters import connection_parameters
from utils.tasks import DEFAULT_TASKS_FILE, Task, TaskFile, seconds_per_dot, work_seconds
from utils.urls import rabbitmq_url

PROG = "demo"
WORKER_SCRIPT = PROJECT_ROOT / "v3_listening_worker.py"
EMITTER_SCRIPT = PROJECT_ROOT / "v3_emitter_of_tasks.py"
STOP_PATIENCE = 15.0  # seconds a stopping child may take beyond its longest task

ROUNDS = {
    "fair": (1, "prefetch 1: fair dispatch"),
    "round robin": (0, "unlimited prefetch: plain round robin"),
}


class DemoError(ScriptError):
    """A child process failed: the demo stops the others and exits 1."""


def make_argument_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = arguments.ArgumentParser(
        prog=f"python -m tools.{PROG}",
        description=(
            "Run N v3 workers and the v3 emitter in one terminal, each line prefixed by its\n"
            "process; stop when every row is done, then show which rows each worker did and\n"
            "a timeline of the real schedule beside the ideal one."
        ),
        epilog=(
            "environment: RABBITMQ_URL (default amqp://guest:guest@localhost:5672/%2F),\n"
            "  SECONDS_PER_DOT (the default of --seconds-per-dot), NO_COLOR (no colours).\n"
            "The queue must hold no leftover messages (--purge deletes them) and have no other\n"
            "consumers: the demo checks first and refuses rather than mix its tasks with them.\n"
            "Ctrl+C stops everything gracefully: each worker finishes the task in hand, the\n"
            "rows not done stay in the queue. So does any other way out: SIGTERM, the terminal\n"
            "closing, a reader that quits early (make demo | head): no worker outlives the demo.\n"
            "exit status: 0 every row done, 1 a failure (broker, CSV, a child process, the\n"
            "  output closed), 2 bad usage, 130 interrupted (Ctrl+C, SIGTERM, SIGHUP).\n"
            "examples:\n"
            "  python -m tools.demo\n"
            "  python -m tools.demo --workers 4 --seconds-per-dot 0.2 --compare-prefetch"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--workers", type=worker_count, default=3, help="how many workers (default 3)"
    )
    parser.add_argument(
        "--seconds-per-dot",
        type=arguments.seconds,
        help="seconds of work per '.' in a task (default SECONDS_PER_DOT, else 1)",
    )
    parser.add_argument(
        "--csv",
        default=str(DEFAULT_TASKS_FILE),
        help="CSV file of tasks (default the project's tasks.csv)",
    )
    parser.add_argument(
        "--queue",
        type=arguments.queue_name,
        default=arguments.DEFAULT_QUEUE,
        help=f"queue to use (default {arguments.DEFAULT_QUEUE})",
    )
    parser.add_argument("--url", help="AMQP URL of the broker (default RABBITMQ_URL)")
    parser.add_argument(
        "--purge",
        action="store_true",
        help="first empty the queue of messages left from an earlier run (they are deleted)",
    )
    parser.add_argument(
        "--compare-prefetch",
        action="store_true",
        help="run the tasks twice, with prefetch 1 (fair dispatch) and with unlimited "
        "prefetch (round robin), and draw both timelines",
    )
    return parser


def worker_count(raw: str) -> int:
    """--workers: a whole number from 1 to 50."""
    if not raw.isdigit() or not 1 <= int(raw) <= 50:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to 50 (got {raw!r})")
    return int(raw)


# --- the broker and the queue, before anything starts ---------------------------------------


def check_queue_is_free(url: str, queue_name: str, purge: bool) -> tuple[str, int]:
    """Fail unless the queue is absent, or empty (emptied, with `purge`) with no consumer.

    Return where the queue is, for the demo's first line, and how many messages were purged.
    """
    purged = 0
    params = connection_parameters(url)
    connection = connect(params)  # BrokerError: one clear line naming host:port
    try:
        channel = connection.channel()
        declared = channel.queue_declare(queue_name, passive=True).method
        if declared.consumer_count:
            raise DemoError(
                f"queue {queue_name} has {count_of(declared.consumer_count, 'consumer')} "
                "(workers running elsewhere); the demo will not share its tasks with them: stop "
                "those workers (Ctrl+C in their terminals), or give the demo another --queue"
            )
        if declared.message_count and purge:
            purged = channel.queue_purge(queue_name).method.message_count
        elif declared.message_count:
            raise DemoError(
                f"queue {queue_name} holds {count_of(declared.message_count, 'message')} left "
                "from an earlier run; the demo will not mix its tasks with them: run it with "
                "--purge to empty the queue first (make demo DEMO_ARGS=--purge), or give it "
                "another --queue"
            )
    except pika.exceptions.ChannelClosedByBroker as error:
        if error.reply_code != 404:  # 404: no such queue yet, the workers will declare it
            raise broker_error(error) from None
    except pika.exceptions.AMQPError as error:
        raise broker_error(error) from None
    finally:
        if connection.is_open:
            connection.close()
    return f"{params[0].host}:{params[0].port}, vhost {params[0].virtual_host}", purged


# --- one round: workers, emitter, drain, stop ---------------------------------------------------


@dataclass
class Settings:
    """What every round needs."""

    workers: int
    per_dot: float
    csv_file: Path
    queue: str
    tasks: list[Task]

    def patience(self) -> float:
        """How long a stopping worker may take: its longest task, and then some."""
        longest = max((work_seconds(task.text, self.per_dot) for task in self.tasks), default=0)
        return longest + STOP_PATIENCE


def run_round(
    supervisor: Supervisor, settings: Settings, prefetch: int | None, log: RoundLog
) -> None:
    """Start the workers, run the emitter once they are ready, stop when every row is done."""
    supervisor.children.clear()
    workers = [
        supervisor.start(
            f"worker {number}",
            number,
            COLOURS[(number - 1) % len(COLOURS)],
            worker_argv(number, settings.queue, prefetch),
        )
        for number in range(1, settings.workers + 1)
    ]

    def no_worker_ended() -> None:
        for worker in workers:
            if worker.closed:
                raise DemoError(
                    f"{worker.name} exited (status {worker.process.returncode}) while the "
                    f"{supervisor.own_name} still needed it; see its lines above"
                )

    wait_for(supervisor, log, lambda: len(log.ready) == len(workers), no_worker_ended)
    emitter = supervisor.start(
        "emitter",
        None,
        BOLD,
        [str(EMITTER_SCRIPT), str(settings.csv_file), "--queue", settings.queue],
    )

    def emitter_succeeded() -> None:
        no_worker_ended()
        if emitter.closed and emitter.process.returncode != 0:
            raise DemoError(f"the emitter failed (status {emitter.process.returncode})")

    wait_for(supervisor, log, lambda: emitter.closed and not log.rows_left(), emitter_succeeded)
    supervisor.say(f"all {count_of(len(log.sent), 'row')} done: stopping the workers (SIGTERM)")
    supervisor.stop_all(log, settings.patience())
    failed = [worker for worker in workers if worker.process.returncode != 0]
    if failed:
        raise DemoError(
            ", ".join(f"{w.name} exited with status {w.process.returncode}" for w in failed)
        )


def worker_argv(number: int, queue_name: str, prefetch: int | None) -> list[str]:
    """The command line of one worker; --prefetch only when a round sets it."""
    argv = [str(WORKER_SCRIPT), "--name", str(number), "--queue", queue_name]
    return argv if prefetch is None else [*argv, "--prefetch", str(prefetch)]


# --- the report -------------------------------------------------------------------------------


def ideal_blocks(settings: Settings) -> list[Block]:
    """The ideal schedule: each task, in CSV order, to whichever worker is free first."""
    durations = [work_seconds(task.text, settings.per_dot) for task in settings.tasks]
    schedule = ideal_schedule(durations, settings.workers)
    return [
        Block(worker, task.row, start, end)
        for task, (worker, start, end) in zip(settings.tasks, schedule, strict=True)
    ]


def rows_table(log: RoundLog, workers: int) -> list[str]:
    """'worker 1: rows 1, 4, 7, 18', one line per worker."""
    return [
        f"worker {worker}: {row_list(rows)}" for worker, rows in log.rows_by_worker(workers).items()
    ]


def row_list(rows: list[int]) -> str:
    """'rows 1, 4, 7', 'row 5' or 'no rows'."""
    if not rows:
        return "no rows"
    return f"{'row' if len(rows) == 1 else 'rows'} {', '.join(map(str, rows))}"


def ratio(real: float, ideal: float) -> str:
    """real / ideal, two decimals."""
    return f"{real / ideal:.2f}" if ideal > 0 else "n/a (no work to do)"


def report(
    rounds: Sequence[tuple[str, RoundLog]], settings: Settings, paint: Callable[[int, str], str]
) -> list[str]:
    """The final lines: rows per worker, the real timelines, the ideal one, the makespans."""
    ideal = ideal_blocks(settings)
    real = [(title, log.blocks()) for title, log in rounds]
    names = [f"worker {number}" for number in range(1, settings.workers + 1)]
    lines: list[str] = []
    for title, log in rounds:
        lines += ["", f"Rows done by each worker ({title}):", *rows_table(log, settings.workers)]
    titled = [
        (f"Real timeline ({title}), makespan {makespan(blocks):.2f} s:", blocks)
        for title, blocks in real
    ]
    ideal_title = (
        f"Ideal timeline (each task to whichever worker is free first, {settings.per_dot:g} s "
        f"per dot), makespan {makespan(ideal):.2f} s:"
    )
    lines += [*draw_timelines([*titled, (ideal_title, ideal)], names, paint), ""]
    for title, blocks in real:
        lines.append(
            f"Makespan real / ideal ({title}): {makespan(blocks):.2f} s / "
            f"{makespan(ideal):.2f} s = {ratio(makespan(blocks), makespan(ideal))}"
        )
    return lines


# --- main -----------------------------------------------------------------------------------


def load_settings(args: argparse.Namespace) -> Settings:
    """Settings from the flags, then the environment; raises ScriptError on bad ones."""
    per_dot = seconds_per_dot() if args.seconds_per_dot is None else args.seconds_per_dot
    csv_file = Path(args.csv).resolve()
    tasks = list(TaskFile(csv_file))
    if not tasks:
        raise DemoError(f"{csv_file}: no tasks in it (every row is blank)")
    return Settings(args.workers, per_dot, csv_file, args.queue, tasks)


def fail(error: ScriptError) -> int:
    """One line on stderr (if it is still there); the error's exit status."""
    with contextlib.suppress(OSError):
        print(f"{PROG}: error: {error}", file=sys.stderr, flush=True)
    return int(error.exit_code)


def plan_of(compare: bool) -> list[tuple[int | None, str]]:
    """The rounds: the workers' own prefetch (1) only, or prefetch 1 and then no limit."""
    return [ROUNDS["fair"], ROUNDS["round robin"]] if compare else [(None, ROUNDS["fair"][1])]


def run_rounds(
    supervisor: Supervisor,
    settings: Settings,
    plan: list[tuple[int | None, str]],
    rounds: list[tuple[str, RoundLog]],
) -> None:
    """Run each round of the plan in turn; each (title, log) is in `rounds` from its start."""
    for prefetch, title in plan:
        supervisor.say(f"{count_of(settings.workers, 'worker')}, {title}")
        log = RoundLog()
        rounds.append((title, log))
        run_round(supervisor, settings, prefetch, log)


def run_demo(supervisor: Supervisor, settings: Settings, compare: bool) -> int:
    """Every round, then the report; Ctrl+C or SIGTERM stops the children gracefully, and so
    does any other way out (an error, the output closed): no worker outlives the demo."""
    rounds: list[tuple[str, RoundLog]] = []
    try:
        run_rounds(supervisor, settings, plan_of(compare), rounds)
    except KeyboardInterrupt:
        log = rounds[-1][1] if rounds else RoundLog()
        supervisor.say("interrupted: stopping the workers gracefully (SIGTERM)")
        supervisor.stop_all(log, settings.patience())
        left = len(log.rows_left())
        supervisor.say(
            f"stopped; {count_of(left, 'row')} sent but not done still in queue {settings.queue}"
            if left
            else f"stopped; no row left in queue {settings.queue}"
        )
        return ExitCode.INTERRUPTED
    finally:  # after a round that ended well, no child is left to stop
        supervisor.stop_all(rounds[-1][1] if rounds else RoundLog(), settings.patience())
    print_or_fail("\n".join(report(rounds, settings, supervisor.paint_lane)))
    return ExitCode.OK


def main(argv: list[str] | None = None) -> int:
    """Run the demo; see --help."""
    args = make_argument_parser().parse_args(argv)
    try:
        settings = load_settings(args)
        url = rabbitmq_url(args.url)
        where, purged = check_queue_is_free(url, settings.queue, args.purge)
        STOP.install()
        supervisor = Supervisor(
            child_environment(url, settings.per_dot),
            use_colour(),
            len(f"worker {settings.workers}"),
        )
        supervisor.say(
            f"RabbitMQ at {where}, queue {settings.queue}; "
            f"{count_of(len(settings.tasks), 'task')} from {settings.csv_file.name}, "
            f"{settings.per_dot:g} s per dot"
        )
        if purged:
            supervisor.say(
                f"--purge: deleted {count_of(purged, 'message')} left in queue "
                f"{settings.queue} from an earlier run"
            )
        return run_demo(supervisor, settings, args.compare_prefetch)
    except ScriptError as error:
        return fail(error)
    except KeyboardInterrupt:  # before any child started
        return ExitCode.INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
