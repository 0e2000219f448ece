"""The one place that turns a RabbitMQ URL (or a comma-separated list) into pika parameters."""

from __future__ import annotations

import urllib.parse

import pika
import pika.credentials

from utils.errors import SettingsError
from utils.tls import (
    AUTH_MECHANISM,
    TLS_PORT,
    external_login,
    named,
    take_tls_parameters,
    tls_options,
)
from utils.urls import DEFAULT_URL, redact, url_source

# pika waits 10 s for a TCP connect and 15 s for the whole handshake by default; a broker
# that cannot be reached must be reported within 10 s, so we shorten both unless the URL
# sets them itself.
DEFAULT_TIMEOUTS = {"socket_timeout": "4", "stack_timeout": "6"}


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
