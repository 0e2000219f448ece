"""The scripts' settings: SECONDS_PER_DOT, and RABBITMQ_URL read as connection parameters."""

from __future__ import annotations

import pytest

from utils.alarms import BLOCKED_TIMEOUT, bound_blocked_waits
from utils.errors import SettingsError
from utils.parameters import connection_parameters
from utils.tasks import seconds_per_dot
from utils.urls import redact


@pytest.mark.parametrize(
    ("raw", "value"), [("1", 1.0), ("0", 0.0), ("0.05", 0.05), ("3600", 3600.0)]
)
def test_seconds_per_dot_accepts_zero_to_3600(raw, value):
    assert seconds_per_dot({"SECONDS_PER_DOT": raw}) == value


def test_seconds_per_dot_defaults_to_one():
    assert seconds_per_dot({}) == 1.0


@pytest.mark.parametrize("raw", ["-1", "abc", "", "nan", "inf", "3600.5", "1e308"])
def test_seconds_per_dot_rejects_bad_values_naming_the_variable(raw):
    with pytest.raises(SettingsError, match="SECONDS_PER_DOT must be a number"):
        seconds_per_dot({"SECONDS_PER_DOT": raw})


def test_redact_hides_the_password_only():
    assert redact("amqp://bob:s3cret@host:5672/v") == "amqp://bob:***@host:5672/v"
    assert redact("amqp://host/v") == "amqp://host/v"


def test_url_query_options_are_honoured_and_timeouts_default_short():
    [params] = connection_parameters("amqp://u:p@h:5673/v?heartbeat=2&connection_attempts=3")
    assert (params.host, params.port, params.virtual_host) == ("h", 5673, "v")
    assert (params.heartbeat, params.connection_attempts) == (2, 3)
    assert params.socket_timeout < 10
    [slow] = connection_parameters("amqp://h/?socket_timeout=20")
    assert slow.socket_timeout == 20


def test_several_urls_separated_by_commas():
    params = connection_parameters("amqp://a:5701/, amqp://b:5702/")
    assert [(p.host, p.port) for p in params] == [("a", 5701), ("b", 5702)]


@pytest.mark.parametrize(
    "url", ["http://x/", "amqp://u:p@h:notaport/", "amqp://h/?heartbeat=abc", " , "]
)
def test_malformed_urls_are_settings_errors_without_the_password(url, monkeypatch):
    monkeypatch.setenv("RABBITMQ_URL", url)
    with pytest.raises(SettingsError, match="^RABBITMQ_URL ") as caught:
        connection_parameters(url)
    assert ":p@" not in str(caught.value)


def test_a_bad_url_names_the_setting_it_came_from(monkeypatch):
    monkeypatch.setenv("RABBITMQ_URL", "amqp://guest:guest@localhost/")
    with pytest.raises(SettingsError, match="^--url 'http://x/' must start with amqp://"):
        connection_parameters("http://x/")  # not the environment's: the flag's


def test_the_blocked_wait_is_bounded_by_the_flag_then_the_url_then_the_default():
    """--blocked-timeout wins; without it a URL's blocked_connection_timeout; then 300 s."""
    urls = "amqp://a/?blocked_connection_timeout=7,amqp://b/"

    params = connection_parameters(urls)
    assert bound_blocked_waits(params, None) == [
        "the URL's blocked_connection_timeout",
        f"--blocked-timeout ({BLOCKED_TIMEOUT:g} s, the default)",
    ]
    assert [p.blocked_connection_timeout for p in params] == [7, BLOCKED_TIMEOUT]

    params = connection_parameters(urls)
    assert bound_blocked_waits(params, 3) == ["--blocked-timeout (3 s)"] * 2
    assert [p.blocked_connection_timeout for p in params] == [3, 3]

    params = connection_parameters(urls)
    bound_blocked_waits(params, 0)  # 0: as long as the alarm lasts
    assert [p.blocked_connection_timeout for p in params] == [None, None]
