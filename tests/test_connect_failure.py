"""Why a connection could not be opened: the cause by exception type and errno, no password.

The errors pika raises are built here as pika builds them.
"""

from __future__ import annotations

import errno
import sys

import pika.exceptions
import pytest
from pika.adapters.utils.connection_workflow import (
    AMQPConnectionWorkflowFailed,
    AMQPConnectorSocketConnectError,
)

from harness.children import run_script, script_env
from utils.broker_errors import connection_failure
from utils.parameters import connection_parameters
from utils.urls import redact

REFUSED_HINT = "is RabbitMQ running? start it: make broker (see the README, 'Troubleshooting')"
LOGIN_REFUSED = "login refused (wrong user name or password; guest can only log in from localhost)"


def as_blocking_connection_raises(socket_error: OSError) -> Exception:
    """BlockingConnection's error for a failed TCP connect: pika wraps the socket error (made
    from the SO_ERROR number and os.strerror of it) in the connector's error, then in its own."""
    return pika.exceptions.AMQPConnectionError(AMQPConnectorSocketConnectError(socket_error))


def as_select_connection_reports(socket_error: OSError) -> Exception:
    """SelectConnection.create_connection's error for the same: one error per attempt."""
    return AMQPConnectionWorkflowFailed([AMQPConnectorSocketConnectError(socket_error)])


# On Windows os.strerror knows no socket error numbers: pika's text reads "Unknown error".
WINDOWS_REFUSED = [ConnectionRefusedError(10061, "Unknown error"), OSError(10061, "Unknown error")]
WINDOWS_TIMED_OUT = [TimeoutError(10060, "Unknown error"), OSError(10060, "Unknown error")]
POSIX_REFUSED = [OSError(errno.ECONNREFUSED, "Connection refused")]


@pytest.mark.parametrize("wrap", [as_blocking_connection_raises, as_select_connection_reports])
@pytest.mark.parametrize("socket_error", WINDOWS_REFUSED + POSIX_REFUSED, ids=repr)
def test_a_refused_connection_says_is_rabbitmq_running_whatever_the_text(wrap, socket_error):
    params = connection_parameters("amqp://guest:guest@localhost:5672/%2F")
    assert str(connection_failure(wrap(socket_error), params)) == (
        f"cannot connect to RabbitMQ at localhost:5672: Connection refused ({REFUSED_HINT})"
    )


@pytest.mark.parametrize("wrap", [as_blocking_connection_raises, as_select_connection_reports])
@pytest.mark.parametrize("socket_error", WINDOWS_TIMED_OUT, ids=repr)
def test_a_timed_out_connect_says_so_whatever_the_text(wrap, socket_error):
    params = connection_parameters("amqp://guest:guest@example.invalid:5672/%2F")
    assert str(connection_failure(wrap(socket_error), params)) == (
        "cannot connect to RabbitMQ at example.invalid:5672: Connection timed out (is the "
        "host reachable, and the port open in its firewall?)"
    )


def test_another_socket_error_is_given_in_its_own_words():
    error = as_blocking_connection_raises(OSError(errno.EHOSTUNREACH, "No route to host"))
    params = connection_parameters("amqp://guest:guest@10.0.0.1:5672/%2F")
    assert str(connection_failure(error, params)) == (
        "cannot connect to RabbitMQ at 10.0.0.1:5672: No route to host"
    )


@pytest.mark.parametrize(
    ("platform", "start_it"),
    [
        (
            "win32",
            "start its Windows service: net start RabbitMQ, in a terminal run as administrator "
            "(docs/windows.md)",
        ),
        ("darwin", "start it: brew services start rabbitmq (docs/macos.md)"),
        ("linux", "start it: make broker (see the README, 'Troubleshooting')"),
    ],
)
def test_a_broker_not_running_is_started_in_the_platforms_own_way(monkeypatch, platform, start_it):
    monkeypatch.setattr(sys, "platform", platform)
    error = as_blocking_connection_raises(ConnectionRefusedError(10061, "Unknown error"))
    params = connection_parameters("amqp://guest:guest@localhost:5672/%2F")
    assert str(connection_failure(error, params)) == (
        f"cannot connect to RabbitMQ at localhost:5672: Connection refused (is RabbitMQ "
        f"running? {start_it})"
    )


@pytest.mark.parametrize(
    ("number", "words"),
    [
        (10065, "No route to host (WSAEHOSTUNREACH)"),
        (10051, "Network is unreachable (WSAENETUNREACH)"),
        (10013, "Permission denied (WSAEACCES: does a firewall or security program block Python?)"),
        (10099, "Windows Sockets error 10099"),
    ],
)
def test_windows_socket_errors_are_named_not_unknown(number, words):
    """On Windows os.strerror knows no socket error numbers: pika's text is 'Unknown error'."""
    error = as_blocking_connection_raises(OSError(number, "Unknown error"))
    params = connection_parameters("amqp://guest:guest@10.0.0.1:5672/%2F")
    assert str(connection_failure(error, params)) == (
        f"cannot connect to RabbitMQ at 10.0.0.1:5672: {words}"
    )


@pytest.mark.broker
@pytest.mark.parametrize("script", ["v1_emitter_of_tasks.py", "v3_listening_worker.py"])
def test_a_url_on_the_admin_panels_port_says_that_port_is_not_amqp(script, tmp_path):
    env = script_env("amqp://guest:guest@127.0.0.1:15672/%2F", log_dir=tmp_path)
    result = run_script(script, env=env, timeout=30)

    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"{script[:-3]}: error: cannot connect to RabbitMQ at 127.0.0.1:15672: port 15672 is "
        "the admin panel's (HTTP, for a browser), not AMQP: give the AMQP port in the URL, "
        "5672 by default"
    ]


@pytest.mark.parametrize("password", ["password", "guest", "wrong", "e"])
def test_a_refused_login_line_is_whole_whatever_the_password(password):
    params = connection_parameters(f"amqp://guest:{password}@localhost:5672/%2F")
    error = pika.exceptions.ProbableAuthenticationError("ConnectionClosedByBroker: (403) ...")
    assert str(connection_failure(error, params)) == (
        f"cannot connect to RabbitMQ at localhost:5672: {LOGIN_REFUSED}"
    )


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("amqp://guest:password@password/password", "amqp://guest:***@password/password"),
        ("amqp://guest:guest@localhost/%2F", "amqp://guest:***@localhost/%2F"),
        ("amqp://wrong:wrong@wrong.example/wrong", "amqp://wrong:***@wrong.example/wrong"),
        ("amqp://e:e@e.example:5672/e?heartbeat=5", "amqp://e:***@e.example:5672/e?heartbeat=5"),
        ("amqp://bob:p%40ss@h/v", "amqp://bob:***@h/v"),
    ],
)
def test_redact_hides_the_password_field_only(url, shown):
    assert redact(url) == shown
