"""Child processes in one terminal, and what their lines say: what the demo and the lab share.

A Supervisor starts the v3 scripts (or the lab's stand-ins) as child processes, each in a
session of its own, and prints every line they write prefixed with the child's name
("worker 1 | ..."), coloured on a terminal, as a Procfile runner would. A RoundLog records
what those lines say: which workers are ready, which rows were sent, started and done, and
when; from it come the real timeline and the tallies. start_python, how a child is
started, is the partition run's too.
"""

from __future__ import annotations

import contextlib
import errno
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from tools.schedule_view import Block
from utils import PROJECT_ROOT
from utils.console_lines import (
    READY,
    NotConfirmed,
    parse_done,
    parse_not_confirmed,
    parse_received,
    sent_rows,
)
from utils.errors import ScriptError
from utils.platforms import ansi_escapes_work
from utils.signals import STOP_SIGNALS

# The terminal closing (SIGHUP) stops the supervising program as Ctrl+C does: its children,
# in sessions of their own, would not hear of it and would run on with no terminal.
SUPERVISOR_SIGNALS = STOP_SIGNALS + tuple(
    signum for signum in (getattr(signal, "SIGHUP", None),) if signum is not None
)

# Errors that say our output is gone: the reader of the pipe quit (`make demo | head`, `less`
# quit early: EPIPE; on Windows EINVAL), or the terminal closed (EIO).
OUTPUT_GONE = (errno.EPIPE, errno.EINVAL, errno.EIO)

POLL = 0.2  # seconds between checks while waiting for a child's next line

# Each child runs in a session (Windows: a process group) of its own, so the terminal's
# Ctrl+C reaches the supervising program alone; on Windows, CTRL_BREAK_EVENT then stops a
# child (it arrives as SIGBREAK, which the scripts treat as SIGTERM).
NEW_PROCESS_GROUP = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)  # 0 off Windows

COLOURS = ("36", "33", "35", "32", "34", "31")  # ANSI: cyan, yellow, magenta, green, blue, red
BOLD = "1"


def ask_to_stop(process: subprocess.Popen, is_emitter: bool) -> None:
    """Ask a child to stop: SIGTERM for a worker, SIGINT (Ctrl+C) for the emitter."""
    if sys.platform == "win32":
        process.send_signal(signal.CTRL_BREAK_EVENT)
    else:
        process.send_signal(signal.SIGINT if is_emitter else signal.SIGTERM)


class StopSignals:
    """Ctrl+C (SIGINT) and SIGTERM raise KeyboardInterrupt, as in a terminal, except while
    held: a child started but not yet recorded would outlive the clean-up, so a signal that
    comes then raises once the child is recorded. (Blocking the signals instead would not
    do: a child inherits the blocked mask, and would never hear its SIGTERM.)"""

    def __init__(self) -> None:
        self.holding = 0
        self.pending = False
        self.once = False  # the signals after the first are ignored
        self.ignoring = False

    def install(self, once: bool = False) -> None:
        """once: only the first signal raises; a second one, even one that comes while the
        first is being unwound, cannot cut the clean-up after it short."""
        self.once = once
        for signum in SUPERVISOR_SIGNALS:
            signal.signal(signum, self._handle)

    def ignore(self) -> None:
        """From now on, stop signals do nothing: a clean-up follows that must not be cut short.
        (The handler stays and returns, rather than SIG_IGN, which a signal already caught
        but not yet handled would report as 'ignored due to race condition'.)"""
        self.ignoring = True

    def _handle(self, signum: int, frame: object) -> None:
        if self.ignoring:
            return
        self.ignoring = self.once
        if self.holding:
            self.pending = True
            return
        raise KeyboardInterrupt

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Within it, a stop signal waits; it raises at the end (unless something else did)."""
        self.holding += 1
        try:
            yield
        finally:
            self.holding -= 1
        if not self.holding and self.pending:
            self.pending = False
            raise KeyboardInterrupt


STOP = StopSignals()  # the handlers of the program that supervises: install() them once


class OutputClosed(ScriptError):
    """Our standard output is gone; what we still print goes nowhere, and the children stop."""


def print_or_fail(text: str) -> None:
    """Print a line; if the output is gone, silence stdout and raise OutputClosed.

    Silencing it (the null device on its descriptor) keeps Python's own flush at exit from
    printing a traceback of its own.
    """
    try:
        print(text, flush=True)
    except OSError as error:
        if error.errno not in OUTPUT_GONE:
            raise
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise OutputClosed(
            "the output was closed (the program reading it quit, or the terminal closed); "
            "the workers were stopped"
        ) from None


def second_of_day(now: float) -> float:
    """Local seconds since midnight of a time.time() value, as the workers' lines give it."""
    local = time.localtime(now)
    return local.tm_hour * 3600 + local.tm_min * 60 + local.tm_sec + now % 1


def use_colour() -> bool:
    """Colours only on a terminal that shows them, and not when NO_COLOR is set
    (https://no-color.org)."""
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR") and ansi_escapes_work()


def child_environment(url: str, per_dot: float) -> dict[str, str]:
    """The children's environment: the URL there, not on a command line that ps shows; and
    their output in UTF-8, as we read it (on Windows a pipe is written in the ANSI code page)."""
    return dict(
        os.environ,
        RABBITMQ_URL=url,
        SECONDS_PER_DOT=repr(per_dot),
        PYTHONUNBUFFERED="1",
        PYTHONIOENCODING="utf-8",
    )


def start_python(
    argv: list[str], env: dict[str, str], runner: Sequence[str] = ()
) -> subprocess.Popen:
    """Start `python ARGV` from the project root in a session (Windows: a process group) of
    its own, its output and errors on one UTF-8 text pipe. `runner`: a command that runs it
    (tools/partition.py's setpriv)."""
    return subprocess.Popen(
        [*runner, sys.executable, *argv],
        cwd=PROJECT_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        errors="replace",
        start_new_session=sys.platform != "win32",
        creationflags=NEW_PROCESS_GROUP,
    )


@dataclass
class Child:
    """A child process: its name in the prefix, worker number (None: not a worker), colour."""

    name: str
    worker: int | None
    colour: str
    process: subprocess.Popen
    closed: bool = False  # its output has ended


class Supervisor:
    """Starts the children and prints their lines, prefixed and coloured, as they come."""

    def __init__(
        self, env: dict[str, str], colour: bool, name_width: int, own_name: str = "demo"
    ) -> None:
        self.env, self.colour, self.name_width = env, colour, name_width
        self.own_name = own_name
        self.children: list[Child] = []
        self.lines: queue.Queue[tuple[Child, str | None]] = queue.Queue()

    def paint(self, colour: str, text: str) -> str:
        """text in an ANSI colour, on a terminal only."""
        return f"\033[{colour}m{text}\033[0m" if self.colour else text

    def paint_lane(self, lane: int, text: str) -> str:
        """text in the colour of worker lane + 1."""
        return self.paint(COLOURS[lane % len(COLOURS)], text)

    def say(self, text: str) -> None:
        """A line of the supervisor's own, with the same kind of prefix as the children's."""
        name = self.paint(BOLD, self.own_name.ljust(self.name_width))
        print_or_fail(f"{name} | {text}")

    def start(
        self,
        name: str,
        worker: int | None,
        colour: str,
        argv: list[str],
        env: dict[str, str] | None = None,
    ) -> Child:
        """Start `python ARGV` in a session of its own (the terminal's Ctrl+C is ours)."""
        with STOP.held():
            process = start_python(argv, self.env if env is None else env)
            child = Child(name, worker, colour, process)
            self.children.append(child)
        threading.Thread(target=self._read, args=(child,), daemon=True).start()
        return child

    def _read(self, child: Child) -> None:
        """In a thread of its own: hand each line of the child to the main thread, then EOF."""
        assert child.process.stdout is not None  # started with stdout=PIPE
        for line in child.process.stdout:
            self.lines.put((child, line.rstrip("\n")))
        self.lines.put((child, None))

    def pump(self, log: RoundLog) -> None:
        """Print and record the next line of any child (wait POLL seconds at most)."""
        try:
            child, line = self.lines.get(timeout=POLL)
        except queue.Empty:
            return
        if line is None:
            child.closed = True
            child.process.wait()
            if child.worker is not None:
                log.ended_at(child.worker, time.time())
            return
        print_or_fail(f"{self.paint(child.colour, child.name.ljust(self.name_width))} | {line}")
        log.feed(child.worker, line)

    def running(self) -> list[Child]:
        """The children whose output has not ended yet."""
        return [child for child in self.children if not child.closed]

    def signal_running(self) -> None:
        """Ask every running child to stop: SIGTERM for workers, SIGINT for the emitter."""
        for child in self.running():
            if child.process.poll() is None:
                ask_to_stop(child.process, child.worker is None)

    def stop_all(self, log: RoundLog, patience: float) -> None:
        """Stop every running child gracefully, waiting for their last lines.

        A second Ctrl+C sends a second signal (a worker then stops at once, its task going
        back to the queue); after `patience` seconds the stragglers are killed.
        """
        self.signal_running()
        deadline = time.monotonic() + patience
        while self.running() and time.monotonic() < deadline:
            try:
                self.pump(log)
            except KeyboardInterrupt:
                self.say("stopping at once: the tasks in hand go back to the queue")
                self.signal_running()
        self.kill_running()

    def kill_running(self) -> None:
        """Kill every child still running, at once, and reap it."""
        for child in self.running():
            child.process.kill()  # the broker requeues whatever it had not acked
            child.process.wait()
            child.closed = True


def wait_for(
    supervisor: Supervisor, log: RoundLog, done: Callable[[], bool], check: Callable[[], None]
) -> None:
    """Print and record lines until done(); check() raises if something failed meanwhile."""
    while not done():
        supervisor.pump(log)
        check()


# --- what the lines say ----------------------------------------------------------------------


@dataclass
class RoundLog:
    """What one round's lines said: who is ready, which rows were sent, received, done."""

    ready: set[int] = field(default_factory=set)
    sent: list[int] = field(default_factory=list)
    received: dict[tuple[int, int], float] = field(default_factory=dict)  # seconds of the day
    done: list[tuple[int, int, float]] = field(default_factory=list)  # worker, row, seconds
    redelivered: set[tuple[int, int]] = field(default_factory=set)  # (worker, row) marked so
    starts: Counter[int] = field(default_factory=Counter)  # row: how many times it was started
    in_hand: dict[int, int | None] = field(default_factory=dict)  # worker: the row it works on
    last_line: dict[int, float] = field(default_factory=dict)  # worker: time.monotonic()
    ended: dict[int, float] = field(default_factory=dict)  # worker: second of the day it ended
    not_confirmed: NotConfirmed | None = None  # the v3 emitter's failure line, if it said one

    def feed(self, worker: int | None, line: str) -> None:
        """Record what one line of a child says, if anything."""
        if worker is None:  # an emitter
            self.sent += sent_rows(line)
            self.not_confirmed = parse_not_confirmed(line) or self.not_confirmed
            return
        self.last_line[worker] = time.monotonic()
        if READY.search(line):
            self.ready.add(worker)
        received, done = parse_received(line), parse_done(line)
        if received:
            self.received[worker, received.row] = received.second_of_day
            self.starts[received.row] += 1
            self.in_hand[worker] = received.row
            if received.note == "redelivered":
                self.redelivered.add((worker, received.row))
        if done:
            self.done.append((worker, done.row, done.seconds))
            self.in_hand[worker] = None

    def ended_at(self, worker: int, now: float) -> None:
        """The worker was killed, or exited, at time.time() `now` (the first time counts)."""
        self.ended.setdefault(worker, second_of_day(now))

    def rows_left(self) -> list[int]:
        """Rows sent but not done yet."""
        left = Counter(self.sent) - Counter(row for _, row, _ in self.done)
        return sorted(left.elements())

    def idle_for(self, worker: int) -> float:
        """Seconds since the worker's last line, if it holds no task; 0 while it works."""
        if self.in_hand.get(worker) is not None:
            return 0.0
        return time.monotonic() - self.last_line.get(worker, time.monotonic())

    def rows_by_worker(self, workers: int) -> dict[int, list[int]]:
        """Each worker's rows, in the order it did them."""
        rows: dict[int, list[int]] = {worker: [] for worker in range(1, workers + 1)}
        for worker, row, _ in self.done:
            rows[worker].append(row)
        return rows

    def blocks(self) -> list[Block]:
        """The real schedule, in seconds from the first task's start.

        A worker does its tasks one at a time in the order it received them, so a task
        starts when it was received or when the worker's previous task ended, whichever is
        later (with a prefetch above 1 a task may arrive while another is running); it ends
        `seconds` after it was received. A task a worker started and never acked, because the
        worker was killed or died first, ends when the worker did, marked cut.
        """
        if not self.received:
            return []
        first = next(iter(self.received.values()))

        def since_first(second: float) -> float:
            # within 12 h of the first line: a run across midnight keeps its order
            return (second - first + 43200) % 86400 - 43200

        runs = []  # (worker, row, received, ended, cut), in seconds from the first line
        finished = set()
        for worker, row, seconds in self.done:
            if (worker, row) in self.received:
                received = since_first(self.received[worker, row])
                runs.append((worker, row, received, received + seconds, False))
                finished.add((worker, row))
        for (worker, row), second in self.received.items():
            if (worker, row) not in finished and worker in self.ended:
                ended = since_first(self.ended[worker])
                runs.append((worker, row, since_first(second), ended, True))
        if not runs:
            return []
        origin = min(run[2] for run in runs)
        free_at: dict[int, float] = defaultdict(float)
        blocks = []
        for worker, row, received, ended, cut in sorted(runs, key=lambda run: run[2]):
            start = max(received - origin, free_at[worker])
            free_at[worker] = max(start, ended - origin)
            again = (worker, row) in self.redelivered
            blocks.append(Block(worker - 1, row, start, free_at[worker], again, cut))
        return blocks
