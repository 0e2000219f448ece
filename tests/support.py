"""What the tests (and bench/) share: a vhost of one's own, the scripts run as children."""

from __future__ import annotations

import dataclasses
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pika
import pika.exceptions

from tools.management import Api, ManagementError, quoted
from utils import PROJECT_ROOT
from utils.platforms import python_command
from utils.queues import messages_ready
from utils.util_logger import LOG_DIR_VARIABLE

# The broker under test, from the environment: by default the local broker on 5672;
# scripts/rabbitmq4_node.sh `with` points these at a RabbitMQ 4 node of its own.
AMQP = os.environ.get("RABBITMQ_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672").rstrip("/")
MANAGEMENT = os.environ.get("RABBITMQ_TEST_MANAGEMENT_URL", "http://127.0.0.1:15672").rstrip("/")
ADDRESS = urllib.parse.urlsplit(AMQP).netloc.rpartition("@")[2]  # its AMQP host:port
MANAGEMENT_PORT = urllib.parse.urlsplit(MANAGEMENT).port or 80
MANAGEMENT_ARGS = ("--management-port", str(MANAGEMENT_PORT))  # the tools' option for it
# the command that runs rabbitmqctl against it (the host's, through `sudo -n` unless root)
CTL = shlex.split(os.environ.get("RABBITMQ_TEST_CTL", "")) or [
    *([] if os.geteuid() == 0 else ["sudo", "-n"]),
    "rabbitmqctl",
]
UNREACHABLE = "amqp://guest:guest@127.0.0.1:1/%2F"  # nothing listens on port 1
GUEST = dataclasses.replace(  # its management API, as guest
    Api.from_url(f"{AMQP}/%2F"), host=urllib.parse.urlsplit(MANAGEMENT).netloc
)


def broker_url(user: str, password: str, vhost: str) -> str:
    """The AMQP URL of a user and a vhost on the broker under test."""
    return f"amqp://{user}:{password}@{ADDRESS}/{quoted(vhost)}"


WORKERS = ["v1_listening_worker.py", "v2_listening_worker.py", "v3_listening_worker.py"]
EMITTERS = ["v1_emitter_of_tasks.py", "v2_emitter_of_tasks.py", "v3_emitter_of_tasks.py"]
QUEUE_OF = {"v1": "task_queue", "v2": "task_queue2", "v3": "task_queue3"}  # each version's
TASKS_CSV_ROWS = (PROJECT_ROOT / "tasks.csv").read_text().splitlines()  # one task a line
# the Python the scripts run with, as the commands they print name it (the resume command)
PYTHON = python_command(sys.executable, str(PROJECT_ROOT), sys.platform == "win32")

# --- the management API and a virtual host of one's own -------------------------------------


def api(method: str, path: str, body: object = None) -> object:
    """Call the local broker's management API as guest; the decoded JSON, or None.
    ManagementError (its `status`: the HTTP code) if it refuses or does not answer."""
    return GUEST.call(method, path, body)


def create_vhost(name: str, default_queue_type: str | None = None) -> None:
    """Create a virtual host and give guest every permission on it. With default_queue_type,
    a queue declared there without an x-queue-type gets that type (set with the CLI: 3.10's
    management API ignores it)."""
    if default_queue_type is None:
        api("PUT", f"/vhosts/{quoted(name)}")
    else:
        rabbitmqctl("add_vhost", name, "--default-queue-type", default_queue_type)
    everything = {"configure": ".*", "write": ".*", "read": ".*"}
    api("PUT", f"/permissions/{quoted(name)}/guest", everything)


def delete_vhost(name: str) -> None:
    """Delete a virtual host and every queue in it; a vhost already gone is fine."""
    try:
        api("DELETE", f"/vhosts/{quoted(name)}")
    except ManagementError as error:
        if error.status != 404:
            raise


class Vhost:
    """A virtual host of one's own on the local broker, its AMQP URL, and its queues.

    `with Vhost() as vhost:` creates it, and deletes it with every queue in it at the end,
    even on failure. Nothing here touches the default vhost.
    """

    def __init__(self, prefix: str = "test", default_queue_type: str | None = None) -> None:
        self.name = f"{prefix}-{uuid.uuid4().hex[:12]}"
        self.url = f"{AMQP}/{quoted(self.name)}"
        self.default_queue_type = default_queue_type

    def create(self) -> None:
        create_vhost(self.name, self.default_queue_type)

    def delete(self) -> None:
        delete_vhost(self.name)

    def __enter__(self) -> Vhost:
        self.create()
        return self

    def __exit__(self, *_exception) -> None:
        self.delete()

    def connection(self) -> pika.BlockingConnection:
        return pika.BlockingConnection(pika.URLParameters(self.url))

    def queue_info(self, queue: str) -> dict:
        """The management API's view of a queue (its static fields are exact)."""
        info = api("GET", f"/queues/{quoted(self.name)}/{quoted(queue)}")
        assert isinstance(info, dict)
        return info

    def declared(self, queue: str) -> pika.spec.Queue.DeclareOk:
        """A passive declare: the queue's exact message_count and consumer_count."""
        with self.connection() as connection:
            return connection.channel().queue_declare(queue, passive=True).method

    def ready_count(self, queue: str, missing_ok: bool = False) -> int:
        """Messages ready in a queue, exactly; with missing_ok, 0 for a queue not declared."""
        return ready_count(self.url, queue, missing_ok)

    def take_all(self, queue: str) -> list[tuple[bytes, pika.BasicProperties]]:
        """Take (and ack) every ready message of a queue: (body, properties) in queue order."""
        return take_all(self.url, queue)

    def publish(self, queue: str, bodies: list[bytes]) -> None:
        """Publish persistent messages to a durable queue, each confirmed."""
        with self.connection() as connection:
            channel = connection.channel()
            channel.queue_declare(queue, durable=True)
            channel.confirm_delivery()
            for body in bodies:
                channel.basic_publish("", queue, body, pika.BasicProperties(delivery_mode=2))

    def delete_queue(self, queue: str) -> None:
        """Delete a queue and its messages, so that the next run starts from nothing."""
        with self.connection() as connection:
            connection.channel().queue_delete(queue)


def ready_count(url: str, queue: str, missing_ok: bool = False) -> int:
    """Messages ready in a queue of the broker at `url`, exactly (a passive declare); with
    missing_ok, 0 for a queue not declared."""
    with pika.BlockingConnection(pika.URLParameters(url)) as connection:
        ready = messages_ready(connection.channel(), queue)
    if ready is None:
        assert missing_ok, f"no queue {queue}"
        return 0
    return ready


TAKE_AT_ONCE = 1000  # messages in flight to a test that takes a whole queue


def take_all(url: str, queue: str) -> list[tuple[bytes, pika.BasicProperties]]:
    """Take (and ack) the messages ready in a queue of the broker at `url`: (body, properties)
    in queue order. Consumed TAKE_AT_ONCE at a time: 100,000 take seconds, not minutes."""
    messages: list[tuple[bytes, pika.BasicProperties]] = []
    with pika.BlockingConnection(pika.URLParameters(url)) as connection:
        channel = connection.channel()
        ready = channel.queue_declare(queue, passive=True).method.message_count
        if ready == 0:
            return messages
        channel.basic_qos(prefetch_count=TAKE_AT_ONCE)
        for method, properties, body in channel.consume(queue, inactivity_timeout=30):
            if method is None:
                raise TimeoutError(f"{queue}: {len(messages)} of {ready} messages came")
            messages.append((body, properties))
            if len(messages) % TAKE_AT_ONCE == 0 or len(messages) == ready:
                channel.basic_ack(method.delivery_tag, multiple=True)
            if len(messages) == ready:
                break
        channel.cancel()  # what was delivered and not acked goes back to the queue
    return messages


# --- the scripts, run as a user runs them ---------------------------------------------------


def script_env(
    url: str, *, log_dir: Path | None, seconds_per_dot: float | str = "0.02", **extra: str
) -> dict[str, str]:
    """Our environment for a script: RABBITMQ_URL, SECONDS_PER_DOT, and `extra`.

    Its log goes to `log_dir` (None: the default, the project's logs/). PYTHONUNBUFFERED is
    left out: the scripts flush their lines themselves, as a user runs them.
    """
    env = dict(os.environ, RABBITMQ_URL=url, SECONDS_PER_DOT=str(seconds_per_dot))
    env.update(extra)
    env.pop("PYTHONUNBUFFERED", None)
    env.pop(LOG_DIR_VARIABLE, None)
    if log_dir is not None:
        env[LOG_DIR_VARIABLE] = str(log_dir)
    return env


def run_script(
    *args: str,
    env: dict[str, str],
    timeout: float = 60,
    cwd: Path = PROJECT_ROOT,
    stdin=subprocess.DEVNULL,
) -> subprocess.CompletedProcess:
    """Run `python ARGS` in `cwd` (the project root) to its end, its output captured."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=env,
        stdin=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_tool(
    module: str, *args: str, url: str, log_dir: Path, timeout: float = 60
) -> subprocess.CompletedProcess:
    """Run `python -m tools.<module> ARGS` to its end, its output captured (so: no colours)."""
    env = script_env(url, log_dir=log_dir, COLUMNS="100")
    return run_script("-m", f"tools.{module}", *args, env=env, timeout=timeout)


def check_a_tool_refused(module: str, *args: str, log_dir: Path) -> None:
    """Run a tool against UNREACHABLE: it must exit 1 within 10 s, its one line on stderr
    naming the refused address, and print nothing else."""
    started = time.monotonic()
    result = run_tool(module, *args, url=UNREACHABLE, log_dir=log_dir, timeout=30)

    assert result.returncode == 1
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert "127.0.0.1:1" in line and "refused" in line.lower()
    assert time.monotonic() - started < 10


def start_script(*args: str, env: dict[str, str], **popen) -> subprocess.Popen:
    """Start `python ARGS` from the project root; `popen` gives its standard streams."""
    popen.setdefault("stdin", subprocess.DEVNULL)
    return subprocess.Popen([sys.executable, *args], cwd=PROJECT_ROOT, env=env, **popen)


@dataclass(frozen=True)
class Exit:
    """How a child ended: its exit code, and seconds since it was started."""

    code: int
    seconds: float


def _sigint_ignored() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class Child:
    """`python ARGS` run from the project root in a session of its own, as in a terminal of
    its own; stdout and stderr go to one file. Reaped: its exit code and seconds.

    With ignore_sigint it starts as a non-interactive shell starts a background job, SIGINT
    ignored: a script must install its own handling to stop on Ctrl+C.
    """

    def __init__(
        self, *args: str, env: dict[str, str], out_path: Path, ignore_sigint: bool = False
    ) -> None:
        self.out_path = out_path
        self._out = open(out_path, "wb")  # noqa: SIM115 - closed once the child is reaped
        self.started = time.monotonic()
        self.process = start_script(
            *args,
            env=env,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # our Ctrl+C is ours alone
            preexec_fn=_sigint_ignored if ignore_sigint else None,
        )
        self.finished: Exit | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def output(self) -> str:
        return self.out_path.read_text(errors="replace")

    def lines(self, word: str) -> list[str]:
        """The output lines that contain `word`."""
        return [line for line in self.output.splitlines() if word in line]

    def running(self) -> bool:
        """Whether the child has not exited yet (without reaping it: wait() still can)."""
        if self.finished is not None:
            return False
        return os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None

    def wait_until(
        self, condition: Callable[[str], object], what: str, timeout: float = 30
    ) -> None:
        """Wait until `condition(output)` holds; fail, showing the output, if the child
        exits first or `timeout` seconds pass."""

        def holds() -> bool:
            exited = not self.running()
            if condition(self.output):
                return True
            if exited:
                raise AssertionError(
                    f"{self.out_path.stem} exited ({self.wait().code}) before "
                    f"{what}:\n{self.output}"
                )
            return False

        try:
            wait_until(holds, what, timeout)
        except TimeoutError as error:
            raise TimeoutError(f"{error}:\n{self.output}") from None

    def wait_for(self, text: str, count: int = 1, timeout: float = 30) -> None:
        """Wait until `text` is in the output `count` times (see wait_until)."""
        self.wait_until(lambda output: output.count(text) >= count, f"{text!r} x{count}", timeout)

    def send(self, signum: int) -> None:
        if self.finished is None:
            os.kill(self.pid, signum)

    def wait(self, timeout: float = 600) -> Exit:
        """Reap the child: how it ended. A child still running after `timeout` s is killed."""
        if self.finished is not None:
            return self.finished
        killer = threading.Timer(timeout, self.send, (signal.SIGKILL,))
        killer.start()
        try:
            status = self._reap()
        except BaseException:  # interrupted (Ctrl+C, SIGTERM): leave no child behind
            self._reaped(self._kill_now())
            raise
        finally:
            killer.cancel()
        return self._reaped(status)

    def stop(self, signum: int = signal.SIGINT, timeout: float = 30) -> Exit:
        """Send a signal (Ctrl+C's by default) and reap the child."""
        self.send(signum)
        return self.wait(timeout)

    def kill(self) -> None:
        """Kill the child at once if it still runs, and reap it."""
        if self.finished is None:
            self._reaped(self._kill_now())

    def _kill_now(self) -> int:
        os.kill(self.pid, signal.SIGKILL)
        return self._reap()

    def _reap(self) -> int:
        """Wait until the child exits; its wait status."""
        _pid, status = os.waitpid(self.pid, 0)
        return status

    def _reaped(self, status: int) -> Exit:
        """Record how the child ended (its seconds measured now): it is gone for good."""
        code = os.waitstatus_to_exitcode(status)
        self.process.returncode = code
        self._out.close()
        self.finished = Exit(code, time.monotonic() - self.started)
        return self.finished


def wait_until(
    condition: Callable[[], object], what: str, timeout: float = 30, poll: float = 0.05
) -> None:
    """Poll `condition()` until it holds; raise TimeoutError naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(poll)


def rabbitmqctl(*args: str) -> str:
    """Run rabbitmqctl on the broker under test (CTL); its output."""
    return subprocess.run(
        [*CTL, "-q", *args], check=True, timeout=120, capture_output=True, text=True
    ).stdout
