"""A pika error turned into one clear line: why a connection could not be opened, what an
error on an open one means (and whether another connection may carry on), and, for the flat
v1 scripts, the block that ends the script with that line and its exit code."""

from __future__ import annotations

import errno
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pika
import pika.credentials
import pika.exceptions
from pika.adapters.utils.connection_workflow import (
    AMQPConnectorException,
    AMQPConnectorStackTimeout,
)

from utils.alarms import URL_LIMIT, BlockedPublishing
from utils.errors import BrokerError, ExitCode, ScriptError, report
from utils.parameters import connection_parameters
from utils.platforms import broker_not_running_hint
from utils.queues import access_refused
from utils.tls import speaks_tls, tls_cause
from utils.urls import ADMIN_PANEL_PORT, address

# What pika raises when a connection cannot be opened: its own errors, a handshake that
# times out (something other than RabbitMQ listening?), and socket errors such as DNS.
CONNECT_ERRORS = (pika.exceptions.AMQPConnectionError, AMQPConnectorException, OSError)


# --- a connection that could not be opened ------------------------------------------------

# Socket errors are told apart by type and number, never by their text: pika builds a
# failed connect's error from os.strerror, which on Windows knows no socket error numbers
# (ConnectionRefusedError(10061, 'Unknown error')). Windows numbers them apart (WSA...).
WSAETIMEDOUT, WSAECONNREFUSED = 10060, 10061
REFUSED = {errno.ECONNREFUSED, WSAECONNREFUSED}
TIMED_OUT = {errno.ETIMEDOUT, WSAETIMEDOUT}
WINSOCK_WORDS = {  # the others a connect meets, in the words of POSIX's strerror
    10013: "Permission denied (WSAEACCES: does a firewall or security program block Python?)",
    10050: "Network is down (WSAENETDOWN)",
    10051: "Network is unreachable (WSAENETUNREACH)",
    10053: "Software caused connection abort (WSAECONNABORTED)",
    10054: "Connection reset by peer (WSAECONNRESET)",
    10064: "Host is down (WSAEHOSTDOWN)",
    10065: "No route to host (WSAEHOSTUNREACH)",
}
WINSOCK_NUMBERS = range(10000, 12000)

# login refused: what to do depends on how the script logs in
LOGIN_REFUSED = "login refused (wrong user name or password; guest can only log in from localhost)"
CERTIFICATE_REFUSED = (
    "login by client certificate (EXTERNAL) refused: the broker needs a user named "
    "after the certificate's subject (its CN, by default), with permissions on the "
    "virtual host {vhost!r}"
)
NO_EXTERNAL = (
    "the broker does not offer login by certificate (EXTERNAL): enable its "
    "rabbitmq_auth_mechanism_ssl plugin and add EXTERNAL to its auth_mechanisms, or "
    "log in with a user name and password"
)
NO_HANDSHAKE = "no AMQP handshake in time (is something other than RabbitMQ on that port?)"
SPEAKS_TLS = "the server there speaks TLS, not plain AMQP: use amqps:// for this port"
NOT_AMQP = "the server there does not speak AMQP 0-9-1 (is it RabbitMQ? check the port)"
ADMIN_PANEL = (
    f"port {ADMIN_PANEL_PORT} is the admin panel's (HTTP, for a browser), not AMQP: give the "
    f"AMQP port in the URL, {pika.ConnectionParameters.DEFAULT_PORT} by default"
)
NO_VHOST = "access to virtual host {vhost!r} refused (does it exist, may this user use it?)"


def connection_failure(
    error: BaseException, params_list: list[pika.ConnectionParameters]
) -> BrokerError:
    """One clear error naming host:port and the cause of a failed connection attempt.

    The message is built from host, port, virtual host and the cause: never from the URL,
    so the password is never in it.
    """
    where = ", ".join(address(params) for params in params_list)
    return BrokerError(f"cannot connect to RabbitMQ at {where}: {cause(error, params_list)}")


def chain(error: BaseException) -> list[BaseException]:
    """The error and those it wraps, outermost first: pika wraps the socket's own error,
    sometimes twice, and keeps one error per attempt (the last is the one that counts)."""
    errors = [error]
    while len(errors) < 10:
        outer = errors[-1]
        attempts = getattr(outer, "exceptions", None)
        inner = (
            (attempts[-1] if attempts else None)
            or getattr(outer, "exception", None)
            or (outer.args[0] if outer.args else None)
        )
        if not isinstance(inner, BaseException):
            break
        errors.append(inner)
    return errors


def cause(error: BaseException, params_list: list[pika.ConnectionParameters]) -> str:
    """A short human cause for why a connection attempt failed, with what to do about it."""
    errors = chain(error)
    return (
        tls_cause(errors, params_list)
        or _amqp_cause(errors, params_list)
        or _socket_cause(errors[-1], params_list)
    )


def _amqp_cause(errors: list[BaseException], params_list: list[pika.ConnectionParameters]) -> str:
    """The cause when the broker answered but the AMQP handshake failed; '' otherwise."""
    kinds = tuple(type(each) for each in errors)
    vhost = params_list[0].virtual_host
    external = any(
        isinstance(params.credentials, pika.credentials.ExternalCredentials)
        for params in params_list
    )
    if issubclass_any(kinds, pika.exceptions.ProbableAuthenticationError):
        return CERTIFICATE_REFUSED.format(vhost=vhost) if external else LOGIN_REFUSED
    if issubclass_any(kinds, pika.exceptions.AuthenticationError) and external:
        return NO_EXTERNAL
    if issubclass_any(kinds, AMQPConnectorStackTimeout):
        return NO_HANDSHAKE
    if issubclass_any(kinds, pika.exceptions.IncompatibleProtocolError):
        plain = [params for params in params_list if not params.ssl_options]
        if any(params.port == ADMIN_PANEL_PORT for params in params_list):
            return ADMIN_PANEL
        return SPEAKS_TLS if any(speaks_tls(params) for params in plain) else NOT_AMQP
    if issubclass_any(kinds, pika.exceptions.ProbableAccessDeniedError):
        return NO_VHOST.format(vhost=vhost)
    return ""


def issubclass_any(kinds: tuple[type, ...], kind: type) -> bool:
    return any(issubclass(each, kind) for each in kinds)


def _socket_cause(error: BaseException, params_list: list[pika.ConnectionParameters]) -> str:
    """The cause when the broker could not be reached: refused, timed out, a DNS error, ..."""
    number = error.errno if isinstance(error, OSError) else None
    if isinstance(error, ConnectionRefusedError) or number in REFUSED:
        return f"Connection refused ({_nobody_listening(params_list)})"
    if isinstance(error, TimeoutError) or number in TIMED_OUT:
        return "Connection timed out (is the host reachable, and the port open in its firewall?)"
    if number in WINSOCK_WORDS:
        return WINSOCK_WORDS[number]
    if number is not None and number in WINSOCK_NUMBERS:  # Windows' strerror knows none
        name = errno.errorcode.get(number)  # Windows' errno names them WSAE...
        return f"Windows Sockets error {number}" + (f" ({name})" if name else "")
    text = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
    return text or type(error).__name__


def _nobody_listening(params_list: list[pika.ConnectionParameters]) -> str:
    """The hint for a refused connection: nothing listens there, so which port was it?"""
    ports = sorted({params.port for params in params_list})
    if ports == [pika.ConnectionParameters.DEFAULT_PORT]:
        return broker_not_running_hint(sys.platform)
    named = ", ".join(map(str, ports))
    return (
        f"is RabbitMQ running, and listening on port {named}? Its usual port is "
        f"{pika.ConnectionParameters.DEFAULT_PORT} ({pika.ConnectionParameters.DEFAULT_SSL_PORT} "
        "for amqps); see the README, 'Troubleshooting'"
    )


# --- an error on an open connection -------------------------------------------------------

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


# --- the flat v1 scripts: an expected failure ends the script in one line -----------------


@dataclass
class Explain:
    """What the script hands over to explain a failure: the watch on its connection, once
    say_when_blocked() gave one, names the alarm if RabbitMQ blocked it too long."""

    watch: BlockedPublishing | None = None


@contextmanager
def exit_on_error(
    logger: logging.Logger, url: str, interrupted: ExitCode = ExitCode.FAILURE
) -> Iterator[Explain]:
    """An expected failure inside the block becomes one line on stderr and its exit code.

    A connection to `url` that cannot be opened is named by host:port. Ctrl+C
    (or SIGTERM, where the script turns it into KeyboardInterrupt) ends the script with one
    line and the status `interrupted`.
    """
    explain = Explain()
    try:
        yield explain
    except ScriptError as error:
        sys.exit(report(logger, error))
    except (*CONNECT_ERRORS, pika.exceptions.AMQPError) as error:
        if failed_to_open(error):
            # the URL was read once already: no second warning about it
            params_list = connection_parameters(url, warn=False)
            sys.exit(report(logger, connection_failure(error, params_list)))
        sys.exit(report(logger, broker_error(error, explain.watch)))
    except KeyboardInterrupt:
        logger.info(" [*] Interrupted: stopped before the end.")
        sys.exit(int(interrupted))
