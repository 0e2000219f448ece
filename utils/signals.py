"""Stopping the scripts on Ctrl+C (SIGINT) and kill (SIGTERM); on Windows also Ctrl+Break.

A process that a non-interactive shell starts in the background inherits SIGINT
*ignored*, so every worker installs its handlers itself. Handlers never call pika.
A KeyboardInterrupt raised at a random point inside pika can cut it between buffering a
frame and asking to send it, and its connection then never closes (a Ctrl+C that hangs).
So where a script means to close its connection cleanly, a first signal only sets a flag
(GracefulStop) that pika's own loop looks at: the v1 and v2 workers once connected (until
then KeyboardInterrupt stops their connecting at once), the v3 worker and emitter from the
start (except while the v3 worker opens a connection: GracefulStop.at_once). A
KeyboardInterrupt (a second signal; any signal to the v1 and v2 emitters, which publish
one message) stops at once, and nothing closes the connection politely after it:
the process exits and the socket goes with it.
Windows has no SIGTERM to send: a program stops another one there with CTRL_BREAK_EVENT,
which arrives as SIGBREAK, so SIGBREAK counts as SIGTERM.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Iterator

STOP_SIGNALS = tuple(
    signum
    for signum in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGBREAK", None))
    if signum is not None
)


def raise_keyboard_interrupt_on_stop_signals() -> None:
    """Make SIGINT and SIGTERM raise KeyboardInterrupt, as Ctrl+C does in a terminal (until a
    GracefulStop is installed, once connected)."""
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.default_int_handler)


class GracefulStop:
    """The first SIGINT/SIGTERM asks for a graceful stop; a second one stops at once."""

    def __init__(self) -> None:
        self.requested = threading.Event()
        self.signum: int | None = None  # the signal that asked, for the line that says so
        self.interrupting = False  # within at_once(): the first signal raises too

    def install(self) -> None:
        for signum in STOP_SIGNALS:
            signal.signal(signum, self._handle)

    def _handle(self, signum: int, frame: object) -> None:
        if self.requested.is_set():
            raise KeyboardInterrupt  # second signal: stop now, the unacked task is requeued
        self.signum = signum
        self.requested.set()
        if self.interrupting:
            raise KeyboardInterrupt

    @contextlib.contextmanager
    def at_once(self) -> Iterator[None]:
        """Within the block, the first signal too raises KeyboardInterrupt (the stop still
        asked): for a wait with no connection to close yet, such as opening one, which
        would otherwise go on for up to its timeout before anyone looks at the flag."""
        self.interrupting = True
        try:
            yield
        finally:
            self.interrupting = False

    def cause(self) -> str:
        """How the stop was asked for, in words: 'interrupted (Ctrl+C)', 'stopped by SIGTERM'."""
        if self.signum == signal.SIGINT:
            return "interrupted (Ctrl+C)"
        return f"stopped by {signal.Signals(self.signum).name}" if self.signum else "stopped"


STOP_CHECK_EVERY = 0.2  # seconds: how soon a pika I/O loop notices a stop signal


def stop_consuming_when_asked(stop: GracefulStop, connection, channel) -> None:
    """Make channel.start_consuming() return soon after a stop signal: a timer on pika's own
    loop looks at the flag and cancels the consuming there, at a point of pika's choosing."""

    def look() -> None:
        if stop.requested.is_set():
            channel.stop_consuming()
        else:
            connection.call_later(STOP_CHECK_EVERY, look)

    connection.call_later(STOP_CHECK_EVERY, look)


SLICE = 0.1  # seconds: the longest a stop signal waits to be noticed during a wait


def wait_or_stop(stop: threading.Event, seconds: float) -> bool:
    """Wait `seconds`, or less if `stop` is set (then True): sleeps of at most SLICE, the
    flag looked at between them.

    Not stop.wait(): the handler that sets the flag runs on the thread that waits, and
    Event.set() takes the lock Event.wait() holds for a few bytecodes, so a signal landing
    there would hang the first Ctrl+C. On Windows, too, a handler runs between two sleeps.
    """
    deadline = time.monotonic() + seconds
    while not stop.is_set() and (left := deadline - time.monotonic()) > 0:
        time.sleep(min(left, SLICE))
    return stop.is_set()
