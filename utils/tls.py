"""TLS the RabbitMQ way: its URI query parameters turned into an SSLContext.

Also what a failed handshake means, in words a user can act on."""

from __future__ import annotations

import logging
import re
import socket
import ssl
import urllib.parse

import pika
import pika.exceptions

from utils.errors import BrokerError, SettingsError
from utils.urls import address, redact

# RabbitMQ's own URI query parameters for TLS (rabbitmq.com/docs/uri-query-parameters),
# unknown to pika: _parameters turns them into pika.SSLOptions and takes them out of the URL.
TLS_QUERY_PARAMETERS = ("cacertfile", "certfile", "keyfile", "verify", "server_name_indication")


AUTH_MECHANISM = "auth_mechanism"  # plain (the default) or external: log in by certificate

TLS_PORT = 5671  # RabbitMQ's usual port for AMQP over TLS, named in advice

LOGGER = logging.getLogger(__name__)


def take_tls_parameters(url: str) -> tuple[str, dict[str, str]]:
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
            raise SettingsError(f"{redact(url)!r} gives {name}= twice: give it once")
        else:
            tls[name] = urllib.parse.unquote(value)  # a '+' in a file name stays a '+'
    return urllib.parse.urlunsplit(parts._replace(query="&".join(kept))), tls


def named(parameters) -> str:
    return ", ".join(f"{name}=" for name in parameters)


def external_login(url: str, mechanism: str | None) -> bool:
    """Whether auth_mechanism asks for EXTERNAL (login by client certificate)."""
    if mechanism is None or mechanism.lower() == "plain":
        return False
    if mechanism.lower() == "external":
        return True
    raise SettingsError(
        f"{redact(url)!r}: auth_mechanism={mechanism} is not supported: use "
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


def tls_options(
    url: str, params: pika.URLParameters, tls: dict[str, str], warn: bool
) -> TLSOptions:
    """The SSLContext that RabbitMQ's TLS query parameters ask for, wrapped for pika."""
    verify = tls.get("verify", "verify_peer")
    if verify not in ("verify_peer", "verify_none"):
        raise SettingsError(
            f"{redact(url)!r}: verify={verify} is not one of verify_peer "
            "(check the broker's certificate, the default) or verify_none (do not)"
        )
    server_name = tls.get("server_name_indication", params.host)
    if server_name in ("", "disable"):
        raise SettingsError(
            f"{redact(url)!r}: server_name_indication={server_name} is not "
            "supported: give the host name the broker's certificate is for"
        )
    certfile, keyfile = tls.get("certfile"), tls.get("keyfile")
    if keyfile and not certfile:
        raise SettingsError(
            f"{redact(url)!r} gives keyfile= without certfile=: add "
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


def tls_cause(chain: list[BaseException], params_list: list[pika.ConnectionParameters]) -> str:
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


def speaks_tls(params: pika.ConnectionParameters) -> bool:
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
