"""The v3 emitter's one budget (--retry-for) for every wait on a broker in trouble.

Three waits draw on it: reconnecting after a lost connection, publishing again rows the
broker refused, and rows in flight that get no answer at all (a quorum queue without a
majority of its nodes). The budget runs from the first nack or loss, or, once rows in
flight have had no answer for `silence` seconds, from the last answer; it starts again once
the broker takes rows again.
Pure: the clock is handed in, so that the tests can move it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from utils.connect import backoff


class RetryBudget:
    """How long the emitter has waited for the broker, and how long it may still wait."""

    def __init__(
        self, seconds: float, silence: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.seconds, self.silence, self.clock = seconds, silence, clock
        self.trouble_since: float | None = None  # the first nack or loss since rows went in
        self.attempts = 0  # reconnections or rounds of publishing again since then
        self.answered_at = clock()  # the last answer, or the first row in flight after none

    def trouble(self) -> bool:
        """A nack or a lost connection; True if it starts the budget (the first of them)."""
        if self.trouble_since is not None:
            return False
        self.trouble_since = self.clock()
        return True

    def heard(self, took_rows: bool = False) -> None:
        """The broker answered (or said it blocks publishers); `took_rows`: it takes rows
        again, the trouble is over."""
        self.answered_at = self.clock()
        if took_rows:
            self.trouble_since, self.attempts = None, 0

    def waiting_since(self, in_flight: bool) -> float | None:
        """Since when the emitter waits for the broker; None: it is not waiting (rows in
        flight a moment without their answer are not yet a wait: confirms take time)."""
        silent = self.answered_at if self.silent_for(in_flight) >= self.silence else None
        return min((t for t in (self.trouble_since, silent) if t is not None), default=None)

    def left(self, in_flight: bool) -> float:
        """Seconds left of the budget (0 or less: it ran out)."""
        since = self.waiting_since(in_flight)
        return math.inf if since is None else since + self.seconds - self.clock()

    def next_wait(self, cap: float, in_flight: bool = False) -> float | None:
        """Seconds before the next reconnection or round: a capped, jittered backoff within
        what is left; None once the budget ran out."""
        left = self.left(in_flight)
        if left <= 0:
            return None
        self.attempts += 1
        return min(backoff(self.attempts, cap), left)

    def silent_for(self, in_flight: bool) -> float:
        """Seconds rows in flight have had no answer."""
        return self.clock() - self.answered_at if in_flight else 0.0
