"""What the tests and the benchmarks share: the local broker's management API, a virtual host
of their own, the scripts run as subprocesses, waiting."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pika
import pika.exceptions

from utils import PROJECT_ROOT

API = "http://127.0.0.1:15672/api"
AUTH = "Basic " + base64.b64encode(b"guest:guest").decode()


def api(method: str, path: str, body: object = None) -> object:
    """Call the management HTTP API as guest; return the decoded JSON, or None."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{API}{path}", data=data, method=method)
    request.add_header("Authorization", AUTH)
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as response:
        payload = response.read()
    return json.loads(payload) if payload else None


def quoted(name: str) -> str:
    """A name made safe for a URL path segment (a vhost may contain '/')."""
    return urllib.parse.quote(name, safe="")


def create_vhost(name: str) -> None:
    """Create a virtual host and give guest every permission on it."""
    api("PUT", f"/vhosts/{quoted(name)}")
    everything = {"configure": ".*", "write": ".*", "read": ".*"}
    api("PUT", f"/permissions/{quoted(name)}/guest", everything)


def delete_vhost(name: str) -> None:
    """Delete a virtual host and every queue in it; a vhost already gone is fine."""
    try:
        api("DELETE", f"/vhosts/{quoted(name)}")
    except urllib.error.HTTPError as error:
        if error.code != 404:
            raise


class Vhost:
    """A virtual host of its own for one test: created, then deleted with all its queues."""

    def __init__(self) -> None:
        self.name = f"test-{uuid.uuid4().hex[:12]}"
        self.url = f"amqp://guest:guest@127.0.0.1:5672/{quoted(self.name)}"

    def create(self) -> None:
        create_vhost(self.name)

    def delete(self) -> None:
        delete_vhost(self.name)

    def queue_info(self, queue: str) -> dict:
        """The management API's view of a queue (its static fields are exact)."""
        return api("GET", f"/queues/{quoted(self.name)}/{quoted(queue)}")

    def connection(self) -> pika.BlockingConnection:
        return pika.BlockingConnection(pika.URLParameters(self.url))

    def ready_count(self, queue: str) -> int:
        """Messages ready in a queue, exactly (a passive declare, not the API's sampled stats)."""
        with self.connection() as connection:
            return connection.channel().queue_declare(queue, passive=True).method.message_count

    def take_all(self, queue: str) -> list[tuple[bytes, pika.BasicProperties]]:
        """Take (and ack) every ready message of a queue: (body, properties) in queue order."""
        messages = []
        with self.connection() as connection:
            channel = connection.channel()
            while True:
                method, properties, body = channel.basic_get(queue)
                if method is None:
                    return messages
                messages.append((body, properties))
                channel.basic_ack(method.delivery_tag)

    def publish(self, queue: str, bodies: list[bytes]) -> None:
        with self.connection() as connection:
            channel = connection.channel()
            channel.queue_declare(queue, durable=True)
            channel.confirm_delivery()
            for body in bodies:
                channel.basic_publish("", queue, body, pika.BasicProperties(delivery_mode=2))


def script_env(url: str, seconds_per_dot: str = "0.02", **extra: str) -> dict[str, str]:
    env = dict(os.environ, RABBITMQ_URL=url, SECONDS_PER_DOT=seconds_per_dot, PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


def run_script(
    script: str,
    *args: str,
    env: dict[str, str],
    timeout: float = 60,
    cwd: Path = PROJECT_ROOT,
    stdin=subprocess.DEVNULL,
) -> subprocess.CompletedProcess:
    """Run one of the scripts to completion, as a user runs it."""
    return subprocess.run(
        [sys.executable, str(PROJECT_ROOT / script), *args],
        cwd=cwd,
        env=env,
        stdin=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


class Worker:
    """A worker script running in the background, its output captured in a file."""

    def __init__(self, script: str, *args: str, env: dict[str, str], out_dir: Path) -> None:
        self.out_path = out_dir / f"{Path(script).stem}-{uuid.uuid4().hex[:6]}.out"
        self._out = open(self.out_path, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, str(PROJECT_ROOT / script), *args],
            cwd=PROJECT_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # like a worker in its own terminal
            # as a non-interactive shell starts a background job: SIGINT ignored, so the
            # worker must install its own handling (DESIGN.md, "Behaviour")
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
        )

    @property
    def output(self) -> str:
        return self.out_path.read_text()

    def lines(self, word: str) -> list[str]:
        return [line for line in self.output.splitlines() if word in line]

    def wait_for(self, text: str, count: int = 1, timeout: float = 30) -> None:
        """Wait until `text` appears `count` times in the output (or the process ends)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.output.count(text) >= count:
                return
            if self.process.poll() is not None:
                raise AssertionError(f"worker exited ({self.process.returncode}):\n{self.output}")
            time.sleep(0.05)
        raise AssertionError(f"{text!r} x{count} not seen in {timeout} s:\n{self.output}")

    def send(self, signum: int) -> None:
        self.process.send_signal(signum)

    def stop(self, signum: int = signal.SIGINT, timeout: float = 20) -> int:
        """Send a signal and wait for the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signum)
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self._out.close()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._out.close()


def wait_until(condition, timeout: float = 30, what: str = "condition") -> None:
    """Poll `condition()` until it is true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)
