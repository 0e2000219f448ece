"""Nothing lost, nothing hangs: workers, broker and input under fault, on the real broker."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time

import pika.exceptions
import pytest

from tests.support import PROJECT_ROOT, api, quoted, run_script, script_env, wait_until

pytestmark = pytest.mark.broker

WORKERS = ["v1_listening_worker.py", "v2_listening_worker.py", "v3_listening_worker.py"]
EMITTERS = ["v1_emitter_of_tasks.py", "v2_emitter_of_tasks.py", "v3_emitter_of_tasks.py"]
QUEUE_OF = {"v1": "task_queue", "v2": "task_queue2", "v3": "task_queue3"}
ALL_SCRIPTS = WORKERS + EMITTERS


def done_rows(worker) -> list[int]:
    return [int(row) for row in re.findall(r"\[x\] Done row (\d+)", worker.output)]


# --- workers stopped, killed, or slow -------------------------------------------------------


def test_a_worker_killed_mid_task_loses_nothing(vhost, workers, tmp_path):
    env = script_env(vhost.url, seconds_per_dot="0.1")
    victim = workers("v3_listening_worker.py", "--name", "victim", env=env)
    victim.wait_for("ready for work")
    csv_file = tmp_path / "one.csv"
    csv_file.write_text("A long task" + "." * 50 + "\n")  # 5 s of work
    assert run_script("v3_emitter_of_tasks.py", str(csv_file), env=env).returncode == 0
    victim.wait_for("Received row 1")

    victim.kill()  # SIGKILL: no chance to finish or to say goodbye
    rescuer = workers("v3_listening_worker.py", "--name", "rescuer", env=env)

    rescuer.wait_for("Done row 1 ", timeout=30)
    assert "Received row 1 (redelivered) by worker rescuer" in rescuer.output
    assert rescuer.stop() == 0
    assert vhost.ready_count("task_queue3") == 0


@pytest.mark.parametrize("worker_script", WORKERS)
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_mid_task_exits_0_and_the_task_is_done_or_back(
    vhost, workers, worker_script, signum
):
    """The worker starts with SIGINT ignored, as a background job does: it must install its own."""
    version = worker_script[:2]
    env = script_env(vhost.url, seconds_per_dot="0.5")
    worker = workers(worker_script, env=env)
    worker.wait_for("eady for work")
    vhost.publish(QUEUE_OF[version], [b"Mid-task signal...."])  # 2 s of work
    worker.wait_for("Received")

    assert worker.stop(signum) == 0

    finished = "Done" in worker.output
    waiting = vhost.ready_count(QUEUE_OF[version])
    assert (finished, waiting) in [(True, 0), (False, 1)]
    if version == "v3":  # the v3 worker finishes the task in hand before it stops
        assert finished


def test_a_second_signal_stops_the_v3_worker_at_once_and_requeues_the_task(vhost, workers):
    env = script_env(vhost.url, seconds_per_dot="1")
    worker = workers("v3_listening_worker.py", env=env)
    worker.wait_for("ready for work")
    vhost.publish("task_queue3", [b"Very long task.........."])  # 10 s of work
    worker.wait_for("Received")

    worker.send(signal.SIGTERM)
    time.sleep(0.3)  # let the first signal be handled on its own, as two Ctrl+C presses are
    started = time.monotonic()
    assert worker.stop(signal.SIGINT) == 0

    assert time.monotonic() - started < 5
    assert "Done" not in worker.output
    assert vhost.ready_count("task_queue3") == 1


def test_work_longer_than_the_heartbeat_keeps_the_connection(vhost, workers):
    url = vhost.url + "?heartbeat=2"
    env = script_env(url, seconds_per_dot="1")
    worker = workers("v3_listening_worker.py", env=env)
    worker.wait_for("ready for work")
    vhost.publish("task_queue3", [b"Ten seconds.........."])

    worker.wait_for("Done", timeout=30)
    assert worker.stop() == 0

    assert worker.output.count("Received") == 1
    assert "redelivered" not in worker.output
    assert "lost its connection" not in worker.output
    assert "reconnect" not in worker.output
    assert vhost.ready_count("task_queue3") == 0


def test_a_worker_whose_queue_is_deleted_starts_over_and_takes_new_tasks(vhost, workers):
    # Deleting the queue (in the admin panel, say) cancels its consumers; the channel and
    # the connection stay open. A worker that missed that would wait for ever, idle.
    env = script_env(vhost.url)
    worker = workers("v3_listening_worker.py", env=env)
    worker.wait_for("ready for work")
    with vhost.connection() as connection:
        connection.channel().queue_delete("task_queue3")

    worker.wait_for("the broker cancelled consuming: was task_queue3 deleted?; starting over")
    worker.wait_for("ready for work", count=2)  # it declared the queue again
    assert run_script("v3_emitter_of_tasks.py", env=env).returncode == 0
    wait_until(lambda: len(done_rows(worker)) >= 18, what="18 rows done")
    assert worker.stop() == 0

    assert sorted(done_rows(worker)) == list(range(1, 19))


@pytest.mark.parametrize("script", ["v1_listening_worker.py", "v2_listening_worker.py"])
def test_v1_v2_workers_whose_queue_is_deleted_say_so_and_exit_1(vhost, workers, script):
    queue = QUEUE_OF[script[:2]]
    worker = workers(script, env=script_env(vhost.url))
    worker.wait_for("Ready for work")
    with vhost.connection() as connection:
        connection.channel().queue_delete(queue)

    assert worker.process.wait(timeout=10) == 1
    [line] = worker.lines("error:")
    assert line.endswith(
        f"error: the broker cancelled consuming: was {queue} deleted? Start the worker "
        "again to declare it anew"
    )
    assert "Traceback" not in worker.output


# --- poison messages and refused rows -------------------------------------------------------


@pytest.mark.parametrize("version", ["v1", "v2", "v3"])
def test_a_poison_message_is_set_aside_and_work_goes_on(vhost, workers, version):
    queue = QUEUE_OF[version]
    env = script_env(vhost.url, seconds_per_dot="0")
    vhost.publish(queue, [b"before.", b"\xff\xfe not UTF-8", b"after."])
    worker = workers(f"{version}_listening_worker.py", env=env)

    worker.wait_for("Done", count=2)
    assert worker.stop() == 0

    [(body, properties)] = vhost.take_all(f"{queue}.dead-letter")
    assert body == b"\xff\xfe not UTF-8"
    assert properties.headers["x-set-aside-reason"] == "body is not UTF-8"
    assert properties.delivery_mode == 2
    assert vhost.ready_count(queue) == 0
    assert "not UTF-8" in worker.output


def test_rows_refused_by_a_reject_publish_length_limit_are_named(vhost):
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

    result = run_script("v3_emitter_of_tasks.py", env=script_env(vhost.url))

    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert "13 of 18 rows not confirmed (13 refused by the broker)" in line
    assert ": rows 6-18 (5 confirmed)" in line
    assert vhost.ready_count("task_queue3") == 5


def policy_applied(vhost) -> bool:
    return any(p["name"] == "five-at-most" for p in api("GET", f"/policies/{quoted(vhost.name)}"))


def messages_in(vhost, queue: str) -> int:
    try:
        return vhost.ready_count(queue)
    except pika.exceptions.ChannelClosedByBroker:  # 404: not declared yet
        return 0


def test_rows_sent_after_their_queue_is_deleted_are_named_unroutable(vhost, tmp_path):
    # The queue is deleted while the emitter is still sending: every row after that reaches
    # no queue and comes back (mandatory); the broker still acks it, so only the return tells.
    rows = 50_000  # seconds of sending here; the queue goes within a tenth of a second
    csv_file = tmp_path / "many.csv"
    csv_file.write_text("".join(f"task {row}\n" for row in range(1, rows + 1)))
    emitter = subprocess.Popen(
        [sys.executable, str(PROJECT_ROOT / "v3_emitter_of_tasks.py"), str(csv_file), "--quiet"],
        env=script_env(vhost.url),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_until(lambda: messages_in(vhost, "task_queue3") > 0, what="the first row in the queue")
    with vhost.connection() as connection:
        connection.channel().queue_delete("task_queue3")
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


def test_a_queue_with_other_arguments_gets_a_clear_line(vhost):
    with vhost.connection() as connection:
        connection.channel().queue_declare(
            "task_queue3", durable=True, arguments={"x-max-length": 100}
        )

    for script in ("v3_emitter_of_tasks.py", "v3_listening_worker.py"):
        result = run_script(script, env=script_env(vhost.url))
        assert result.returncode == 1
        [line] = result.stderr.strip().splitlines()
        assert "PRECONDITION_FAILED - inequivalent arg 'x-max-length'" in line
        assert "queue 'task_queue3'" in line
        assert "use another name with --queue, or delete the old queue" in line


# --- bad input ------------------------------------------------------------------------------


def test_bytes_that_are_not_utf8_stop_the_emitter_naming_file_line_and_rows_sent(vhost, tmp_path):
    csv_file = tmp_path / "excel.csv"
    csv_file.write_bytes(b"\xef\xbb\xbfFirst.\nSecond..\nCaf\xe9 in Latin-1\nFourth.\n")

    result = run_script("v3_emitter_of_tasks.py", str(csv_file), env=script_env(vhost.url))

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

    result = run_script("v3_emitter_of_tasks.py", str(path), env=script_env(vhost.url))

    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert str(path) in line
    assert expected in line
    assert "Traceback" not in result.stdout + result.stderr


def test_quoted_fields_with_commas_and_line_breaks_keep_their_row(vhost, tmp_path):
    csv_file = tmp_path / "quoted.csv"
    csv_file.write_text('"Eat, sleep",code.\n"two\nlines."\nlast\n')

    assert (
        run_script("v3_emitter_of_tasks.py", str(csv_file), env=script_env(vhost.url)).returncode
        == 0
    )

    messages = vhost.take_all("task_queue3")
    assert [body.decode() for body, _ in messages] == ["Eat, sleep code.", "two\nlines.", "last"]
    assert [p.headers["row"] for _, p in messages] == [1, 2, 4]


# --- bad settings and unreachable brokers, all six scripts -----------------------------------


@pytest.mark.parametrize("worker_script", WORKERS)
@pytest.mark.parametrize("value", ["-1", "fast"])
def test_bad_seconds_per_dot_is_a_usage_error_naming_it(worker_script, value):
    result = run_script(worker_script, env=script_env("amqp://localhost/", seconds_per_dot=value))
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert f"SECONDS_PER_DOT must be a number of seconds, 0 or more (got '{value}')" in line


@pytest.mark.parametrize("script", ALL_SCRIPTS)
def test_a_malformed_url_is_a_usage_error_without_the_password(script):
    result = run_script(script, env=script_env("amqp://bob:hunter2@localhost:notaport/"))
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert "RABBITMQ_URL" in line
    assert "hunter2" not in result.stdout + result.stderr


@pytest.mark.parametrize("script", ALL_SCRIPTS)
@pytest.mark.parametrize(
    ("url", "cause"),
    [
        ("amqp://guest:guest@127.0.0.1:1/", "127.0.0.1:1: Connection refused"),
        ("amqp://guest:Wr0ngPassw0rd@127.0.0.1:5672/", "127.0.0.1:5672: login refused"),
        ("amqp://guest:guest@127.0.0.1:5672/no-such-vhost", "virtual host 'no-such-vhost'"),
    ],
)
def test_an_unreachable_broker_gives_one_line_exit_1_within_10_s(script, url, cause):
    log_file = PROJECT_ROOT / "logs" / f"{script[:-3]}.log"
    before = log_file.stat().st_size if log_file.exists() else 0
    started = time.monotonic()

    result = run_script(script, env=script_env(url))

    assert time.monotonic() - started < 10
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert cause in line
    assert "Wr0ngPassw0rd" not in result.stdout + result.stderr
    assert "Wr0ngPassw0rd" not in log_file.read_text()[before:]


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
        result = run_script(script, env=script_env(f"amqp://guest:guest@127.0.0.1:{port}/"))
    finally:
        server.kill()
        server.wait()
    assert time.monotonic() - started < 10
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert f"127.0.0.1:{port}: no AMQP handshake in time" in line


def test_a_task_that_fails_twice_is_set_aside_and_work_goes_on(vhost, workers):
    """Work that raises (here: sleeping 2 x 1e308 s overflows) is retried once, then set aside."""
    env = script_env(vhost.url, seconds_per_dot="1e308")
    vhost.publish("task_queue3", [b"Overflowing task..", b"Instant task"])
    worker = workers("v3_listening_worker.py", env=env)

    worker.wait_for("Done")
    wait_until(
        lambda: "set aside in task_queue3.dead-letter" in worker.output,
        what="the failing task to be set aside",
    )
    assert worker.stop() == 0

    assert "failed (OverflowError" in worker.output
    [(body, properties)] = vhost.take_all("task_queue3.dead-letter")
    assert body == b"Overflowing task.."
    assert properties.headers["x-set-aside-reason"].startswith("failed on redelivery: Overflow")
    assert vhost.ready_count("task_queue3") == 0


def test_with_several_urls_the_scripts_use_the_first_broker_that_answers(vhost, workers):
    urls = f"amqp://guest:guest@127.0.0.1:1/,{vhost.url}"  # the first broker is down
    env = script_env(urls, seconds_per_dot="0")
    worker = workers("v3_listening_worker.py", env=env)
    worker.wait_for("ready for work")

    result = run_script("v3_emitter_of_tasks.py", env=env)

    assert result.returncode == 0, result.stderr
    worker.wait_for("[x] Done", count=18)
    assert worker.stop() == 0
