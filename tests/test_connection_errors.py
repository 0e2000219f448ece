"""Brokers the scripts cannot use, each one clear line: down, refusing, not AMQP, a bad URL.

Also a queue declared otherwise, and several URLs, the first one down."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import pytest

from harness.broker import ADDRESS
from harness.children import run_script, script_env
from tests.support import EMITTERS, UNREACHABLE, WORKERS
from utils.console_lines import READY_WORDS, done_rows

ALL_SCRIPTS = WORKERS + EMITTERS


@pytest.mark.parametrize("emitter", EMITTERS)
def test_broker_down_gives_one_clear_line(tmp_path, emitter):
    """A connection that never opened is one line naming host:port, not a traceback."""
    started = time.monotonic()
    result = run_script(emitter, env=script_env(UNREACHABLE, log_dir=tmp_path))

    assert time.monotonic() - started < 10
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"{emitter[:-3]}: error: cannot connect to RabbitMQ at 127.0.0.1:1: Connection refused "
        "(is RabbitMQ running, and listening on port 1? Its usual port is 5672 (5671 for "
        "amqps); see the README, 'Troubleshooting')"
    ]
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.broker
@pytest.mark.parametrize("script", ALL_SCRIPTS)
@pytest.mark.parametrize(
    ("url", "cause"),
    [
        ("amqp://guest:guest@127.0.0.1:1/", "127.0.0.1:1: Connection refused"),
        (f"amqp://guest:Wr0ngPassw0rd@{ADDRESS}/", f"{ADDRESS}: login refused"),
        (f"amqp://guest:guest@{ADDRESS}/no-such-vhost", "virtual host 'no-such-vhost'"),
    ],
)
def test_an_unreachable_broker_gives_one_line_exit_1_within_10_s(tmp_path, script, url, cause):
    started = time.monotonic()

    result = run_script(script, env=script_env(url, log_dir=tmp_path))

    assert time.monotonic() - started < 10
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert cause in line
    assert "Wr0ngPassw0rd" not in result.stdout + result.stderr
    assert "Wr0ngPassw0rd" not in (tmp_path / f"{script[:-3]}.log").read_text()


@pytest.mark.broker
@pytest.mark.parametrize("script", ALL_SCRIPTS)
@pytest.mark.parametrize(
    ("user", "password"),
    [("guest", "password"), ("nobody", "guest"), ("guest", "wrong"), ("guest", "e")],
)
def test_a_wrong_password_is_one_whole_line_without_it(tmp_path, script, user, password):
    """Only the URL's password field is hidden: words of the message that hold the same text
    ("password", "guest", "wrong", an "e") are printed whole."""
    url = f"amqp://{user}:{password}@{ADDRESS}/%2F"
    result = run_script(script, env=script_env(url, log_dir=tmp_path))

    assert result.returncode == 1
    line = (
        f"{script[:-3]}: error: cannot connect to RabbitMQ at {ADDRESS}: login refused "
        "(wrong user name or password; guest can only log in from localhost)"
    )
    assert result.stderr.strip().splitlines() == [line]
    assert "***" not in result.stdout + result.stderr


@pytest.mark.broker
@pytest.mark.parametrize("script", ["v1_emitter_of_tasks.py", "v3_listening_worker.py"])
def test_something_else_on_the_port_is_reported_within_10_s(script, tmp_path):
    """A port in use by another server (here an HTTP server) is not mistaken for RabbitMQ."""
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", "0", "--bind", "127.0.0.1"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    try:
        port = re.search(r"port (\d+)", server.stdout.readline()).group(1)
        started = time.monotonic()
        url = f"amqp://guest:guest@127.0.0.1:{port}/"
        result = run_script(script, env=script_env(url, log_dir=tmp_path))
    finally:
        server.kill()
        server.wait()
    assert time.monotonic() - started < 10
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert f"127.0.0.1:{port}: no AMQP handshake in time" in line


@pytest.mark.broker
@pytest.mark.parametrize("script", ALL_SCRIPTS)
def test_a_malformed_url_is_a_usage_error_without_the_password(tmp_path, script):
    env = script_env("amqp://bob:hunter2@localhost:notaport/", log_dir=tmp_path)
    result = run_script(script, env=env)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert "RABBITMQ_URL" in line
    assert "hunter2" not in result.stdout + result.stderr


@pytest.mark.broker
def test_a_queue_with_other_arguments_is_used_as_it_is(vhost, workers, tmp_path):
    with vhost.connection() as connection:
        connection.channel().queue_declare(
            "task_queue3", durable=True, arguments={"x-max-length": 100}
        )
    env = script_env(vhost.url, log_dir=tmp_path)

    # the emitter uses it as it is, and warns what the limit costs
    sent = run_script("v3_emitter_of_tasks.py", env=env)
    assert sent.returncode == 0, sent.stderr
    assert (
        " [*] queue task_queue3 already exists with other settings (its x-max-length is 100): "
        "using it as it is"
    ) in sent.stdout
    assert sent.stderr.splitlines() == [
        " [!] queue task_queue3: it has a length limit: tasks beyond it are dropped or refused"
    ]
    assert vhost.ready_count("task_queue3") == 18

    # the v3 worker uses such a queue as it is, as v1 and v2 do, and says what it costs
    worker = workers("v3_listening_worker.py", env=script_env(vhost.url, log_dir=tmp_path))
    worker.wait_for(READY_WORDS)
    assert worker.stop().code == 0
    assert (
        " [*] queue task_queue3 already exists with other settings (its x-max-length is 100): "
        "using it as it is"
    ) in worker.output
    assert (
        " [!] queue task_queue3: it has a length limit: tasks beyond it are dropped or refused"
    ) in worker.output


@pytest.mark.broker
def test_with_several_urls_the_scripts_use_the_first_broker_that_answers(vhost, workers, tmp_path):
    urls = f"amqp://guest:guest@127.0.0.1:1/,{vhost.url}"  # the first broker is down
    env = script_env(urls, log_dir=tmp_path, seconds_per_dot="0")
    worker = workers("v3_listening_worker.py", env=env)
    worker.wait_for(READY_WORDS)

    result = run_script("v3_emitter_of_tasks.py", env=env)

    assert result.returncode == 0, result.stderr
    worker.wait_until(lambda output: len(done_rows(output)) >= 18, "18 rows done")
    assert worker.stop().code == 0
