"""Errors on an open connection: one clear line for each, and whether a new one may carry on."""

from __future__ import annotations

import pika.exceptions

from utils.alarms import URL_LIMIT, BlockedPublishing
from utils.connect import CONNECT_ERRORS
from utils.errors import BrokerError
from utils.queues import access_refused

CONNECTION_FORCED = 320  # the broker closes connections as it stops (or an admin closed one)

# AMQPConnectionError subclasses raised on a connection that was open
CONNECTION_LOST = (
    pika.exceptions.StreamLostError,
    pika.exceptions.ConnectionClosedByBroker,
    pika.exceptions.ConnectionClosedByClient,
    pika.exceptions.ConnectionWrongStateError,
    pika.exceptions.ConnectionBlockedTimeout,
    pika.exceptions.AMQPHeartbeatTimeout,
)

# a connection lost to the network, or to a broker that died without closing it
DROPPED = (pika.exceptions.StreamLostError, pika.exceptions.AMQPHeartbeatTimeout)


def broker_error(
    error: pika.exceptions.AMQPError, watch: BlockedPublishing | None = None
) -> BrokerError:
    """Turn a pika error raised after connecting into one clear BrokerError.

    `watch` is the connection's say_when_blocked() watch, if it has one: when pika gave up
    waiting for a blocked connection, it names the alarm and the setting that bounded the
    wait.
    """
    if isinstance(error, pika.exceptions.ChannelClosedByBroker) and error.reply_code == 403:
        return BrokerError(access_refused(error.reply_text))
    if isinstance(error, pika.exceptions.ChannelClosedByBroker):
        return BrokerError(f"the broker closed the channel: {error.reply_text}")
    if isinstance(error, pika.exceptions.ConnectionBlockedTimeout):
        return (
            watch.gave_up()
            if watch
            else BrokerError(f"blocked by RabbitMQ longer than {URL_LIMIT}")
        )
    if isinstance(error, pika.exceptions.ConnectionClosedByBroker):
        return BrokerError(f"the broker closed the connection: {error.reply_text}")
    if isinstance(error, pika.exceptions.AMQPConnectionError):
        return BrokerError(f"lost the connection to RabbitMQ: {error!r}")
    return BrokerError(f"RabbitMQ error: {error!r}")


def consuming_cancelled(queue: str) -> BrokerError:
    """What to say when start_consuming() returns by itself: the broker cancelled it."""
    return BrokerError(
        f"the broker cancelled consuming: was {queue} deleted? Start the worker again to "
        "declare it anew"
    )


def dropped(error: BaseException) -> bool:
    """Whether a connection that was open was dropped under the script (a node that died or
    stopped, the network), so that another connection may carry on where it was."""
    if isinstance(error, pika.exceptions.ConnectionClosedByBroker):
        return error.reply_code == CONNECTION_FORCED
    return isinstance(error, DROPPED)


def failed_to_open(error: BaseException) -> bool:
    """Whether a pika error means a connection could not be opened (not one lost later)."""
    if isinstance(error, CONNECTION_LOST):
        return False
    return isinstance(error, CONNECT_ERRORS)


def why_closed(channel) -> str:
    """Why the broker closed a BlockingChannel, in words ('' if it did not say).

    pika raises the reason from the channel's own next call, but not from the connection's
    process_data_events, where a consumer waits: it keeps the reason in the channel's private
    `_closing_reason`, and this is the one place that reads it.
    """
    reason = getattr(channel, "_closing_reason", None)
    if isinstance(reason, pika.exceptions.ChannelClosedByBroker):
        return f"{reason.reply_code} {reason.reply_text}"
    return ""
