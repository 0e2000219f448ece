"""Section 4: the v3 emitter's peak RSS on a big CSV against its peak RSS on tasks.csv.

Peak RSS is the child's ru_maxrss, from os.wait4. Both runs use --quiet, so that the
figure is the emitter's own memory: with the line per row it also holds one burst's lines
(up to WINDOW of them, logged as one record), a bounded extra that section 1's peak shows.
"""

from __future__ import annotations

from bench.emitter_bench import publish_once
from bench.results_table import Figure, Target
from bench.sizes import Sizes
from bench.task_files import cycled_tasks_csv
from harness.broker import Vhost
from utils.tasks import DEFAULT_TASKS_FILE, TaskFile

SECTION = "4 Memory"


def memory_figures(vhost: Vhost, sizes: Sizes, log=print) -> list[Figure]:
    """Peak RSS of the v3 emitter on tasks.csv and on the big CSV, interleaved."""
    small_rows = sum(1 for _task in TaskFile(DEFAULT_TASKS_FILE))
    big_rows = sizes.memory_rows
    small = Figure(
        SECTION, f"v3 emitter --quiet, tasks.csv ({small_rows} rows)", "MiB", short="tasks.csv"
    )
    big = Figure(
        SECTION,
        f"**v3 emitter --quiet, {big_rows:,} rows**",
        "MiB",
        baseline=small,
        target=Target("<=", 1.2, "flat"),
    )
    runs = [
        (small, str(DEFAULT_TASKS_FILE), small_rows),
        (big, str(cycled_tasks_csv(big_rows)), big_rows),
    ]
    for run_number in range(1, sizes.runs + 1):
        for figure, csv_file, rows in runs:
            args = ["v3_emitter_of_tasks.py", csv_file, "--quiet"]
            finished = publish_once(vhost, args, rows, f"memory-{rows}-run{run_number}")
            figure.values.append(finished.peak_rss_kib / 1024)
            log(f"  run {run_number}: {figure.name}: {figure.values[-1]:.1f} MiB")
    return [small, big]
