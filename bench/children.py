"""The benchmarks' child processes (tests.support.Child): their output and logs in bench/out/."""

from __future__ import annotations

from bench.task_files import OUT_DIR, out_path
from tests.support import Child, Exit, script_env

LOG_DIR = OUT_DIR / "logs"  # the scripts' logs during a benchmark, not the project's logs/


def bench_env(url: str, **settings) -> dict[str, str]:
    """A script's environment for a benchmark: its broker, its settings, its log in LOG_DIR."""
    return script_env(url, log_dir=LOG_DIR, **settings)


def start(args: list[str], env: dict[str, str], name: str) -> Child:
    """Start `python ARGS` from the project root, its output in bench/out/<name>.out."""
    return Child(*args, env=env, out_path=out_path(f"{name}.out"))


def run(args: list[str], env: dict[str, str], name: str, timeout: float = 600) -> Exit:
    """Run a child to its end; fail loudly, with its output, if it does not exit 0.

    The output file is removed when the child succeeds, and kept for reading otherwise.
    """
    child = start(args, env, name)
    finished = child.wait(timeout)
    if finished.code != 0:
        raise RuntimeError(f"{' '.join(args)} exited {finished.code}:\n{child.output[-2000:]}")
    child.remove_output()
    return finished
