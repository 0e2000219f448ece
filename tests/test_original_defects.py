"""Each defect of the course's original scripts, fixed and pinned by a test."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time

import pytest

from tests.support import PROJECT_ROOT, run_script, script_env

EMITTERS = ["v1_emitter_of_tasks.py", "v2_emitter_of_tasks.py", "v3_emitter_of_tasks.py"]
UNREACHABLE = "amqp://guest:guest@127.0.0.1:1/%2F"  # nothing listens on port 1


def read_until(fd: int, text: bytes, timeout: float = 20) -> bytes:
    """Read a pty until `text` shows up."""
    seen = b""
    deadline = time.monotonic() + timeout
    while text not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                seen += os.read(fd, 4096)
            except OSError:  # the child closed the terminal
                break
    return seen


@pytest.mark.broker
@pytest.mark.parametrize("emitter", ["v1_emitter_of_tasks.py", "v3_emitter_of_tasks.py"])
def test_answering_y_opens_the_admin_panel_without_crashing(vhost, tmp_path, emitter):
    """Defect 1: answering "y" crashed the original (logger.info() with no message)."""
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\necho "$1" > {opened}\n')
    browser.chmod(0o755)
    env = script_env(vhost.url, BROWSER=str(browser))
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, str(PROJECT_ROOT / emitter)],
        cwd=PROJECT_ROOT,
        env=env,
        stdin=follower,
        stdout=follower,
        stderr=follower,
    )
    os.close(follower)
    try:
        prompt = read_until(leader, b"y or n")
        assert b"Would you like to monitor RabbitMQ queues? y or n" in prompt
        os.write(leader, b"y\n")
        rest = read_until(leader, b"Sent")
        assert process.wait(timeout=20) == 0, rest
    finally:
        process.kill()
        os.close(leader)
    assert opened.read_text().strip() == "http://127.0.0.1:15672/#/queues"
    assert b"Traceback" not in rest


@pytest.mark.parametrize("emitter", EMITTERS)
def test_broker_down_gives_one_clear_line(emitter):
    """Defect 2: the v2 emitter's `finally` closed a connection that never opened (NameError)."""
    started = time.monotonic()
    result = run_script(emitter, env=script_env(UNREACHABLE))

    assert time.monotonic() - started < 10
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"{emitter[:-3]}: error: cannot connect to RabbitMQ at 127.0.0.1:1: Connection refused "
        "(is RabbitMQ running? see the README, 'Troubleshooting')"
    ]
    assert "Traceback" not in result.stdout + result.stderr


def test_workers_started_together_never_truncate_or_garble_the_log(tmp_path):
    """Defect 6: the logger opened its file with "w"; workers truncated each other's lines."""
    probe = "concurrent_log_probe"
    log_file = PROJECT_ROOT / "logs" / f"{probe}.log"
    log_file.unlink(missing_ok=True)
    writer = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from utils.util_logger import setup_logger;"
        f"logger, _ = setup_logger('{probe}.py');"
        "[logger.info('line %05d %s', n, 'x' * 300) for n in range(2000)]"
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", writer, str(PROJECT_ROOT)],
            stdout=subprocess.DEVNULL,
            cwd=tmp_path,
        )
        for _ in range(4)
    ]
    try:
        assert [process.wait(timeout=60) for process in processes] == [0, 0, 0, 0]
        lines = log_file.read_text().splitlines()
    finally:
        log_file.unlink(missing_ok=True)

    message = r"(line \d{5} x{300}|Logging started .*)"
    line = re.compile(rf"^\S+ \S+\.{probe}\.INFO \[pid (\d+)\] {message}$")
    parsed = [line.match(text) for text in lines]
    assert all(parsed), [text for text, match in zip(lines, parsed) if not match][:3]
    per_process = {}
    for match in parsed:
        per_process[match.group(1)] = per_process.get(match.group(1), 0) + 1
    assert sorted(per_process.values()) == [2001] * 4  # banner + 2,000 lines each


@pytest.mark.broker
@pytest.mark.parametrize("emitter", EMITTERS)
def test_emitters_never_wait_for_a_terminal_that_is_not_there(vhost, emitter):
    """Defect 7: input() blocked any run without a terminal (here: stdin an open, silent pipe)."""
    process = subprocess.Popen(
        [sys.executable, str(PROJECT_ROOT / emitter)],
        cwd=PROJECT_ROOT,
        env=script_env(vhost.url),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        output, _ = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 0
    assert "Would you like" not in output
    assert " [x] Sent" in output


def test_logs_go_to_the_project_whatever_the_current_directory(tmp_path):
    """Defect 8: logs/ was created in whatever directory the script was started from."""
    log_file = PROJECT_ROOT / "logs" / "v2_emitter_of_tasks.log"
    before = log_file.stat().st_size if log_file.exists() else 0

    result = run_script("v2_emitter_of_tasks.py", env=script_env(UNREACHABLE), cwd=tmp_path)

    assert result.returncode == 1
    assert not (tmp_path / "logs").exists()
    assert "cannot connect to RabbitMQ" in log_file.read_text()[before:]


@pytest.mark.broker
def test_the_emitter_finishes_its_work_when_its_output_pipe_closes(vhost):
    """`python v3_emitter_of_tasks.py | head -1`: every row is still sent and confirmed."""
    process = subprocess.Popen(
        [sys.executable, str(PROJECT_ROOT / "v3_emitter_of_tasks.py")],
        cwd=PROJECT_ROOT,
        env=script_env(vhost.url),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout.readline().startswith(b" [x] Sent row 1:")
    process.stdout.close()  # as `head -1` does

    assert process.wait(timeout=30) == 0
    assert process.stderr.read() == b""
    assert vhost.ready_count("task_queue3") == 18
