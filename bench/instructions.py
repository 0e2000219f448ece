"""Instructions a task, counted by callgrind: a consumer's own cost, steadier than any rate.

    python -m bench.instructions [--tasks N1 N2] [--seconds-per-dot S] [v3 course bare threaded]

Each consumer runs under `valgrind --tool=callgrind` (every thread counted) on N1 tasks,
then on N2, in a vhost of its own; (count on N2 - count on N1) / (N2 - N1) is its count a
task, start-up and shutdown cancelled out. The same from run to run whatever else the
machine does, unlike a rate; about 30 s a consumer. Not part of `make bench`.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys

from bench.children import bench_env, compile_modules
from bench.task_files import out_path
from bench.worker_bench import fill_queue
from harness.broker import Vhost
from harness.children import wait_until
from utils import PROJECT_ROOT

CONSUMERS = {
    "v3": ["v3_listening_worker.py"],  # told SECONDS_PER_DOT; the loops, --seconds-per-dot
    "course": ["-m", "bench.course_worker"],
    "bare": ["-m", "bench.bare_worker"],
    "threaded": ["-m", "bench.threaded_course_worker"],
}


def callgrind_total(path) -> int:
    """The instructions a callgrind output file counts in all."""
    for line in path.read_text().splitlines():
        if line.startswith(("summary:", "totals:")):
            return int(line.split()[1])
    raise RuntimeError(f"no total in {path}")


def done(output, tasks: int) -> bool:
    """Whether the consumer's output says Done `tasks` times."""
    return output.read_bytes().count(b"Done") >= tasks


def count(vhost: Vhost, args: list[str], tasks: int, per_dot: float) -> int:
    """Instructions of one consumer process, from its start until it has done `tasks` tasks."""
    fill_queue(vhost, tasks, dots=1 if per_dot else 0)
    counts, output = out_path("callgrind.out"), out_path("callgrind-consumer.txt")
    command = [
        "valgrind",
        "--tool=callgrind",
        f"--callgrind-out-file={counts}",
        sys.executable,
        *args,
    ]
    if per_dot and args[0] == "-m":
        command += ["--seconds-per-dot", str(per_dot)]
    env = bench_env(vhost.url, seconds_per_dot=per_dot)
    with open(output, "wb") as sink:
        process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=sink, stderr=sink
        )
        try:
            wait_until(lambda: done(output, tasks) or process.poll() is not None, "tasks", 900)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(60)
    if not done(output, tasks):
        raise RuntimeError(f"{' '.join(args)} stopped early:\n{output.read_text()[-2000:]}")
    return callgrind_total(counts)


def main(argv: list[str] | None = None) -> int:
    """Print each consumer's instructions a task."""
    parser = argparse.ArgumentParser(description="Instructions a task of each consumer.")
    parser.add_argument("consumers", nargs="*", choices=sorted(CONSUMERS), default=["v3"])
    parser.add_argument("--tasks", nargs=2, type=int, default=[300, 1300], metavar="N")
    parser.add_argument("--seconds-per-dot", type=float, default=0.0)
    args = parser.parse_args(argv)
    first, second = args.tasks
    compile_modules()  # else the first run compiles what the second loads
    with Vhost("instructions") as vhost:
        for name in args.consumers:
            runs = [count(vhost, CONSUMERS[name], n, args.seconds_per_dot) for n in (first, second)]
            each = (runs[1] - runs[0]) / (second - first)
            print(f"{name}: {each / 1000:,.0f}k instructions a task", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
