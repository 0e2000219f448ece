"""RabbitMQ URLs: which one to use, and how to show it without its password."""

from __future__ import annotations

import os
import re
import urllib.parse

import pika

DEFAULT_URL = "amqp://guest:guest@localhost:5672/%2F"
ADMIN_PANEL_PORT = 15672  # the management plugin's HTTP port: the admin panel, not AMQP


def rabbitmq_url(flag: str | None = None) -> str:
    """The broker URL: the --url flag, then RABBITMQ_URL, then the local default."""
    return flag or os.environ.get("RABBITMQ_URL") or DEFAULT_URL


def url_source(url: str) -> str:
    """Where a URL came from, for messages: RABBITMQ_URL, the --url flag, or the default."""
    if url == os.environ.get("RABBITMQ_URL"):
        return "RABBITMQ_URL"
    return "the default URL" if url == DEFAULT_URL else "--url"


def redact(url: str) -> str:
    """The URL with its password field shown as ***, fit for logs and messages.

    Only the password field changes: a user name, host or path that happens to contain the
    same text is shown as it is. A `password=` query parameter (RabbitMQ's, for an
    encrypted key) is hidden too.
    """
    parts = urllib.parse.urlsplit(url)
    query = re.sub(r"(^|&)(password=)[^&]*", r"\1\2***", parts.query, flags=re.IGNORECASE)
    netloc = parts.netloc
    if parts.password is not None:
        user_and_password, _, host = netloc.rpartition("@")
        user = user_and_password.partition(":")[0]
        netloc = f"{user}:***@{host}"
    if (netloc, query) == (parts.netloc, parts.query):
        return url
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc, query=query))


def address(params: pika.ConnectionParameters) -> str:
    """host:port of one set of parameters, as used in every message."""
    host = f"[{params.host}]" if ":" in params.host else params.host
    return f"{host}:{params.port}"
