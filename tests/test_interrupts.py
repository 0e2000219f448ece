"""Ctrl+C at any moment ends a v1 or v2 script with one line and no traceback."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys

import pytest

from tests.support import PROJECT_ROOT, script_env


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
