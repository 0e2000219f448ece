"""The scripts run as a user runs them, as child processes, and waiting: what the tests and
bench/ share."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from utils import PROJECT_ROOT
from utils.util_logger import LOG_DIR_VARIABLE


def script_env(
    url: str, *, log_dir: Path | None, seconds_per_dot: float | str = "0.02", **extra: str
) -> dict[str, str]:
    """Our environment for a script: RABBITMQ_URL, SECONDS_PER_DOT, and `extra`.

    Its log goes to `log_dir` (None: the default, the project's logs/). The script runs as
    a user runs it: without PYTHONUNBUFFERED (the scripts flush their lines themselves), and
    without PYTHONDONTWRITEBYTECODE, so that Python caches the compiled modules in
    __pycache__ as it does by default (some machines set it: then every start of a script
    compiles each of its modules again, tens of milliseconds).
    """
    env = dict(os.environ, RABBITMQ_URL=url, SECONDS_PER_DOT=str(seconds_per_dot))
    env.update(extra)
    env.pop("PYTHONUNBUFFERED", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
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
