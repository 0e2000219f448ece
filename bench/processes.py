"""Child processes, run as a user runs them: timed, their output in a file, peak RSS by wait4."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from bench.task_files import out_path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


STARTED: set = set()  # children not reaped yet: kill_all() ends them whatever happens


def kill_all() -> None:
    """Kill and reap every child still running (after a failure or Ctrl+C)."""
    for child in list(STARTED):
        child.kill()


@dataclass(frozen=True)
class Exit:
    """How a child ended: its exit code, seconds since it was started, and peak RSS."""

    code: int
    seconds: float
    peak_rss_kib: int


def script_env(url: str, **extra: str) -> dict[str, str]:
    """The environment of a child: ours, with RABBITMQ_URL pointing at the vhost."""
    env = dict(os.environ, RABBITMQ_URL=url)
    env.pop("PYTHONUNBUFFERED", None)  # run as a user does: the scripts flush by themselves
    env.update(extra)
    return env


def start_script(args: list[str], env: dict[str, str], stdout) -> subprocess.Popen:
    """Start `python ARGS` from the project root, stderr joined to stdout, no stdin."""
    return subprocess.Popen(
        [PYTHON, *args],
        cwd=PROJECT_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # as in a terminal of its own: our Ctrl+C is ours alone
    )


class Child:
    """A process started from the project root, its stdout and stderr going to a file."""

    def __init__(self, args: list[str], env: dict[str, str], name: str) -> None:
        self.out_path = out_path(f"{name}.out")
        self.out_file = open(self.out_path, "wb")  # noqa: SIM115 - closed in wait()
        self.started = time.monotonic()
        self.process = start_script(args, env, stdout=self.out_file)
        self._counted = 0  # bytes of output already scanned by count_lines
        self._count = 0
        self.finished: Exit | None = None
        STARTED.add(self)

    @property
    def pid(self) -> int:
        return self.process.pid

    def count_lines(self, word: bytes) -> int:
        """How many times `word` appears in the complete output lines so far (reads what is new)."""
        with open(self.out_path, "rb") as file:
            file.seek(self._counted)
            new = file.read()
        whole = new[: new.rfind(b"\n") + 1]
        self._counted += len(whole)
        self._count += whole.count(word)  # the word appears once on its lines, on no other
        return self._count

    def output(self) -> str:
        return self.out_path.read_text(errors="replace")

    def remove_output(self) -> None:
        """Delete the output file (once its lines have been counted and checked)."""
        self.out_path.unlink(missing_ok=True)

    def running(self) -> bool:
        """Whether the child has not exited yet (without reaping it: wait() still can)."""
        if self.process.returncode is not None:
            return False
        return os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None

    def send(self, signum: int) -> None:
        if self.process.returncode is None:
            os.kill(self.pid, signum)

    def wait(self, timeout: float = 600) -> Exit:
        """Reap the child with wait4: its exit code, run time and peak RSS (ru_maxrss, KiB).

        A child still running after `timeout` seconds is killed (and its code is -9).
        """
        if self.finished is not None:
            return self.finished
        killer = threading.Timer(timeout, self.send, (signal.SIGKILL,))
        killer.start()
        try:
            _pid, status, usage = os.wait4(self.pid, 0)
        except BaseException:  # interrupted (Ctrl+C, SIGTERM): leave no child behind
            self._reaped(self._kill_now())
            raise
        finally:
            killer.cancel()
        return self._reaped(Exit(os.waitstatus_to_exitcode(status), 0.0, usage.ru_maxrss))

    def _kill_now(self) -> Exit:
        os.kill(self.pid, signal.SIGKILL)
        _pid, status, usage = os.wait4(self.pid, 0)
        return Exit(os.waitstatus_to_exitcode(status), 0.0, usage.ru_maxrss)

    def _reaped(self, finished: Exit) -> Exit:
        """Record how the child ended (the seconds measured now): it is gone for good."""
        self.process.returncode = finished.code
        self.out_file.close()
        self.finished = Exit(finished.code, time.monotonic() - self.started, finished.peak_rss_kib)
        STARTED.discard(self)
        return self.finished

    def kill(self) -> None:
        """Kill the child at once if it still runs, and reap it."""
        if self.finished is None:
            self._reaped(self._kill_now())

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 30) -> Exit:
        """Ask the child to stop and reap it."""
        self.send(signum)
        return self.wait(timeout)


class PipedChild:
    """A process whose output lines are read as they come, each stamped with its arrival."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.process = start_script(args, env, stdout=subprocess.PIPE)
        self.lines: list[tuple[float, str]] = []  # (time.monotonic(), line), in order
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        STARTED.add(self)

    def _read(self) -> None:
        for raw in self.process.stdout:
            self.lines.append((time.monotonic(), raw.decode("utf-8", "replace").rstrip("\n")))

    def stamps(self, word: str) -> list[float]:
        """When each line containing `word` arrived, in order."""
        return [stamp for stamp, line in list(self.lines) if word in line]

    def output(self) -> str:
        return "\n".join(line for _stamp, line in list(self.lines))

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 30) -> int:
        """Ask the process to stop; return its exit code (killed if it takes too long)."""
        if self.process.poll() is None:
            self.process.send_signal(signum)
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self.reader.join(timeout)
        STARTED.discard(self)
        return code

    def kill(self) -> None:
        """Kill the process at once if it still runs."""
        self.stop(signal.SIGKILL)


def wait_until(condition, timeout: float, what: str, poll: float = 0.005) -> None:
    """Poll `condition()` until it holds; raise, naming `what`, after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(poll)


def run(args: list[str], env: dict[str, str], name: str, timeout: float = 600) -> Exit:
    """Run a child to its end; fail loudly, with its output, if it does not exit 0.

    The output file is removed when the child succeeds, and kept for reading otherwise.
    """
    child = Child(args, env, name)
    finished = child.wait(timeout)
    if finished.code != 0:
        raise RuntimeError(f"{' '.join(args)} exited {finished.code}:\n{child.output()[-2000:]}")
    child.out_path.unlink()
    return finished
