"""The benchmarks' child processes: measured (peak RSS), counted, killed together, in bench/out/."""

from __future__ import annotations

import compileall
import os
from dataclasses import dataclass
from pathlib import Path

from bench.task_files import OUT_DIR, out_path
from harness.children import Child, Exit, script_env
from utils import PROJECT_ROOT

LOG_DIR = OUT_DIR / "logs"  # the scripts' logs during a benchmark, not the project's logs/


@dataclass(frozen=True)
class BenchExit(Exit):
    """How a benchmark's child ended: its exit code, seconds, and peak RSS (ru_maxrss)."""

    peak_rss_kib: int


class BenchChild(Child):
    """A harness.children.Child reaped with os.wait4 for its peak RSS, whose lines can be
    counted as they come, and which kill_all() ends until it is reaped."""

    def __init__(self, *args: str, env: dict[str, str], out_path: Path) -> None:
        super().__init__(*args, env=env, out_path=out_path)
        self.peak_rss_kib = 0
        self._counted = 0  # bytes of output already scanned by count_lines
        self._count = 0
        RUNNING.add(self)

    def count_lines(self, word: bytes) -> int:
        """How many times `word` is in the complete output lines so far (reads what is new)."""
        with open(self.out_path, "rb") as file:
            file.seek(self._counted)
            new = file.read()
        whole = new[: new.rfind(b"\n") + 1]
        self._counted += len(whole)
        self._count += whole.count(word)
        return self._count

    def remove_output(self) -> None:
        """Delete the output file (once its lines have been read)."""
        self.out_path.unlink(missing_ok=True)

    def wait(self, timeout: float = 600) -> BenchExit:
        finished = super().wait(timeout)
        return BenchExit(finished.code, finished.seconds, self.peak_rss_kib)

    def _reap(self) -> int:
        _pid, status, usage = os.wait4(self.pid, 0)
        self.peak_rss_kib = usage.ru_maxrss
        return status

    def _reaped(self, status: int) -> Exit:
        RUNNING.discard(self)
        return super()._reaped(status)


RUNNING: set[BenchChild] = set()  # started and not reaped yet: kill_all() ends them


def kill_all() -> None:
    """Kill and reap every child still running (after a failure or Ctrl+C)."""
    for child in list(RUNNING):
        child.kill()


def compile_modules() -> None:
    """Compile the project's modules into __pycache__, as a user's first run of a script
    does: every run of every figure then starts as a user's later runs do (the scripts run
    without PYTHONDONTWRITEBYTECODE: harness.children.script_env)."""
    for folder in ("utils", "tools", "harness", "bench"):
        compileall.compile_dir(PROJECT_ROOT / folder, quiet=1)


def bench_env(url: str, **settings) -> dict[str, str]:
    """A script's environment for a benchmark: its broker, its settings, its log in LOG_DIR."""
    return script_env(url, log_dir=LOG_DIR, **settings)


def start(args: list[str], env: dict[str, str], name: str) -> BenchChild:
    """Start `python ARGS` from the project root, its output in bench/out/<name>.out."""
    return BenchChild(*args, env=env, out_path=out_path(f"{name}.out"))


def run(args: list[str], env: dict[str, str], name: str, timeout: float = 600) -> BenchExit:
    """Run a child to its end; fail loudly, with its output, if it does not exit 0.

    The output file is removed when the child succeeds, and kept for reading otherwise.
    """
    child = start(args, env, name)
    finished = child.wait(timeout)
    if finished.code != 0:
        raise RuntimeError(f"{' '.join(args)} exited {finished.code}:\n{child.output[-2000:]}")
    child.remove_output()
    return finished
