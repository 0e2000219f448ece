"""Opening a blocking connection to the first broker that answers, or one clear BrokerError;
and how long to wait before trying a broker again (`backoff`)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager

import pika

from utils.alarms import BlockedPublishing
from utils.broker_errors import CONNECT_ERRORS, connection_failure

BACKOFF_FIRST = 0.5  # seconds before the first reconnection attempt, doubled after each failure


def connect(params_list: list[pika.ConnectionParameters]) -> pika.BlockingConnection:
    """Open a blocking connection to the first broker that answers, or raise BrokerError."""
    try:
        return pika.BlockingConnection(params_list)
    except CONNECT_ERRORS as error:
        raise connection_failure(error, params_list) from None


def connect_in_turn(
    params_list: list[pika.ConnectionParameters], start: int = 0
) -> tuple[pika.BlockingConnection, int]:
    """Try the brokers in turn from index `start`, wrapping round; return the connection and
    the index of the broker that answered (so a reconnection can start after a dead node)."""
    failures: list[BaseException] = []
    for step in range(len(params_list)):
        index = (start + step) % len(params_list)
        try:
            return pika.BlockingConnection(params_list[index]), index
        except CONNECT_ERRORS as failure:
            failures.append(failure)
    raise connection_failure(failures[-1], params_list) from None


def backoff(attempt: int, cap: float) -> float:
    """Seconds to wait before reconnection attempt `attempt` (1, 2, ...): doubling from
    BACKOFF_FIRST up to `cap`, less up to half at random, so that clients cut off together
    do not all come back at once."""
    return min(cap, BACKOFF_FIRST * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)


@contextmanager
def closed_at_the_end(
    connection: pika.BlockingConnection, watch: BlockedPublishing | None = None
) -> Iterator[None]:
    """Close the connection when the block ends, after an error too. Not while RabbitMQ
    blocks it (`watch`: it would not read our Close), nor after a KeyboardInterrupt, which
    may have cut pika mid-step so that a close waits forever (utils/signals.py): the exit
    of the process closes the socket then."""
    interrupted = False
    try:
        yield
    except KeyboardInterrupt:
        interrupted = True
        raise
    finally:
        blocked = watch is not None and watch.since is not None
        if connection.is_open and not blocked and not interrupted:
            connection.close()
