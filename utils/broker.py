"""Connecting to RabbitMQ: settings to pika parameters (TLS too), clear errors, the side queue."""

from __future__ import annotations

import logging
import os
import re
import socket
import ssl
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

DEFAULT_URL = "amqp://guest:guest@localhost:5672/%2F"
# pika waits 10 s for a TCP connect and 15 s for the whole handshake by default; a broker
# that cannot be reached must be reported within 10 s, so we shorten both unless the URL
# sets them itself.
DEFAULT_TIMEOUTS = {"socket_timeout": "4", "stack_timeout": "6"}
PERSISTENT = pika.DeliveryMode.Persistent  # delivery mode 2: written to disk by the broker
# RabbitMQ's own URI query parameters for TLS (rabbitmq.com/docs/uri-query-parameters),
# unknown to pika: _parameters turns them into pika.SSLOptions and takes them out of the URL.
TLS_QUERY_PARAMETERS = ("cacertfile", "certfile", "keyfile", "verify", "server_name_indication")
AUTH_MECHANISM = "auth_mechanism"  # plain (the default) or external: log in by certificate
TLS_PORT = 5671  # RabbitMQ's usual port for AMQP over TLS, named in advice

LOGGER = logging.getLogger(__name__)


def rabbitmq_url(flag: str | None = None) -> str:
    """The broker URL: the --url flag, then RABBITMQ_URL, then the local default."""
    return flag or os.environ.get("RABBITMQ_URL") or DEFAULT_URL


def redact(url: str) -> str:
    """The URL with its password replaced by ***, fit for logs and messages.

    A `password=` query parameter (RabbitMQ's, for an encrypted key) is hidden too.
    """
    parts = urllib.parse.urlsplit(url)
    query = re.sub(r"(^|&)(password=)[^&]*", r"\1\2***", parts.query, flags=re.IGNORECASE)
    netloc = parts.netloc
    if parts.password is not None:
        netloc = netloc.replace(f":{parts.password}@", ":***@", 1)
    if (netloc, query) == (parts.netloc, parts.query):
        return url
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc, query=query))


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
    urls = [part.strip() for part in url.split(",") if part.strip()]
    if not urls:
        raise SettingsError("RABBITMQ_URL is empty; set it to an AMQP URL such as " + DEFAULT_URL)
    return [_parameters(one, warn) for one in urls]


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
            f"RABBITMQ_URL must start with amqp:// or amqps:// (got {redact(url)!r}); "
            f"for example {DEFAULT_URL}"
        )
    pika_url, tls = _take_tls_parameters(url)
    external = _external_login(url, tls.pop(AUTH_MECHANISM, None))
    pikas_own_tls = "ssl_options" in urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    if scheme == "amqp" and (tls or external):
        named = _named([*tls, *([AUTH_MECHANISM] if external else [])])
        raise SettingsError(
            f"RABBITMQ_URL {redact(url)!r} has TLS parameters ({named}) but starts with "
            f"amqp://, which is not encrypted: use amqps:// (TLS; port {TLS_PORT} by default)"
        )
    if tls and pikas_own_tls:
        raise SettingsError(
            f"RABBITMQ_URL {redact(url)!r} has both pika's ssl_options= and RabbitMQ's TLS "
            f"parameters ({_named(tls)}): use one or the other"
        )
    try:
        params = pika.URLParameters(_with_default_timeouts(pika_url))
    except (ValueError, TypeError) as error:
        raise SettingsError(f"RABBITMQ_URL {redact(url)!r} is not valid: {error}") from None
    if scheme == "amqps" and not pikas_own_tls:
        params.ssl_options = _tls_options(url, params, tls, warn)
    if external:
        if not pikas_own_tls and not tls.get("certfile"):
            raise SettingsError(
                f"RABBITMQ_URL {redact(url)!r} asks for auth_mechanism=external, a login by "
                "client certificate, but gives none: add certfile= and keyfile="
            )
        params.credentials = pika.credentials.ExternalCredentials()
    return params


def _take_tls_parameters(url: str) -> tuple[str, dict[str, str]]:
    """The URL without RabbitMQ's TLS query parameters, and those parameters' values.

    Every other query field is kept as it was written, for pika to read.
    """
    parts = urllib.parse.urlsplit(url)
    kept: list[str] = []
    tls: dict[str, str] = {}
    for field in filter(None, parts.query.split("&")):
        name, _, value = field.partition("=")
        name = urllib.parse.unquote(name)
        if name not in (*TLS_QUERY_PARAMETERS, AUTH_MECHANISM):
            kept.append(field)
        elif name in tls:
            raise SettingsError(f"RABBITMQ_URL {redact(url)!r} gives {name}= twice: give it once")
        else:
            tls[name] = urllib.parse.unquote(value)  # a '+' in a file name stays a '+'
    return urllib.parse.urlunsplit(parts._replace(query="&".join(kept))), tls


def _named(parameters) -> str:
    return ", ".join(f"{name}=" for name in parameters)


def _external_login(url: str, mechanism: str | None) -> bool:
    """Whether auth_mechanism asks for EXTERNAL (login by client certificate)."""
    if mechanism is None or mechanism.lower() == "plain":
        return False
    if mechanism.lower() == "external":
        return True
    raise SettingsError(
        f"RABBITMQ_URL {redact(url)!r}: auth_mechanism={mechanism} is not supported: use "
        "auth_mechanism=external (login by client certificate) or leave it out (user name "
        "and password)"
    )


class TLSOptions(pika.SSLOptions):
    """pika.SSLOptions, with what connection_failure needs to explain a failed handshake."""

    __slots__ = ("cacertfile", "client_certificate")

    def __init__(
        self,
        context: ssl.SSLContext,
        server_hostname: str,
        cacertfile: str | None,
        client_certificate: bool,
    ) -> None:
        super().__init__(context, server_hostname)
        self.cacertfile = cacertfile
        self.client_certificate = client_certificate


def _tls_options(
    url: str, params: pika.URLParameters, tls: dict[str, str], warn: bool
) -> TLSOptions:
    """The SSLContext that RabbitMQ's TLS query parameters ask for, wrapped for pika."""
    verify = tls.get("verify", "verify_peer")
    if verify not in ("verify_peer", "verify_none"):
        raise SettingsError(
            f"RABBITMQ_URL {redact(url)!r}: verify={verify} is not one of verify_peer "
            "(check the broker's certificate, the default) or verify_none (do not)"
        )
    server_name = tls.get("server_name_indication", params.host)
    if server_name in ("", "disable"):
        raise SettingsError(
            f"RABBITMQ_URL {redact(url)!r}: server_name_indication={server_name} is not "
            "supported: give the host name the broker's certificate is for"
        )
    certfile, keyfile = tls.get("certfile"), tls.get("keyfile")
    if keyfile and not certfile:
        raise SettingsError(
            f"RABBITMQ_URL {redact(url)!r} gives keyfile= without certfile=: add "
            "certfile=, the client certificate that goes with the key"
        )
    cacertfile = tls.get("cacertfile")
    try:
        context = _context(cacertfile, certfile, keyfile)
    except _UnusableFile as error:
        raise BrokerError(f"cannot connect to RabbitMQ at {address(params)}: {error}") from None
    if verify == "verify_none":
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        if warn:
            LOGGER.warning(
                " [!] verify=verify_none: the certificate of the broker at %s is not "
                "checked, so anyone on the way can pose as the broker; trust its CA with "
                "cacertfile= instead",
                address(params),
            )
    return TLSOptions(context, server_name, cacertfile, certfile is not None)


class _UnusableFile(Exception):
    """A certificate or key file that cannot be used; the message names it and the fix."""


class _Encrypted(Exception):
    """Raised by our passphrase callback: no one is there to type a passphrase."""


def _no_passphrase() -> str:
    raise _Encrypted


def _context(cacertfile: str | None, certfile: str | None, keyfile: str | None) -> ssl.SSLContext:
    """ssl.create_default_context with the CAs of cacertfile and the client certificate."""
    for kind, path in (("cacertfile", cacertfile), ("certfile", certfile), ("keyfile", keyfile)):
        if path is not None:
            _check_readable(kind, path)
    try:
        context = ssl.create_default_context(cafile=cacertfile)
    except ssl.SSLError:
        raise _UnusableFile(
            f"the cacertfile {cacertfile} holds no PEM certificate; give cacertfile= the "
            "certificate (PEM) of the CA that signed the broker's certificate"
        ) from None
    if certfile is not None:
        _load_client_certificate(context, certfile, keyfile)
    return context


def _check_readable(kind: str, path: str) -> None:
    try:
        with open(path, "rb"):
            pass
    except OSError as error:
        raise _UnusableFile(
            f"cannot read the {kind} {path} ({error.strerror}); check the path given to {kind}="
        ) from None


def _load_client_certificate(context: ssl.SSLContext, certfile: str, keyfile: str | None) -> None:
    probe = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:  # the certificate alone: which of the two files is wrong, if one is
        probe.load_verify_locations(cafile=certfile)
    except ssl.SSLError:
        raise _UnusableFile(
            f"the certfile {certfile} holds no PEM certificate; give certfile= the client "
            "certificate (PEM)"
        ) from None
    try:
        context.load_cert_chain(certfile, keyfile, password=_no_passphrase)
    except _Encrypted:
        raise _UnusableFile(
            f"the keyfile {keyfile or certfile} is protected by a passphrase, which the "
            "scripts cannot ask for; give keyfile= a key without one (openssl pkey -in "
            "KEY -out PLAIN_KEY)"
        ) from None
    except ssl.SSLError as error:
        if keyfile is None:
            raise _UnusableFile(
                f"the certfile {certfile} holds no private key; add keyfile=, the client "
                "certificate's key (PEM)"
            ) from None
        if error.reason == "KEY_VALUES_MISMATCH":
            raise _UnusableFile(
                f"the keyfile {keyfile} is not the key of the certfile {certfile}; give "
                "the key that goes with the certificate"
            ) from None
        raise _UnusableFile(
            f"the keyfile {keyfile} holds no PEM private key; give keyfile= the client "
            "certificate's key (PEM)"
        ) from None


def address(params: pika.ConnectionParameters) -> str:
    """host:port of one set of parameters, as used in every message."""
    host = f"[{params.host}]" if ":" in params.host else params.host
    return f"{host}:{params.port}"


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
    tls = _tls_cause(chain, params_list)
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
        if any(_speaks_tls(params) for params in plain):
            return "the server there speaks TLS, not plain AMQP: use amqps:// for this port"
        return "the server there does not speak AMQP 0-9-1 (is it RabbitMQ? check the port)"
    if raised(pika.exceptions.ProbableAccessDeniedError):
        vhost = params_list[0].virtual_host
        return f"access to virtual host {vhost!r} refused (does it exist, may this user use it?)"
    cause = chain[-1]
    if isinstance(cause, OSError) and cause.strerror:
        return _with_hint(cause.strerror)
    return _with_hint(str(cause) or type(cause).__name__)


def _with_hint(cause: str) -> str:
    if "refused" in cause.lower():
        return f"{cause} (is RabbitMQ running? see the README, 'Troubleshooting')"
    return cause


# OpenSSL's X509_V_ERR_* codes for a broker certificate that fails the checks
_UNTRUSTED = {2, 18, 19, 20, 21}  # no chain to a CA we trust (self-signed, unknown issuer)
_EXPIRED, _NOT_YET_VALID = 10, 9
_NAME_MISMATCH = {62, 64}  # host name, IP address
# "[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)", also inside pika's text
_SSL_ERROR = re.compile(r"\[SSL: (?P<code>[A-Z0-9_]+)\] (?P<text>[^(\"']*?) *\(_ssl\.c:\d+\)")
_ADD_CLIENT_CERTIFICATE = (
    "add certfile= and keyfile= (a certificate the broker trusts and its key, PEM) to the URL"
)
# what OpenSSL says when the other end does not answer in TLS (a plain AMQP port)
_NOT_TLS = {"WRONG_VERSION_NUMBER", "PACKET_LENGTH_TOO_LONG", "RECORD_LAYER_FAILURE"}


def _tls_cause(chain: list[BaseException], params_list: list[pika.ConnectionParameters]) -> str:
    """What went wrong in a TLS handshake and how to fix it; "" for other failures."""
    options = next((p.ssl_options for p in reversed(params_list) if p.ssl_options), None)
    for error in chain:
        if isinstance(error, ssl.SSLCertVerificationError):
            return _certificate_cause(error.verify_code, error.verify_message, options)
    text_of_chain = " ".join(str(error) for error in chain)
    found = _SSL_ERROR.search(text_of_chain)
    client_certificate = getattr(options, "client_certificate", True)  # pika's: unknown
    # the stream ended with no alert once TLS was up: pika was at the AMQP protocol header
    silent = not found or found["code"] == "UNEXPECTED_EOF_WHILE_READING"
    at_amqp_header = any(
        isinstance(error, pika.exceptions.IncompatibleProtocolError) for error in chain
    )
    if options and silent and at_amqp_header and "Stream connection lost" in text_of_chain:
        return _closed_after_handshake(client_certificate)
    if not found:
        return ""
    code, text = found["code"], found["text"]
    if code == "TLSV13_ALERT_CERTIFICATE_REQUIRED":
        return f"the broker requires a client certificate ({text}): {_ADD_CLIENT_CERTIFICATE}"
    if code == "SSLV3_ALERT_HANDSHAKE_FAILURE" and not client_certificate:
        # TLS 1.2 says no more than this when the broker wants a client certificate
        return (
            f"the broker refused the TLS handshake ({text}); if it requires a client "
            f"certificate, {_ADD_CLIENT_CERTIFICATE}"
        )
    if code == "TLSV1_ALERT_UNKNOWN_CA":
        return (
            f"the broker does not trust this client's certificate ({text}): use one signed by "
            "a CA the broker trusts (its ssl_options.cacertfile)"
        )
    if "_ALERT_" in code and "CERTIFICATE" in code and client_certificate:
        return f"the broker rejected this client's certificate ({text})"
    if code in _NOT_TLS:
        return (
            f"the server there does not speak TLS ({text}): use amqp:// for a plain AMQP "
            f"port, or the broker's TLS port ({TLS_PORT} by default)"
        )
    return f"the TLS handshake failed ({text})"


def _closed_after_handshake(client_certificate: bool) -> str:
    """A server that hangs up once TLS is set up, with no alert to say why.

    RabbitMQ refusing a client certificate (or the lack of one) sends its alert just as it
    closes; now and then the close arrives first and the alert is lost (about one
    connection in thirty here). A TLS server that is not RabbitMQ looks the same.
    """
    if client_certificate:
        guess = "it may not trust this client's certificate: use one signed by a CA it trusts"
    else:
        guess = f"it may require a client certificate: {_ADD_CLIENT_CERTIFICATE}"
    return (
        "the server closed the connection after the TLS handshake, saying nothing; if it is "
        f"RabbitMQ, {guess}; if not, check the port"
    )


def _certificate_cause(code: int, message: str, options: pika.SSLOptions | None) -> str:
    """What to do about a broker certificate that failed our checks."""
    cacertfile = getattr(options, "cacertfile", None)
    if code in _UNTRUSTED and cacertfile:
        return (
            f"the broker's certificate is not signed by the CA in cacertfile {cacertfile} "
            f"({message}): give cacertfile= the CA that signed it"
        )
    if code in _UNTRUSTED:
        return (
            f"the broker's certificate is signed by a CA this machine does not trust "
            f"({message}): trust that CA with cacertfile=/path/to/ca_certificate.pem in the "
            "URL (or SSL_CERT_FILE)"
        )
    if code in _NAME_MISMATCH:
        name = getattr(options, "server_hostname", None)
        shown = f"for {name!r} " if name else ""
        kind = message.split(",")[0]  # "Hostname mismatch", "IP address mismatch"
        return (
            f"the broker's certificate is not valid {shown}({kind}): connect by a name the "
            "certificate covers, or set server_name_indication= to one"
        )
    if code == _EXPIRED:
        return (
            f"the broker's certificate has expired ({message}): the broker needs a new one "
            "(or this machine's clock is wrong)"
        )
    if code == _NOT_YET_VALID:
        return (
            f"the broker's certificate is not valid yet ({message}): check this machine's "
            "clock, or the certificate's dates"
        )
    return f"the broker's certificate was rejected ({message})"


def _speaks_tls(params: pika.ConnectionParameters) -> bool:
    """Whether host:port answers a TLS handshake: asked when plain AMQP got no AMQP back."""
    probe = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    probe.check_hostname = False  # only to learn whether TLS answers: nothing is sent
    probe.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection((params.host, params.port), timeout=2) as sock:
            probe.wrap_socket(sock).close()
            return True
    except ssl.SSLError as error:  # a TLS alert is an answer in TLS
        return "ALERT" in str(error.reason)
    except OSError:
        return False


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
    if isinstance(error, pika.exceptions.ChannelClosedByBroker) and error.reply_code == 406:
        return BrokerError(
            f"{error.reply_text}. A queue of that name already exists with other settings: "
            "use another name with --queue, or delete the old queue (admin panel, Queues tab)"
        )
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


def set_aside(channel, queue: str, method, properties, body: bytes, reason: str) -> None:
    """Move a message that cannot be processed to <queue>.dead-letter, then ack it.

    The copy is published on a channel with publisher confirms and the original is acked
    only once the broker has confirmed the copy, so the message is never lost and never
    redelivered to loop forever.
    """
    side = channel.connection.channel()
    try:
        side.queue_declare(queue=dead_letter_queue(queue), durable=True)
    except pika.exceptions.ChannelClosedByBroker as refused:
        side = use_queue_as_it_is(channel.connection, dead_letter_queue(queue), refused)
    side.confirm_delivery()
    headers = dict(properties.headers or {})
    headers.update({"x-set-aside-reason": reason, "x-original-queue": queue})
    side.basic_publish(
        exchange="",
        routing_key=dead_letter_queue(queue),
        body=body,
        properties=pika.BasicProperties(
            delivery_mode=PERSISTENT, headers=headers, message_id=properties.message_id
        ),
    )
    side.close()
    channel.basic_ack(delivery_tag=method.delivery_tag)


def queue_arguments(queue_type: str) -> dict[str, str] | None:
    """queue_declare arguments for a queue type: classic (the broker's default) or quorum."""
    return None if queue_type == "classic" else {"x-queue-type": queue_type}
