"""The v1, v2 and v3 pairs end to end, against the real broker, each test in its own vhost."""

from __future__ import annotations

import re
import signal
import socket
import threading
from collections import Counter

import pytest

from tests.support import PROJECT_ROOT, run_script, script_env, wait_until

pytestmark = pytest.mark.broker

TASKS_CSV_ROWS = (PROJECT_ROOT / "tasks.csv").read_text().splitlines()


def rows_done_by(worker) -> list[int]:
    return [int(m) for m in re.findall(r"\[x\] Done row (\d+)", worker.output)]


@pytest.mark.parametrize(
    ("version", "queue", "default"),
    [("v1", "task_queue", "New task..."), ("v2", "task_queue2", "Second task.....")],
)
def test_v1_v2_pair_end_to_end(vhost, workers, version, queue, default):
    env = script_env(vhost.url)
    worker = workers(f"{version}_listening_worker.py", env=env)
    worker.wait_for("Ready for work")

    sent = run_script(f"{version}_emitter_of_tasks.py", "Hello", "world..", env=env)
    default_sent = run_script(f"{version}_emitter_of_tasks.py", env=env)

    assert sent.returncode == 0, sent.stderr
    assert " [x] Sent Hello world.." in sent.stdout
    assert default_sent.returncode == 0, default_sent.stderr
    assert f" [x] Sent {default}" in default_sent.stdout
    worker.wait_for(" [x] Done.", count=2)
    assert worker.stop(signal.SIGINT) == 0
    assert worker.lines("Received") == [" [x] Received Hello world..", f" [x] Received {default}"]
    assert vhost.queue_info(queue)["durable"] is True
    assert vhost.ready_count(queue) == 0


@pytest.mark.parametrize(("version", "queue"), [("v1", "task_queue"), ("v2", "task_queue2")])
def test_v1_v2_emitters_publish_persistent_messages(vhost, version, queue):
    """Defect 3 of the original: its v2 emitter published non-persistent messages."""
    result = run_script(f"{version}_emitter_of_tasks.py", "keep me.", env=script_env(vhost.url))

    assert result.returncode == 0, result.stderr
    [(body, properties)] = vhost.take_all(queue)
    assert body == b"keep me."
    assert properties.delivery_mode == 2


def test_three_v3_workers_share_tasks_csv(vhost, workers):
    env = script_env(vhost.url, seconds_per_dot="0.05")
    team = [workers("v3_listening_worker.py", "--name", str(n), env=env) for n in (1, 2, 3)]
    for worker in team:
        worker.wait_for("ready for work")

    result = run_script("v3_emitter_of_tasks.py", env=env)

    assert result.returncode == 0, result.stderr
    assert "18 confirmed by the broker" in result.stdout
    wait_until(lambda: sum(len(rows_done_by(w)) for w in team) >= 18, what="18 rows done")
    done = Counter()
    for worker in team:
        assert worker.stop(signal.SIGTERM) == 0
        done.update(rows_done_by(worker))
        assert rows_done_by(worker), f"worker got no work:\n{worker.output}"
    assert done == Counter(range(1, 19))  # every row once, and only once
    received = "\n".join(line for w in team for line in w.lines("Received"))
    for number, text in enumerate(TASKS_CSV_ROWS, start=1):
        assert re.search(
            rf"Received row {number} by worker [123] at [\d:.]+: {re.escape(text)}$",
            received,
            re.MULTILINE,
        )


def test_fair_dispatch_long_task_does_not_hold_up_short_ones(vhost, workers, tmp_path):
    """Two workers, one long task then twenty short ones: the long task's worker does <= 1 more."""
    csv_file = tmp_path / "tasks.csv"
    csv_file.write_text("Long task" + "." * 40 + "\n" + "short task.\n" * 20)
    env = script_env(vhost.url, seconds_per_dot="0.05")  # long: 2 s, short: 0.05 s each
    pair = [workers("v3_listening_worker.py", "--name", n, env=env) for n in ("a", "b")]
    for worker in pair:
        worker.wait_for("ready for work")

    assert run_script("v3_emitter_of_tasks.py", str(csv_file), env=env).returncode == 0

    wait_until(lambda: sum(len(rows_done_by(w)) for w in pair) >= 21, what="21 rows done")
    holder, other = sorted(pair, key=lambda w: 1 not in rows_done_by(w))
    for worker in pair:
        assert worker.stop() == 0
    short_rows_by_holder = [row for row in rows_done_by(holder) if row != 1]
    assert len(short_rows_by_holder) <= 1
    assert sorted(rows_done_by(holder) + rows_done_by(other)) == list(range(1, 22))


def test_v3_rows_wait_durably_when_no_worker_runs(vhost):
    result = run_script("v3_emitter_of_tasks.py", env=script_env(vhost.url))

    assert result.returncode == 0, result.stderr
    assert vhost.queue_info("task_queue3")["durable"] is True
    messages = vhost.take_all("task_queue3")
    assert [body.decode() for body, _ in messages] == TASKS_CSV_ROWS
    assert {properties.delivery_mode for _, properties in messages} == {2}
    assert [properties.headers["row"] for _, properties in messages] == list(range(1, 19))


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
            upstream = socket.create_connection(("127.0.0.1", 5672))
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
    """Defect 4: the original opened a new connection for every row."""
    csv_file = tmp_path / "many.csv"
    csv_file.write_text("".join(f"task {n}.\n" for n in range(500)))
    relay = ConnectionCounter()
    url = vhost.url.replace(":5672/", f":{relay.port}/")
    try:
        result = run_script("v3_emitter_of_tasks.py", str(csv_file), env=script_env(url))
    finally:
        relay.close()

    assert result.returncode == 0, result.stderr
    assert relay.accepted == 1
    assert vhost.ready_count("task_queue3") == 500


def test_v3_emitter_reads_the_file_it_is_given(vhost, tmp_path):
    """Defect 5: the original's CSV function ignored its file_path parameter."""
    csv_file = tmp_path / "mine.csv"
    csv_file.write_text('only,this\n\n" ",\nand "that".\n')

    result = run_script(
        "v3_emitter_of_tasks.py", str(csv_file), "--queue", "mine", env=script_env(vhost.url)
    )

    assert result.returncode == 0, result.stderr
    assert "Sent 2 rows of mine.csv to mine" in result.stdout
    assert "2 blank rows skipped" in result.stdout
    messages = vhost.take_all("mine")
    assert [body for body, _ in messages] == [b"only this", b'and "that".']
    assert [properties.headers["row"] for _, properties in messages] == [1, 4]


@pytest.mark.parametrize(
    ("script", "options"),
    [
        ("v3_emitter_of_tasks.py", ["csv_file", "--url", "--queue", "--queue-type", "--quiet"]),
        ("v3_listening_worker.py", ["--url", "--queue", "--queue-type", "--name", "--prefetch"]),
    ],
)
def test_v3_help_explains_every_option(script, options):
    result = run_script(script, "--help", env=script_env("amqp://unused/"))
    assert result.returncode == 0
    for option in options + ["RABBITMQ_URL"]:
        assert option in result.stdout


def test_v3_flags_override_the_environment(vhost):
    env = script_env("amqp://guest:guest@127.0.0.1:1/")  # RABBITMQ_URL points nowhere
    result = run_script("v3_emitter_of_tasks.py", "--url", vhost.url, "--queue", "flagged", env=env)
    assert result.returncode == 0, result.stderr
    assert vhost.ready_count("flagged") == 18
