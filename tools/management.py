"""RabbitMQ's management HTTP API (the admin panel's source), asked as the user of an AMQP URL.

The API listens on the broker's host, port 15672 by default, when the rabbitmq_management
plugin is enabled (scripts/ensure_rabbitmq.sh enables it). The queue watcher reads queues
through it; the lab makes and deletes a virtual host of its own, and sets a policy there.
"""

from __future__ import annotations

import argparse
import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from utils.errors import ScriptError
from utils.parameters import connection_parameters
from utils.urls import address

MANAGEMENT_PORT = 15672
HTTP_TIMEOUT = 5.0  # seconds


class ManagementError(ScriptError):
    """The management API cannot be reached, or refused a request (`status`: its HTTP code)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def add_broker_arguments(parser: argparse.ArgumentParser) -> None:
    """--url (the broker, over AMQP) and --management-port (its management API)."""
    parser.add_argument("--url", help="AMQP URL of the broker (default RABBITMQ_URL)")
    parser.add_argument(
        "--management-port",
        type=int,
        default=MANAGEMENT_PORT,
        help=f"port of the broker's management API (default {MANAGEMENT_PORT})",
    )


def quoted(name: str) -> str:
    """A name made safe for a URL path segment (a vhost may contain '/')."""
    return urllib.parse.quote(name, safe="")


@dataclass(frozen=True)
class Api:
    """Where and how to ask the management API, and about which vhost."""

    host: str  # host:port, as in every message
    vhost: str
    user: str
    password: str

    @classmethod
    def from_url(cls, url: str, port: int = MANAGEMENT_PORT) -> Api:
        """The API of the first broker of an AMQP URL (its host, vhost and credentials)."""
        params = connection_parameters(url, warn=False)[0]  # SettingsError on a bad URL
        params.port = port
        return cls(
            address(params),
            params.virtual_host,
            params.credentials.username,
            params.credentials.password,
        )

    def call(self, method: str, path: str, body: object = None, missing: str = "") -> object:
        """One request to /api`path`; the decoded JSON answer, or None when it has none.

        `missing` names what a 404 means (the request's path by default).
        """
        request = urllib.request.Request(
            f"http://{self.host}/api{path}",
            data=None if body is None else json.dumps(body).encode(),
            method=method,
            headers={"Authorization": "Basic " + self._token(), "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as response:
                payload = response.read()
        except urllib.error.HTTPError as error:
            message = self._refusal(error, missing or f"{method} /api{path}")
            raise ManagementError(message, error.code) from None
        except (urllib.error.URLError, OSError) as error:
            cause = getattr(error, "reason", error)  # URLError wraps the socket's error
            cause = getattr(cause, "strerror", None) or cause
            raise ManagementError(
                f"cannot reach the management API at {self.host}: {cause} (is RabbitMQ "
                "running, with the rabbitmq_management plugin enabled?)"
            ) from None
        try:
            return json.loads(payload) if payload else None
        except ValueError:
            raise ManagementError(f"the answer from {self.host} is not the API's JSON") from None

    def queues(self, columns: tuple[str, ...]) -> list[dict]:
        """Every queue of the vhost, with the columns asked for."""
        path = f"/queues/{quoted(self.vhost)}?columns={','.join(columns)}"
        answer = self.call("GET", path, missing=f"virtual host {self.vhost!r}")
        return answer if isinstance(answer, list) else []

    def _token(self) -> str:
        """HTTP basic credentials."""
        return base64.b64encode(f"{self.user}:{self.password}".encode()).decode()

    def _refusal(self, error: urllib.error.HTTPError, missing: str) -> str:
        """One line saying why the API said no."""
        if error.code == 401:
            return (
                f"the management API at {self.host} refused the login of user {self.user!r} "
                "(wrong password? guest can only log in from localhost)"
            )
        if error.code == 403:
            return (
                f"the management API at {self.host} does not let user {self.user!r} do that "
                "(it needs the administrator tag)"
            )
        if error.code == 404:
            return f"the management API at {self.host} knows no {missing}"
        return f"the management API at {self.host} answered {error.code} {error.reason}"
