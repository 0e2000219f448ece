"""The lab's command line: `python -m tools.lab` lists the experiments, `... NAME` runs one.

Each experiment runs the same tasks with a safety setting (the real scripts) and without it
(the same script with that one setting changed, or a stand-in named as such), prints what
it does as it goes, and ends with a timeline where one helps and a verdict table. Whatever
happens, Ctrl+C included, it stops its children and deletes what it made: its virtual host
(with every queue in it) and, for the restart experiment, its throwaway node.
"""

from __future__ import annotations

import argparse
import sys

import pika.exceptions

from tools.lab import confirms, crash, heartbeat, poison, restart
from tools.lab.session import Lab
from tools.management import add_broker_arguments
from tools.supervisor import STOP, use_colour
from utils.arguments import ArgumentParser, seconds
from utils.broker_errors import broker_error
from utils.connect import connect
from utils.errors import ExitCode, ScriptError, SettingsError
from utils.parameters import connection_parameters
from utils.tasks import seconds_per_dot
from utils.urls import rabbitmq_url

PROG = "lab"
EXPERIMENTS = {
    experiment.NAME: experiment for experiment in (crash, restart, confirms, heartbeat, poison)
}


def make_argument_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = ArgumentParser(
        prog="python -m tools.lab",
        description=(
            "Watch each safety setting's guarantee fail without it: run the same tasks with\n"
            "the setting and without it, and compare. With no NAME, list the experiments."
        ),
        epilog=(
            "environment: RABBITMQ_URL (default amqp://guest:guest@localhost:5672/%2F),\n"
            "  SECONDS_PER_DOT (the default of --seconds-per-dot), NO_COLOR (no colours).\n"
            "The lab makes a virtual host of its own on that broker through the management\n"
            "API (as the URL's user, who must be an administrator) and deletes it at the end;\n"
            "restart uses a throwaway node of its own instead, and never restarts that broker.\n"
            "exit status: 0 the experiment ran (or was skipped, saying why), 1 a failure,\n"
            "  2 bad usage, 130 interrupted (Ctrl+C or SIGTERM: everything is cleaned up).\n"
            "examples:\n"
            "  python -m tools.lab\n"
            "  python -m tools.lab crash --seconds-per-dot 0.2"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "experiment", nargs="?", choices=list(EXPERIMENTS), help="the experiment to run"
    )
    parser.add_argument(
        "--seconds-per-dot",
        type=seconds,
        help="seconds of work per '.' in a task (default SECONDS_PER_DOT, else 1)",
    )
    add_broker_arguments(parser)
    return parser


def listing() -> list[str]:
    """What `python -m tools.lab` prints: the experiments, one a line."""
    width = max(len(name) for name in EXPERIMENTS)
    return [
        "The lab: watch each safety setting's guarantee fail without it. Run one with",
        "  python -m tools.lab NAME [--seconds-per-dot S]    (or: make lab EXPERIMENT=NAME)",
        "",
        *(f"  {name.ljust(width)}  {module.SUMMARY}" for name, module in EXPERIMENTS.items()),
        "",
        "Each runs the real scripts with the setting, and without it the same program with",
        "that one setting changed (a stand-in in tools/lab/, named as such), on queues of its",
        "own, and ends with a verdict table. At 1 s per dot each takes under a minute.",
    ]


def settings(args: argparse.Namespace) -> tuple[str, float]:
    """The broker URL and the seconds per dot; ScriptError if the experiment cannot use them."""
    per_dot = seconds_per_dot() if args.seconds_per_dot is None else args.seconds_per_dot
    least = getattr(EXPERIMENTS[args.experiment], "MIN_SECONDS_PER_DOT", 0.0)
    if per_dot < least:
        raise SettingsError(
            f"{args.experiment} needs at least {least:g} s per dot (got {per_dot:g}): its "
            "timing depends on tasks that take a while; use --seconds-per-dot"
        )
    url = rabbitmq_url(args.url)
    params = connection_parameters(url)  # a bad URL: one line and status 2, before anything
    if getattr(EXPERIMENTS[args.experiment], "USES_YOUR_BROKER", True):
        connect(params).close()  # an unreachable broker: one line and status 1, likewise
    return url, per_dot


def fail(error: ScriptError) -> int:
    """One line on stderr; the error's exit status."""
    print(f"{PROG}: error: {error}", file=sys.stderr)
    return int(error.exit_code)


def run(lab: Lab, experiment) -> int:
    """Run the experiment, print its timelines and verdict; clean up whatever happens."""
    failure: ScriptError | None = None
    lines: list[str] = []
    try:
        lab.say(f"{experiment.NAME}: {experiment.SUMMARY}; {lab.per_dot:g} s per dot")
        lines = experiment.run(lab)
    except KeyboardInterrupt:
        lab.say("interrupted: cleaning up (Ctrl+C is ignored until that is done)")
        return ExitCode.INTERRUPTED
    except ScriptError as error:
        failure = error
    except pika.exceptions.AMQPError as error:
        failure = broker_error(error)
    finally:
        STOP.ignore()  # a Ctrl+C now must not leave things half cleaned
        lab.clean_up()
    if failure is not None:
        return fail(failure)
    print("\n".join(lines), flush=True)
    return ExitCode.OK


def main(argv: list[str] | None = None) -> int:
    """List the experiments, or run one; see --help."""
    args = make_argument_parser().parse_args(argv)
    if args.experiment is None:
        print("\n".join(listing()))
        return ExitCode.OK
    experiment = EXPERIMENTS[args.experiment]
    try:
        url, per_dot = settings(args)
    except ScriptError as error:
        return fail(error)
    reason = experiment.unavailable() if hasattr(experiment, "unavailable") else None
    if reason:
        print(f"{PROG}: skipped {experiment.NAME}: {reason}")
        return ExitCode.OK
    STOP.install(once=True)  # a second Ctrl+C, right after the first, is ignored too
    lab = Lab(experiment.NAME, url, per_dot, use_colour(), args.management_port)
    return run(lab, experiment)
