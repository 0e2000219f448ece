"""The offer to open RabbitMQ's admin panel: its address, and answering "y" at the prompt."""

from __future__ import annotations

import os
import pty
import select
import signal
import time

import pytest

from tests.support import script_env, start_script, wait_until
from utils.admin_panel import admin_panel_address


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
    """Answering "y" opens the admin panel in the browser and the emitter carries on."""
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\necho "$1" > {opened}\n')
    browser.chmod(0o755)
    env = script_env(vhost.url, log_dir=tmp_path, BROWSER=str(browser))
    leader, follower = pty.openpty()
    process = start_script(emitter, env=env, stdin=follower, stdout=follower, stderr=follower)
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


@pytest.mark.broker
def test_ctrl_c_at_the_v3_question_is_one_line_and_sends_nothing(vhost, tmp_path):
    leader, follower = pty.openpty()
    env = script_env(vhost.url, log_dir=tmp_path)
    process = start_script(
        "v3_emitter_of_tasks.py", env=env, stdin=follower, stdout=follower, stderr=follower
    )
    os.close(follower)
    try:
        prompt = read_until(leader, b"y or n")
        assert b"Would you like to monitor RabbitMQ queues? y or n" in prompt
        # Python checks for a signal only once a read is interrupted: one that comes between
        # the prompt and the read waits for the answer. A person is never that quick.
        wait_until(lambda: state(process.pid) == "S", what="the emitter asleep in its read")
        process.send_signal(signal.SIGINT)
        rest = read_until(leader, b"never shows")  # everything, to the end of its output
        assert process.wait(timeout=20) == 1
    finally:
        process.kill()
        os.close(leader)
    assert rest.decode().strip().splitlines() == [
        "v3_emitter_of_tasks: error: interrupted (Ctrl+C) at the question; nothing was sent"
    ]
    assert vhost.ready_count("task_queue3", missing_ok=True) == 0


def state(pid: int) -> str:
    """A process's state as Linux reports it: R running, S asleep (waiting for input), ..."""
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0]


def test_admin_panel_points_at_the_broker_host():
    assert (
        admin_panel_address("amqp://u:p@rabbit.lan:5672/%2F") == "http://rabbit.lan:15672/#/queues"
    )
    assert admin_panel_address("amqp://[::1]/") == "http://[::1]:15672/#/queues"
