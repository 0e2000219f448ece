"""CSV files of tasks for the benchmarks, written once into bench/out/ and reused."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

from utils.tasks import DEFAULT_TASKS_FILE, TaskFile

OUT_DIR = Path(__file__).resolve().parent / "out"


def out_path(name: str) -> Path:
    """A scratch file in bench/out/ (git-ignored), its directory created if need be."""
    OUT_DIR.mkdir(exist_ok=True)
    return OUT_DIR / name


def tutorial_texts() -> list[str]:
    """The texts of the 18 rows of tasks.csv."""
    return [task.text for task in TaskFile(DEFAULT_TASKS_FILE)]


def cycled_tasks_csv(rows: int) -> Path:
    """A CSV of `rows` rows: the rows of tasks.csv over and over (bench/out/tasks-N.csv)."""
    path = out_path(f"tasks-{rows}.csv")
    if not path.exists() or _line_count(path) != rows:
        texts = itertools.islice(itertools.cycle(tutorial_texts()), rows)
        _write_rows(path, ([text] for text in texts))
    return path


def numbered_bodies(count: int, dots: int = 0) -> list[str]:
    """Unique task texts "task 1" ... "task <count>", each followed by `dots` dots."""
    suffix = " " + "." * dots if dots else ""
    return [f"task {number}{suffix}" for number in range(1, count + 1)]


def _write_rows(path: Path, rows) -> None:
    partial = path.with_suffix(".partial")
    with open(partial, "w", newline="", encoding="utf-8") as file:
        csv.writer(file, lineterminator="\n").writerows(rows)
    partial.replace(path)


def _line_count(path: Path) -> int:
    with open(path, "rb") as file:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: file.read(1 << 20), b""))
