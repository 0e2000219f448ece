"""Why a connection could not be opened: one line naming host:port, the cause and what to do."""

from __future__ import annotations

import errno
import sys

import pika
import pika.credentials
import pika.exceptions
from pika.adapters.utils.connection_workflow import AMQPConnectorStackTimeout

from utils.errors import BrokerError
from utils.platforms import broker_not_running_hint
from utils.tls import speaks_tls, tls_cause
from utils.urls import ADMIN_PANEL_PORT, address

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
