"""The offer to open RabbitMQ's admin panel, in a terminal (a pty) as a user answers it: its
address and login, the answers taken, Ctrl+C or SIGTERM at the question (one line, exit
130, in every emitter), and a broker refusing the login before the question is asked."""

from __future__ import annotations

import os
import pty
import select
import signal
import time

import pytest

from harness.children import script_env, start_script, wait_until
from utils.admin_panel import QUESTION, admin_panel_address, login_of


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


class Terminal:
    """An emitter run in a terminal of its own (a pty), as a user runs it."""

    def __init__(self, emitter: str, env: dict[str, str]) -> None:
        self.leader, follower = pty.openpty()
        self.process = start_script(
            emitter, env=env, stdin=follower, stdout=follower, stderr=follower
        )
        os.close(follower)

    def read_until(self, text: bytes) -> str:
        return read_until(self.leader, text).decode()

    def answer(self, line: str) -> None:
        os.write(self.leader, line.encode() + b"\n")

    def rest(self) -> str:
        """Everything it prints to its end; then its exit status."""
        return read_until(self.leader, b"never shows").decode()

    def close(self) -> None:
        self.process.kill()
        self.process.wait()
        os.close(self.leader)


@pytest.fixture
def terminal():
    opened: list[Terminal] = []

    def start(emitter: str, env: dict[str, str]) -> Terminal:
        opened.append(Terminal(emitter, env))
        return opened[-1]

    yield start
    for each in opened:
        each.close()


@pytest.mark.broker
@pytest.mark.parametrize(
    ("emitter", "queue"),
    [
        ("v1_emitter_of_tasks.py", "task_queue"),
        ("v2_emitter_of_tasks.py", "task_queue2"),
        ("v3_emitter_of_tasks.py", "task_queue3"),
    ],
)
@pytest.mark.parametrize(
    ("signum", "cause"),
    [(signal.SIGINT, "interrupted (Ctrl+C)"), (signal.SIGTERM, "stopped by SIGTERM")],
    ids=["Ctrl+C", "SIGTERM"],
)
def test_a_signal_at_the_question_is_one_line_exit_130_and_sends_nothing(
    vhost, tmp_path, terminal, emitter, queue, signum, cause
):
    emitting = terminal(emitter, script_env(vhost.url, log_dir=tmp_path))
    assert QUESTION in emitting.read_until(b"y or n")
    # Python checks for a signal only once a read is interrupted: one that comes between
    # the prompt and the read waits for the answer. A person is never that quick.
    wait_until(lambda: state(emitting.process.pid) == "S", what="the emitter asleep in its read")
    emitting.process.send_signal(signum)
    rest = emitting.rest()

    assert emitting.process.wait(timeout=20) == 130, rest
    assert rest.strip().splitlines() == [
        f"{emitter[:-3]}: error: {cause} at the question; nothing was sent"
    ]
    assert vhost.ready_count(queue, missing_ok=True) == 0


@pytest.mark.broker
def test_yes_is_yes_and_an_answer_neither_yes_nor_no_is_asked_again(vhost, tmp_path, terminal):
    env = script_env(vhost.url, log_dir=tmp_path, BROWSER="false")  # no browser starts
    emitting = terminal("v2_emitter_of_tasks.py", env)
    emitting.read_until(b"y or n")
    emitting.answer("maybe")
    assert "Please answer y or n: " in emitting.read_until(b"y or n: ")
    emitting.answer("YES")
    rest = emitting.rest()

    assert emitting.process.wait(timeout=20) == 0, rest
    assert (
        "No browser could start here: open http://127.0.0.1:15672/#/queues yourself and log in "
        "as guest, password guest (from this machine only)"
    ) in rest
    assert vhost.ready_count("task_queue2") == 1


@pytest.mark.broker
@pytest.mark.parametrize("emitter", ["v1_emitter_of_tasks.py", "v3_emitter_of_tasks.py"])
def test_a_wrong_password_shows_before_the_question(vhost, tmp_path, terminal, emitter):
    wrong = vhost.url.replace("guest:guest@", "guest:not-the-password@")
    emitting = terminal(emitter, script_env(wrong, log_dir=tmp_path))
    rest = emitting.rest()

    assert emitting.process.wait(timeout=20) == 1, rest
    assert QUESTION not in rest
    [line] = rest.strip().splitlines()
    assert line.startswith(f"{emitter[:-3]}: error: ")
    assert "login refused" in line and "not-the-password" not in line


def state(pid: int) -> str:
    """A process's state as Linux reports it: R running, S asleep (waiting for input), ..."""
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0]


def test_admin_panel_points_at_the_broker_host():
    assert (
        admin_panel_address("amqp://u:p@rabbit.lan:5672/%2F") == "http://rabbit.lan:15672/#/queues"
    )
    assert admin_panel_address("amqp://[::1]/") == "http://[::1]:15672/#/queues"


def test_the_login_is_guest_s_or_the_url_s_user_never_a_password():
    assert login_of("amqp://localhost/") == (
        "log in as guest, password guest (from this machine only)"
    )
    assert login_of("amqp://ana:s3cret@rabbit.lan/") == (
        "log in as ana, with the password of RABBITMQ_URL"
    )
