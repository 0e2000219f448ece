"""Work queues: our settings for them, or a queue someone else set up, used as it is.

Each script declares its queue with its own settings (durable, and a type for v3). The
broker refuses that declare when the queue already exists with other settings (406
PRECONDITION_FAILED: a quorum queue, a length limit, ...) or when this user may not
configure queues (403 ACCESS_REFUSED: an administrator declares them). Either way the
queue may be exactly what the user wants: use_queue_as_it_is() checks that it exists (a
passive declare, which needs no permission), says so in one line, and warns when the queue
breaks one of our promises. The broker's refusal names the first setting that differs.
AsyncDeclare does the same on a SelectConnection (the v3 emitter), with callbacks.
"""

from __future__ import annotations

import logging
import re

import pika
import pika.exceptions

from utils.errors import BrokerError

LOGGER = logging.getLogger(__name__)
PRECONDITION_FAILED, ACCESS_REFUSED, NOT_FOUND = 406, 403, 404
PERSISTENT = pika.DeliveryMode.Persistent  # delivery mode 2: written to disk by the broker

INEQUIVALENT = re.compile(r"inequivalent arg '([^']+)'.* but current is (?:the value )?'?([^' ]*)")
REFUSED_FOR = re.compile(r"in vhost '([^']*)' refused for user '([^']*)'")

# what a queue's own setting means for tasks, when it differs from ours
BROKEN_PROMISES = {
    ("durable", "false"): "it is not durable: it and its tasks vanish when the broker restarts",
    ("auto_delete", "true"): "it is auto-delete: it and its tasks vanish with its last consumer",
    ("x-max-length", ""): "it has a length limit: tasks beyond it are dropped or refused",
    ("x-max-length-bytes", ""): "it has a length limit: tasks beyond it are dropped or refused",
    ("x-message-ttl", ""): "its tasks expire after a time and are dropped",
}


def broken_promise(setting: str, current: str) -> str:
    """What the queue's own `setting` (now `current`) costs our tasks; '' if nothing."""
    return BROKEN_PROMISES.get((setting, current)) or BROKEN_PROMISES.get((setting, ""), "")


def messages_ready(channel, queue: str) -> int | None:
    """Messages ready in `queue`, exactly (a passive declare); None when there is no such
    queue (the broker then closes the channel)."""
    try:
        return channel.queue_declare(queue, passive=True).method.message_count
    except pika.exceptions.ChannelClosedByBroker as error:
        if error.reply_code == NOT_FOUND:
            return None
        raise


def use_queue_as_it_is(
    connection, queue: str, refused: pika.exceptions.ChannelClosedByBroker
) -> object:
    """After the broker refused to declare `queue`: a new channel, once the queue is there.

    Any refusal other than 406 or 403 is raised again; a queue that is missing and may not
    be created is a BrokerError that says whom to ask.
    """
    if refused.reply_code not in (PRECONDITION_FAILED, ACCESS_REFUSED):
        raise refused
    channel = connection.channel()  # the refusal closed the other one
    try:
        channel.queue_declare(queue, passive=True)
    except pika.exceptions.ChannelClosedByBroker as missing:
        raise not_there(queue, refused, missing) from None
    say_used_as_it_is(queue, refused)
    return channel


class AsyncDeclare:
    """On a SelectConnection: declare a durable queue on a new channel, or use it as it is.

    The steps of use_queue_as_it_is, as callbacks: when the broker refuses the declare (406,
    403), a new channel declares the queue passively. `on_ready(channel)` gets the channel
    once the queue is there; `on_error(error)` a refusal, or the BrokerError of a queue that
    is missing and may not be created. A connection lost meanwhile is its owner's to handle.
    """

    def __init__(self, connection, queue: str, arguments: dict | None, on_ready, on_error) -> None:
        self.connection, self.queue, self.arguments = connection, queue, arguments
        self.on_ready, self.on_error = on_ready, on_error
        self.refused: pika.exceptions.ChannelClosedByBroker | None = None
        self.settled = False  # once on_ready or on_error ran, the channels are not ours

    def start(self) -> None:
        self.connection.channel(on_open_callback=self._declare)

    def _declare(self, channel) -> None:
        """Declare the queue (passively once a declare was refused: that needs no permission)."""
        channel.add_on_close_callback(self._on_channel_closed)
        channel.queue_declare(
            self.queue,
            passive=self.refused is not None,
            durable=True,  # the queue survives a broker restart
            arguments=self.arguments,
            callback=lambda _frame: self._ready(channel),
        )

    def _on_channel_closed(self, _channel, reason: BaseException) -> None:
        if self.settled or not isinstance(reason, pika.exceptions.ChannelClosedByBroker):
            return  # in use by the owner now, or the connection is gone: the owner hears of it
        if self.refused is None and reason.reply_code in (PRECONDITION_FAILED, ACCESS_REFUSED):
            self.refused = reason
            self.connection.channel(on_open_callback=self._declare)  # the refusal closed the other
            return
        self.settled = True
        refused = self.refused
        self.on_error(reason if refused is None else not_there(self.queue, refused, reason))

    def _ready(self, channel) -> None:
        self.settled = True
        if self.refused is not None:
            say_used_as_it_is(self.queue, self.refused)
        self.on_ready(channel)


def not_there(
    queue: str,
    refused: pika.exceptions.ChannelClosedByBroker,
    missing: pika.exceptions.ChannelClosedByBroker,
) -> Exception:
    """The error once the passive declare after a refusal failed too: the queue is missing."""
    if missing.reply_code == NOT_FOUND and refused.reply_code == ACCESS_REFUSED:
        return BrokerError(may_not_create(queue, refused.reply_text))
    return missing


def say_used_as_it_is(queue: str, refused: pika.exceptions.ChannelClosedByBroker) -> None:
    """One line: the queue is used as it is, and why (with a warning if it breaks a promise)."""
    if refused.reply_code == PRECONDITION_FAILED:
        say_what_differs(queue, refused.reply_text)
    else:
        _vhost, user = who(refused.reply_text)
        LOGGER.info(
            " [*] user %s may not declare queue %s, which exists: using it as it is", user, queue
        )


def say_what_differs(queue: str, reply_text: str) -> None:
    """One line: the queue exists with other settings, and what that costs, if anything."""
    found = INEQUIVALENT.search(reply_text)
    setting, current = found.groups() if found else ("", "")
    LOGGER.info(
        " [*] queue %s already exists with other settings (its %s is %s): using it as it is",
        queue,
        setting or "configuration",
        current or "different",
    )
    promise = broken_promise(setting, current)
    if promise:
        LOGGER.warning(" [!] queue %s: %s", queue, promise)


def who(reply_text: str) -> tuple[str, str]:
    """(vhost, user) named in an ACCESS_REFUSED reply; '?' where it does not say."""
    found = REFUSED_FOR.search(reply_text)
    return (found[1], found[2]) if found else ("?", "?")


def may_not_create(queue: str, reply_text: str) -> str:
    """The line for a missing queue this user may not declare."""
    vhost, user = who(reply_text)
    return (
        f"queue {queue} does not exist in vhost {vhost!r}, and user {user!r} may not create it "
        "(no configure permission): ask the broker's administrator to declare it"
    )


def access_refused(reply_text: str) -> str:
    """The line for a 403 on a publish or a consume: who may not do what, and whom to ask."""
    vhost, user = who(reply_text)
    exchange = re.search(r"access to exchange '([^']*)'", reply_text)
    if exchange:
        name = "the default exchange (amq.default)" if exchange[1] == "amq.default" else exchange[1]
        return (
            f"user {user!r} may not publish to {name} in vhost {vhost!r} (it needs the write "
            "permission on it): ask the broker's administrator"
        )
    queue = re.search(r"access to queue '([^']*)'", reply_text)
    if queue:
        return (
            f"user {user!r} may not take messages from queue {queue[1]} in vhost {vhost!r} "
            "(it needs the read permission on it): ask the broker's administrator"
        )
    return f"the broker refused: {reply_text}"


def queue_arguments(queue_type: str | None) -> dict[str, str] | None:
    """queue_declare arguments for a queue type, classic or quorum; None: the vhost's default
    type (classic, unless the vhost sets another, as RabbitMQ 4 allows)."""
    return None if queue_type is None else {"x-queue-type": queue_type}
