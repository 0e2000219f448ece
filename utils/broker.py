"""Connecting to RabbitMQ: settings to pika parameters (TLS too), clear errors, the side queue."""

from __future__ import annotations

import logging
import random
import sys
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager

import pika
import pika.credentials
import pika.exceptions
from pika.adapters.utils.connection_workflow import (
    AMQPConnectorException,
    AMQPConnectorStackTimeout,
)

from utils.alarms import blocked_too_long
from utils.errors import BrokerError, ExitCode, ScriptError, SettingsError, report
from utils.queues import access_refused, use_queue_as_it_is
from utils.tls import (
    AUTH_MECHANISM,
    TLS_PORT,
    external_login,
    named,
    speaks_tls,
    take_tls_parameters,
    tls_cause,
    tls_options,
)
from utils.urls import DEFAULT_URL, address, redact, url_source

# pika waits 10 s for a TCP connect and 15 s for the whole handshake by default; a broker
# that cannot be reached must be reported within 10 s, so we shorten both unless the URL
# sets them itself.
DEFAULT_TIMEOUTS = {"socket_timeout": "4", "stack_timeout": "6"}

PERSISTENT = pika.DeliveryMode.Persistent  # delivery mode 2: written to disk by the broker
CONNECTION_FORCED = 320  # the broker closes connections as it stops (or an admin closed one)
BACKOFF_FIRST = 0.5  # seconds before the first reconnection attempt, doubled after each failure


def _with_default_timeouts(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qs(parts.query)
    missing = {key: value for key, value in DEFAULT_TIMEOUTS.items() if key not in query}
    extra = urllib.parse.urlencode(missing)
    return urllib.parse.urlunsplit(
        parts._replace(query="&".join(filter(None, [parts.query, extra])))
    )


def connection_parameters(url: str, warn: bool = True) -> list[pika.URLParameters]:
    """pika parameters for a URL, or for a comma-separated list of URLs (tried in order).

    RabbitMQ's TLS query parameters are honoured (see _parameters). A URL that turns
    certificate checks off (verify=verify_none) is warned about, unless `warn` is false.
    """
    source = url_source(url)  # each message names the setting to fix
    urls = [part.strip() for part in url.split(",") if part.strip()]
    if not urls:
        raise SettingsError(f"{source} is empty; set it to an AMQP URL such as {DEFAULT_URL}")
    try:
        return [_parameters(one, warn) for one in urls]
    except SettingsError as error:
        raise SettingsError(f"{source} {error}") from None


def _parameters(url: str, warn: bool = True) -> pika.URLParameters:
    """pika parameters for one URL.

    amqps:// gets an ssl.SSLContext from ssl.create_default_context, which checks the
    broker's certificate chain against this machine's CAs (or SSL_CERT_FILE's), and its
    host name against the URL's host, unless pika's own `ssl_options` query option is
    given. RabbitMQ's query parameters change that context: cacertfile (the CAs to trust
    instead), certfile and keyfile (a client certificate), verify=verify_none (no checks,
    with a warning), server_name_indication (the name to expect instead of the host), and
    auth_mechanism=external (log in by the client certificate, not a password).
    """
    scheme = urllib.parse.urlsplit(url).scheme
    if scheme not in ("amqp", "amqps"):
        raise SettingsError(
            f"{redact(url)!r} must start with amqp:// or amqps://; for example {DEFAULT_URL}"
        )
    pika_url, tls = take_tls_parameters(url)
    external = external_login(url, tls.pop(AUTH_MECHANISM, None))
    pikas_own_tls = "ssl_options" in urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    if scheme == "amqp" and (tls or external):
        given = named([*tls, *([AUTH_MECHANISM] if external else [])])
        raise SettingsError(
            f"{redact(url)!r} has TLS parameters ({given}) but starts with "
            f"amqp://, which is not encrypted: use amqps:// (TLS; port {TLS_PORT} by default)"
        )
    if tls and pikas_own_tls:
        raise SettingsError(
            f"{redact(url)!r} has both pika's ssl_options= and RabbitMQ's TLS "
            f"parameters ({named(tls)}): use one or the other"
        )
    try:
        params = pika.URLParameters(_with_default_timeouts(pika_url))
    except (ValueError, TypeError) as error:
        raise SettingsError(f"{redact(url)!r} is not valid: {error}") from None
    if params.heartbeat and params.tcp_options is None:
        # a silent cut (nothing answers) is noticed within the heartbeat: pika checks only
        # every heartbeat + 5 s, TCP drops data left unacknowledged for TCP_USER_TIMEOUT ms
        params.tcp_options = {"TCP_USER_TIMEOUT": int(params.heartbeat * 1000)}
    if scheme == "amqps" and not pikas_own_tls:
        params.ssl_options = tls_options(url, params, tls, warn)
    if external:
        if not pikas_own_tls and not tls.get("certfile"):
            raise SettingsError(
                f"{redact(url)!r} asks for auth_mechanism=external, a login by "
                "client certificate, but gives none: add certfile= and keyfile="
            )
        params.credentials = pika.credentials.ExternalCredentials()
    return params


def _hide_passwords(text: str, params_list: list[pika.ConnectionParameters]) -> str:
    for params in params_list:
        password = getattr(params.credentials, "password", "")
        if password:
            text = text.replace(password, "***")
    return text


def _chain(error: BaseException) -> list[BaseException]:
    """The error and those it wraps, outermost first: pika wraps the socket's own error,
    sometimes twice, and keeps one error per attempt (the last is the one that counts)."""
    chain = [error]
    while len(chain) < 10:
        cause = chain[-1]
        attempts = getattr(cause, "exceptions", None)
        inner = (
            (attempts[-1] if attempts else None)
            or getattr(cause, "exception", None)
            or (cause.args[0] if cause.args else None)
        )
        if not isinstance(inner, BaseException):
            break
        chain.append(inner)
    return chain


def _connect_cause(error: BaseException, params_list: list[pika.ConnectionParameters]) -> str:
    """A short human cause for why a connection attempt failed, with what to do about it."""
    chain = _chain(error)

    def raised(kind) -> bool:
        return any(isinstance(each, kind) for each in chain)

    external = any(
        isinstance(params.credentials, pika.credentials.ExternalCredentials)
        for params in params_list
    )
    tls = tls_cause(chain, params_list)
    if tls:
        return tls
    if raised(pika.exceptions.ProbableAuthenticationError) and external:
        return (
            "login by client certificate (EXTERNAL) refused: the broker needs a user named "
            "after the certificate's subject (its CN, by default), with permissions on the "
            f"virtual host {params_list[0].virtual_host!r}"
        )
    if raised(pika.exceptions.ProbableAuthenticationError):
        return "login refused (wrong user name or password; guest can only log in from localhost)"
    if raised(pika.exceptions.AuthenticationError) and external:
        return (
            "the broker does not offer login by certificate (EXTERNAL): enable its "
            "rabbitmq_auth_mechanism_ssl plugin and add EXTERNAL to its auth_mechanisms, or "
            "log in with a user name and password"
        )
    if raised(AMQPConnectorStackTimeout) or "Timeout while setting up AMQP" in str(error):
        return "no AMQP handshake in time (is something other than RabbitMQ on that port?)"
    if raised(pika.exceptions.IncompatibleProtocolError):
        plain = [params for params in params_list if not params.ssl_options]
        if any(speaks_tls(params) for params in plain):
            return "the server there speaks TLS, not plain AMQP: use amqps:// for this port"
        return "the server there does not speak AMQP 0-9-1 (is it RabbitMQ? check the port)"
    if raised(pika.exceptions.ProbableAccessDeniedError):
        vhost = params_list[0].virtual_host
        return f"access to virtual host {vhost!r} refused (does it exist, may this user use it?)"
    cause = chain[-1]
    text = cause.strerror if isinstance(cause, OSError) and cause.strerror else str(cause)
    text = text or type(cause).__name__
    if "refused" in text.lower():
        return f"{text} ({_nobody_listening(params_list)})"
    return text


def _nobody_listening(params_list: list[pika.ConnectionParameters]) -> str:
    """The hint for a refused connection: nothing listens there, so which port was it?"""
    ports = sorted({params.port for params in params_list})
    if ports == [pika.ConnectionParameters.DEFAULT_PORT]:
        return "is RabbitMQ running? see the README, 'Troubleshooting'"
    named = ", ".join(map(str, ports))
    return (
        f"is RabbitMQ running, and listening on port {named}? Its usual port is "
        f"{pika.ConnectionParameters.DEFAULT_PORT} ({pika.ConnectionParameters.DEFAULT_SSL_PORT} "
        "for amqps); see the README, 'Troubleshooting'"
    )


# What pika raises when a connection cannot be opened: its own errors, a handshake that
# times out (something other than RabbitMQ listening?), and socket errors such as DNS.
CONNECT_ERRORS = (pika.exceptions.AMQPConnectionError, AMQPConnectorException, OSError)


def connection_failure(
    error: BaseException, params_list: list[pika.ConnectionParameters]
) -> BrokerError:
    """One clear error naming host:port and the cause of a failed connection attempt."""
    where = ", ".join(address(params) for params in params_list)
    cause = _connect_cause(error, params_list)
    return BrokerError(
        _hide_passwords(f"cannot connect to RabbitMQ at {where}: {cause}", params_list)
    )


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


def broker_error(error: pika.exceptions.AMQPError) -> BrokerError:
    """Turn a pika error raised after connecting into one clear BrokerError."""
    if isinstance(error, pika.exceptions.ChannelClosedByBroker) and error.reply_code == 403:
        return BrokerError(access_refused(error.reply_text))
    if isinstance(error, pika.exceptions.ChannelClosedByBroker):
        return BrokerError(f"the broker closed the channel: {error.reply_text}")
    if isinstance(error, pika.exceptions.ConnectionBlockedTimeout):
        return blocked_too_long()
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


def dropped(error: BaseException) -> bool:
    """Whether a connection that was open was dropped under the script (a node that died or
    stopped, the network), so that another connection may carry on where it was."""
    if isinstance(error, pika.exceptions.ConnectionClosedByBroker):
        return error.reply_code == CONNECTION_FORCED
    return isinstance(error, DROPPED)


def backoff(attempt: int, cap: float) -> float:
    """Seconds to wait before reconnection attempt `attempt` (1, 2, ...): doubling from
    BACKOFF_FIRST up to `cap`, less up to half at random, so that clients cut off together
    do not all come back at once."""
    return min(cap, BACKOFF_FIRST * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)


def failed_to_open(error: BaseException) -> bool:
    """Whether a pika error means a connection could not be opened (not one lost later)."""
    if isinstance(error, CONNECTION_LOST):
        return False
    return isinstance(error, CONNECT_ERRORS)


@contextmanager
def exit_on_error(
    logger: logging.Logger, url: str, interrupted: ExitCode = ExitCode.FAILURE
) -> Iterator[None]:
    """For flat scripts: an expected failure becomes one line on stderr and its exit code.

    A connection to `url` that cannot be opened is named by host:port. Ctrl+C
    (or SIGTERM, where the script turns it into KeyboardInterrupt) ends the script with one
    line and the status `interrupted`.
    """
    try:
        yield
    except ScriptError as error:
        sys.exit(report(logger, error))
    except (*CONNECT_ERRORS, pika.exceptions.AMQPError) as error:
        if failed_to_open(error):
            # the URL was read once already: no second warning about it
            params_list = connection_parameters(url, warn=False)
            sys.exit(report(logger, connection_failure(error, params_list)))
        sys.exit(report(logger, broker_error(error)))
    except KeyboardInterrupt:
        logger.info(" [*] Interrupted: stopped before the end.")
        sys.exit(int(interrupted))


def dead_letter_queue(queue: str) -> str:
    """The name of the queue where a worker sets aside messages it cannot process."""
    return f"{queue}.dead-letter"


def side_channel(connection, queue: str):
    """A confirm-mode channel of `connection`, once <queue>.dead-letter is there, ours or not."""
    side = connection.channel()
    try:
        side.queue_declare(queue=dead_letter_queue(queue), durable=True)
    except pika.exceptions.ChannelClosedByBroker as refused:
        side = use_queue_as_it_is(connection, dead_letter_queue(queue), refused)
    side.confirm_delivery()
    return side


def set_aside_headers(properties, queue: str, reason: str) -> dict:
    """A set-aside message's headers: its own, why it was set aside, and where it came from."""
    headers = dict(properties.headers or {})
    headers.update({"x-set-aside-reason": reason, "x-original-queue": queue})
    return headers


def persistent_copy(properties, headers: dict) -> pika.BasicProperties:
    """The properties of a message's copy: persistent, with `headers` and the same message id."""
    return pika.BasicProperties(
        delivery_mode=PERSISTENT, headers=headers, message_id=properties.message_id
    )


def set_aside(channel, queue: str, method, properties, body: bytes, reason: str) -> None:
    """Move a message that cannot be processed to <queue>.dead-letter, then ack it.

    The copy is published on a channel with publisher confirms and the original is acked
    only once the broker has confirmed the copy, so the message is never lost and never
    redelivered to loop forever.
    """
    side = side_channel(channel.connection, queue)
    side.basic_publish(
        exchange="",
        routing_key=dead_letter_queue(queue),
        body=body,
        properties=persistent_copy(properties, set_aside_headers(properties, queue, reason)),
    )
    side.close()
    channel.basic_ack(delivery_tag=method.delivery_tag)


def queue_arguments(queue_type: str) -> dict[str, str] | None:
    """queue_declare arguments for a queue type: classic (the broker's default) or quorum."""
    return None if queue_type == "classic" else {"x-queue-type": queue_type}
