"""Ctrl+C at any moment ends a script with one line and no traceback, and loses nothing."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys

import pytest

from harness.children import script_env, wait_until
from tests.signal_in_pika import SIGNALLED
from tests.support import QUEUE_OF, WORKERS
from utils import PROJECT_ROOT


@pytest.fixture
def silent_server():
    """A TCP port that accepts connections and never answers: a connect hangs there."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.settimeout(20)
        yield server


@pytest.mark.parametrize(
    ("script", "status", "line"),
    [
        ("v1_emitter_of_tasks.py", 1, " [*] Interrupted: stopped before the end."),
        ("v1_listening_worker.py", 0, " [*] Interrupted: stopped before the end."),
        (
            "v2_emitter_of_tasks.py",
            1,
            "v2_emitter_of_tasks: error: interrupted (Ctrl+C); the task was sent only if a "
            "Sent line shows above",
        ),
        ("v2_listening_worker.py", 0, " [*] Stopped before consuming."),
    ],
)
def test_ctrl_c_while_connecting_is_one_line_without_traceback(
    silent_server, tmp_path, script, status, line
):
    port = silent_server.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, str(PROJECT_ROOT / script)],
        cwd=PROJECT_ROOT,
        env=script_env(f"amqp://guest:guest@127.0.0.1:{port}/", log_dir=tmp_path),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        connection, _address = silent_server.accept()  # the script is connecting now
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=20)
        connection.close()
    finally:
        process.kill()
    assert process.returncode == status
    assert "Traceback" not in stdout + stderr
    assert (stdout + stderr).strip().splitlines() == [line.strip()]


@pytest.mark.broker
@pytest.mark.parametrize("worker_script", WORKERS)
@pytest.mark.parametrize("signals", [1, 2], ids=["one Ctrl+C", "two at once"])
def test_ctrl_c_inside_pika_stops_a_busy_worker_and_loses_no_task(
    vhost, workers, tmp_path, worker_script, signals
):
    """The signals arrive just after pika buffered an ack, before it asked to send it: a
    KeyboardInterrupt raised there once left that ack unsent and the close waiting forever."""
    queue, tasks = QUEUE_OF[worker_script[:2]], 20
    vhost.publish(queue, [b"Quick task"] * tasks)  # no dots: the worker is all pika, acking
    env = script_env(vhost.url, log_dir=tmp_path, seconds_per_dot="0")
    worker = workers("-m", "tests.signal_in_pika", str(signals), worker_script, env=env)

    assert worker.wait(timeout=30).code == 0, worker.output
    assert SIGNALLED in worker.output
    assert "Traceback" not in worker.output
    done = worker.output.count("Done")
    if signals == 1:  # a clean stop: the buffered ack goes out, then the connection closes
        wait_until(lambda: done + vhost.ready_count(queue) == tasks, what="each task done or back")
    else:  # at once: an ack still in pika's buffer is lost with the socket, its task redone
        wait_until(lambda: done + vhost.ready_count(queue) >= tasks, what="none lost")
