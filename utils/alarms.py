"""Resource alarms: RabbitMQ blocks publishers while it is low on disk or memory.

A blocked publisher's messages wait, unread, in its connection; without a word the script
would seem to hang. say_when_blocked() makes a connection say so within a moment, and why,
repeat it every REPEAT_EVERY seconds, and say when publishing resumes. With the URL's
blocked_connection_timeout (or the v3 emitter's --blocked-timeout, which sets it) pika gives
up after that many seconds (ConnectionBlockedTimeout); gave_up() is then the one line that
says why, naming the setting that set the bound; broker_error() calls it when handed the
watch.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from utils.errors import BrokerError

REPEAT_EVERY = 30.0  # seconds between two "still blocked" lines
# --blocked-timeout of the v3 emitter: seconds a resource alarm may block publishing before
# it gives up; generous, as freeing disk space or letting workers drain takes an operator
# minutes
BLOCKED_TIMEOUT = 300.0
URL_LIMIT = "the URL's blocked_connection_timeout"  # what bounds the wait, unless told otherwise

# the reasons RabbitMQ gives in connection.blocked, and what to do about each
WHAT_TO_DO = {
    "low on disk": (
        "the broker's free disk space is below its disk_free_limit: free disk space on the "
        "broker's machine"
    ),
    "low on memory": (
        "the broker uses more memory than its high watermark: let workers drain the queues, "
        "or give the broker more memory"
    ),
}


def _frames_as_they_arrive(connection):
    """The connection that runs callbacks and timers as frames arrive.

    A BlockingConnection runs its blocked callbacks and timers only from
    process_data_events, never while it waits inside a publish or close(), which is exactly
    where a blocked publisher waits. pika offers no public way to reach the SelectConnection
    underneath it, which runs them as the frames arrive: its private `_impl` is the only way,
    and this is the only place that uses it. A SelectConnection is its own.
    """
    return getattr(connection, "_impl", connection)


class BlockedPublishing:
    """What one connection was told: blocked since when, and why (None: not blocked)."""

    def __init__(
        self,
        connection,
        logger: logging.Logger,
        limit: str = URL_LIMIT,
        on_blocked: Callable[[], None] | None = None,
    ) -> None:
        self.connection = _frames_as_they_arrive(connection)
        self.logger = logger
        self.limit = limit  # the setting that bounds the wait, named when pika gives up
        self.on_blocked = on_blocked  # called once blocked, on the connection's own thread
        self.reason = ""
        self.since: float | None = None
        self.connection.add_on_connection_blocked_callback(self._on_blocked)
        self.connection.add_on_connection_unblocked_callback(self._on_unblocked)

    def seconds(self) -> float:
        return 0.0 if self.since is None else time.monotonic() - self.since

    def advice(self) -> str:
        return WHAT_TO_DO.get(self.reason, "see the broker's log for the alarm")

    def _on_blocked(self, _connection, frame) -> None:
        self.reason = frame.method.reason or "a resource alarm"
        self.since = time.monotonic()
        self._say_still_blocked(self.since)
        if self.on_blocked is not None:
            self.on_blocked()

    def _say_still_blocked(self, since: float) -> None:
        # unblocked meanwhile (or blocked anew: its own timer runs), or the connection is
        # gone: a script that reconnects shares the I/O loop with the connections before
        if self.since != since or self.connection.is_closed:
            return
        still = f", still, after {self.seconds():.0f} s" if self.seconds() >= 1 else ""
        self.logger.warning(
            " [!] RabbitMQ is blocking publishers (%s)%s: %s. Waiting; publishing resumes "
            "by itself once the alarm clears.",
            self.reason,
            still,
            self.advice(),
        )
        self.connection.ioloop.call_later(REPEAT_EVERY, lambda: self._say_still_blocked(since))

    def while_blocked(self, seconds: float, callback: Callable[[], None]) -> None:
        """Call `callback()` every `seconds` for as long as this block lasts, on the
        connection's own loop: also while a publish waits, where a BlockingConnection runs
        none of its own timers (a stop asked meanwhile is said at once, not at the unblock)."""
        since = self.since

        def tick() -> None:
            if self.since == since and since is not None and not self.connection.is_closed:
                callback()
                self.connection.ioloop.call_later(seconds, tick)

        self.connection.ioloop.call_later(seconds, tick)

    def _on_unblocked(self, _connection, _frame) -> None:
        self.logger.info(" [*] RabbitMQ unblocked publishers after %.0f s.", self.seconds())
        self.since = None

    def gave_up(self) -> BrokerError:
        """The error once pika has given up waiting (blocked_connection_timeout)."""
        return BrokerError(
            f"blocked by RabbitMQ ({self.reason or 'a resource alarm'}) for "
            f"{self.seconds():.0f} s, longer than {self.limit}: gave up; {self.advice()}"
        )


def say_when_blocked(
    connection,
    logger: logging.Logger,
    limit: str = URL_LIMIT,
    on_blocked: Callable[[], None] | None = None,
) -> BlockedPublishing:
    """Make `connection` say when RabbitMQ blocks its publishing, and why, then call
    `on_blocked()`; `limit` names the setting that bounds the wait. Hand the watch it returns
    to broker_error(), which names the alarm if pika gives up waiting."""
    return BlockedPublishing(connection, logger, limit, on_blocked)


def bound_blocked_waits(params_list: list, flag: float | None) -> list[str]:
    """Bound how long each broker may block publishing before pika gives up (its
    blocked_connection_timeout): --blocked-timeout if given, else the URL's own if it sets
    one, else BLOCKED_TIMEOUT. Return what set each bound, for the line that gives up."""
    limits = []
    for params in params_list:
        if flag is None and params.blocked_connection_timeout is not None:
            limits.append(URL_LIMIT)
            continue
        bound = BLOCKED_TIMEOUT if flag is None else flag
        params.blocked_connection_timeout = bound or None  # None: wait as long as it lasts
        default = ", the default" if flag is None else ""
        limits.append(f"--blocked-timeout ({bound:g} s{default})")
    return limits
