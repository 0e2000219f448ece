"""The emitters against the broker: what they send, and how they fail.

Persistent messages, one connection, the file given, flags, rows refused or unroutable,
CSV files that cannot be read, no terminal, a closed pipe."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import socket
import struct
import subprocess
import termios
import threading
import time

import pytest

from harness.broker import ADDRESS, api
from harness.children import run_script, script_env, start_script, wait_until
from tests.support import EMITTERS
from tools.management import quoted
from utils.console_lines import done_rows, sent_rows

pytestmark = pytest.mark.broker


@pytest.mark.parametrize(("version", "queue"), [("v1", "task_queue"), ("v2", "task_queue2")])
def test_v1_v2_emitters_publish_persistent_messages(vhost, tmp_path, version, queue):
    """Each message is published persistent (delivery mode 2)."""
    env = script_env(vhost.url, log_dir=tmp_path)
    result = run_script(f"{version}_emitter_of_tasks.py", "keep me.", env=env)

    assert result.returncode == 0, result.stderr
    [(body, properties)] = vhost.take_all(queue)
    assert body == b"keep me."
    assert properties.delivery_mode == 2


class ConnectionCounter:
    """A TCP relay in front of the broker that counts the connections made through it."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.accepted = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            self.accepted += 1
            host, _, port = ADDRESS.rpartition(":")
            upstream = socket.create_connection((host, int(port)))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            sink.close()

    def close(self) -> None:
        self.server.close()


def test_v3_emitter_uses_one_connection_for_the_whole_file(vhost, tmp_path):
    """The whole file goes over one connection, however many rows it has."""
    csv_file = tmp_path / "many.csv"
    csv_file.write_text("".join(f"task {n}.\n" for n in range(500)))
    relay = ConnectionCounter()
    url = vhost.url.replace(f"{ADDRESS}/", f"127.0.0.1:{relay.port}/")
    try:
        env = script_env(url, log_dir=tmp_path)
        result = run_script("v3_emitter_of_tasks.py", str(csv_file), env=env)
    finally:
        relay.close()

    assert result.returncode == 0, result.stderr
    assert relay.accepted == 1
    assert vhost.ready_count("task_queue3") == 500


def test_v3_emitter_reads_the_file_it_is_given(vhost, tmp_path):
    """The CSV file named on the command line is the one read."""
    csv_file = tmp_path / "mine.csv"
    csv_file.write_text('only,this\n\n" ",\nand "that".\n')

    env = script_env(vhost.url, log_dir=tmp_path)
    result = run_script("v3_emitter_of_tasks.py", str(csv_file), "--queue", "mine", env=env)

    assert result.returncode == 0, result.stderr
    assert "Sent 2 rows of mine.csv to mine" in result.stdout
    assert "2 blank rows skipped" in result.stdout
    messages = vhost.take_all("mine")
    assert [body for body, _ in messages] == [b"only this", b'and "that".']
    assert [properties.headers["row"] for _, properties in messages] == [1, 4]


@pytest.mark.parametrize(
    ("content", "args", "warning"),
    [
        ("", [], " [!] {csv} has no task rows: nothing was sent"),
        ("  ,\n\n", [], " [!] {csv} has no task rows: nothing was sent"),
        (
            "a.\nb.\n",
            ["--from-row", "3"],
            " [!] {csv} has no task rows from row 3 on: nothing was sent",
        ),
    ],
)
def test_a_csv_with_no_task_rows_is_one_line_naming_the_file(
    vhost, tmp_path, content, args, warning
):
    csv_file = tmp_path / "empty.csv"
    csv_file.write_text(content)
    env = script_env(vhost.url, log_dir=tmp_path)
    result = run_script("v3_emitter_of_tasks.py", str(csv_file), *args, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [warning.format(csv=csv_file)]
    assert result.stdout == ""  # no summary of nothing


def test_the_progress_bar_shows_the_bytes_read_of_the_total_the_rate_and_the_time_left(
    vhost, tmp_path
):
    csv_file = tmp_path / "big.csv"
    csv_file.write_text("".join(f"task {row}.\n" for row in range(1, 20_001)))  # 228 kB
    leader, follower = pty.openpty()  # a terminal: the bar is for people, not for pipes
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))  # 120 wide
    env = script_env(vhost.url, log_dir=tmp_path)
    process = start_script(
        "v3_emitter_of_tasks.py", str(csv_file), env=env, stdout=follower, stderr=follower
    )
    os.close(follower)
    output = b""
    try:
        while chunk := read_some(leader):
            output += chunk
        assert process.wait(timeout=60) == 0
    finally:
        process.kill()
        os.close(leader)
    # tqdm redraws its line with \r: the last drawing is the end of the run
    last_bar = re.findall(r"read: +\d+%[^\r\n]*", output.decode())[-1]
    assert re.fullmatch(
        r"read: 100%\|█+\| 224k/224k \[\d\d:\d\d<00:00, [\d.]+[kM]?B/s, 20000 rows confirmed\]",
        last_bar.strip(),
    ), last_bar
    first_bar = re.findall(r"read: +\d+%[^\r\n]*", output.decode())[0]
    assert re.fullmatch(r"read: +0%\| +\| 0.00/224k \[00:00<\?, \?B/s\]", first_bar)  # the total
    assert " [x] Sent row" not in output.decode()  # the bar instead of a line per row
    assert vhost.ready_count("task_queue3") == 20_000


def read_some(fd: int) -> bytes:
    """What a pty has to read, waiting up to 60 s; b"" once the child has closed it."""
    ready, _, _ = select.select([fd], [], [], 60)
    try:
        return os.read(fd, 65536) if ready else b""
    except OSError:  # the child closed the terminal
        return b""


def test_v3_flags_override_the_environment(vhost, tmp_path):
    # RABBITMQ_URL points nowhere
    env = script_env("amqp://guest:guest@127.0.0.1:1/", log_dir=tmp_path)
    result = run_script("v3_emitter_of_tasks.py", "--url", vhost.url, "--queue", "flagged", env=env)
    assert result.returncode == 0, result.stderr
    assert vhost.ready_count("flagged") == 18


# --- rows the broker does not take --------------------------------------------------------


def test_rows_refused_by_a_reject_publish_length_limit_are_named(vhost, tmp_path):
    api(
        "PUT",
        f"/policies/{quoted(vhost.name)}/five-at-most",
        {
            "pattern": "^task_queue3$",
            "apply-to": "queues",
            "definition": {"max-length": 5, "overflow": "reject-publish"},
        },
    )
    wait_until(lambda: policy_applied(vhost), what="the policy to be listed")

    env = script_env(vhost.url, log_dir=tmp_path)
    started = time.monotonic()
    result = run_script("v3_emitter_of_tasks.py", "--retry-for", "1", env=env)

    assert result.returncode == 1
    assert time.monotonic() - started >= 1  # --retry-for spent, not given up at once
    warning, line = result.stderr.splitlines()
    assert warning == (
        " [!] RabbitMQ refused row 6 (a nack); publishing the rows it refuses again, reading no "
        "new row meanwhile, for up to 1 s (--retry-for)"
    )
    assert "error: RabbitMQ refused rows for 1 s (--retry-for): task_queue3 may be at" in line
    assert "13 of 18 rows not confirmed (13 refused by the broker)" in line
    assert ": rows 6-18 (5 confirmed)" in line
    assert vhost.ready_count("task_queue3") == 5


def test_rows_refused_are_published_again_once_workers_make_room(vhost, workers, tmp_path):
    with vhost.connection() as connection:  # room for five tasks; the rest are refused
        arguments = {"x-max-length": 5, "x-overflow": "reject-publish"}
        connection.channel().queue_declare("task_queue3", durable=True, arguments=arguments)
    env = script_env(vhost.url, log_dir=tmp_path, seconds_per_dot="0")
    emitter = workers("v3_emitter_of_tasks.py", env=env)
    emitter.wait_for(" [!] RabbitMQ refused ")
    worker = workers("v3_listening_worker.py", env=env)

    assert emitter.wait(timeout=60).code == 0, emitter.output
    summary = re.search(r" 18 confirmed by the broker, 0 blank rows skipped(.*)\.$", emitter.output)
    assert summary, emitter.output
    again = re.fullmatch(
        r", (\d+) republished \(so up to \1 may be in the queue twice\)", summary[1]
    )
    assert again, summary[1]  # the refused rows, published again
    wait_until(lambda: set(done_rows(worker.output)) == set(range(1, 19)), what="rows 1-18 done")
    assert worker.stop().code == 0
    total = len(done_rows(worker.output)) + vhost.ready_count("task_queue3")  # done, ready
    assert 18 <= total <= 18 + int(again[1])  # none lost; twice at most those published again


def test_a_stop_while_refused_rows_wait_ends_the_run_naming_them(vhost, workers, tmp_path):
    with vhost.connection() as connection:  # room for five tasks; the rest are refused
        arguments = {"x-max-length": 5, "x-overflow": "reject-publish"}
        connection.channel().queue_declare("task_queue3", durable=True, arguments=arguments)
    emitter = workers("v3_emitter_of_tasks.py", env=script_env(vhost.url, log_dir=tmp_path))
    emitter.wait_for(" [!] RabbitMQ refused row 6 (a nack)")

    ended = emitter.stop(signal.SIGTERM)

    last = emitter.output.strip().splitlines()[-1]
    assert ended.code == 1, emitter.output
    assert last.startswith("v3_emitter_of_tasks: error: stopped by SIGTERM before every row")
    assert "13 of 18 rows not confirmed (13 refused by the broker): rows 6-18 (5 " in last
    assert ended.seconds < 30  # not the 60 s of --retry-for


def policy_applied(vhost) -> bool:
    policies = api("GET", f"/policies/{quoted(vhost.name)}")
    assert isinstance(policies, list)
    return any(policy["name"] == "five-at-most" for policy in policies)


def test_rows_sent_after_their_queue_is_deleted_are_named_unroutable(vhost, tmp_path):
    # The queue is deleted while the emitter is still sending: every row after that reaches
    # no queue and comes back (mandatory); the broker still acks it, so only the return tells.
    rows = 50_000  # seconds of sending here; the queue goes within a tenth of a second
    csv_file = tmp_path / "many.csv"
    csv_file.write_text("".join(f"task {row}\n" for row in range(1, rows + 1)))
    emitter = start_script(
        "v3_emitter_of_tasks.py",
        str(csv_file),
        "--quiet",
        env=script_env(vhost.url, log_dir=tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_until(
        lambda: vhost.ready_count("task_queue3", missing_ok=True) > 0,
        what="the first row in the queue",
    )
    vhost.delete_queue("task_queue3")
    _out, err = emitter.communicate(timeout=120)

    assert emitter.returncode == 1
    [line] = err.strip().splitlines()
    pattern = (
        rf"(\d+) of {rows} rows not confirmed \((\d+) unroutable \(no such queue\)\): "
        rf"rows (\d+)-{rows} \((\d+) confirmed\)"
    )
    match = re.search(pattern, line)
    assert match, line
    failed, unroutable, first_unroutable, confirmed = map(int, match.groups())
    assert failed == unroutable == rows - first_unroutable + 1  # the whole tail, nothing else
    assert confirmed == first_unroutable - 1 > 0


# --- bad input ------------------------------------------------------------------------------


def test_bytes_that_are_not_utf8_stop_the_emitter_naming_file_line_and_rows_sent(vhost, tmp_path):
    csv_file = tmp_path / "excel.csv"
    csv_file.write_bytes(b"\xef\xbb\xbfFirst.\nSecond..\nCaf\xe9 in Latin-1\nFourth.\n")

    env = script_env(vhost.url, log_dir=tmp_path)
    result = run_script("v3_emitter_of_tasks.py", str(csv_file), env=env)

    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert f"{csv_file}, line 3: not UTF-8 text" in line
    assert "2 rows were already sent (2 confirmed)" in line
    assert [body for body, _ in vhost.take_all("task_queue3")] == [b"First.", b"Second.."]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "no such file"),
        ("dir", "is a directory"),
        (b"one.\ntwo\x00.\n", "line 2: contains a NUL byte"),
        (b'ok.\n"' + b"x" * 200_000 + b'"\n', "line 2: not valid CSV (field larger than"),
    ],
)
def test_unreadable_csv_files_get_a_clear_line(vhost, tmp_path, content, expected):
    path = tmp_path / "input.csv"
    if content == "dir":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)

    env = script_env(vhost.url, log_dir=tmp_path)
    result = run_script("v3_emitter_of_tasks.py", str(path), env=env)

    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert str(path) in line
    assert expected in line
    assert "Traceback" not in result.stdout + result.stderr


def test_quoted_fields_with_commas_and_line_breaks_keep_their_row(vhost, tmp_path):
    csv_file = tmp_path / "quoted.csv"
    csv_file.write_text('"Eat, sleep",code.\n"two\nlines."\nlast\n')

    env = script_env(vhost.url, log_dir=tmp_path)
    assert run_script("v3_emitter_of_tasks.py", str(csv_file), env=env).returncode == 0

    messages = vhost.take_all("task_queue3")
    assert [body.decode() for body, _ in messages] == ["Eat, sleep code.", "two\nlines.", "last"]
    assert [p.headers["row"] for _, p in messages] == [1, 2, 4]


# --- no terminal, a pipe that closes --------------------------------------------------------


@pytest.mark.parametrize("emitter", EMITTERS)
def test_emitters_never_wait_for_a_terminal_that_is_not_there(vhost, tmp_path, emitter):
    """Without a terminal (here stdin is an open, silent pipe) the admin-panel offer is skipped."""
    process = start_script(
        emitter,
        env=script_env(vhost.url, log_dir=tmp_path),
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


def test_the_emitter_finishes_its_work_when_its_output_pipe_closes(vhost, tmp_path):
    """`python v3_emitter_of_tasks.py | head -1`: every row is still sent and confirmed."""
    process = start_script(
        "v3_emitter_of_tasks.py",
        env=script_env(vhost.url, log_dir=tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert sent_rows(process.stdout.readline().decode()) == [1]
    process.stdout.close()  # as `head -1` does

    assert process.wait(timeout=30) == 0
    assert process.stderr.read() == b""
    assert vhost.ready_count("task_queue3") == 18
