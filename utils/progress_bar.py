"""The v3 emitter's progress bar: for a large file on a terminal, instead of a line a row."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator

from tqdm import tqdm

from utils.console_lines import count_of
from utils.tasks import TaskFile

# On a terminal, a file this large gets a progress bar instead of a line per row.
PROGRESS_BAR_FROM_BYTES = 100_000


@contextlib.contextmanager
def progress_bar(task_file: TaskFile) -> Iterator[Callable[[int], None] | None]:
    """For a large file on a terminal, a bar of the bytes of the file read, with the rate and
    the time left, and the rows confirmed so far; a function that updates it with that
    count. None otherwise (no extra output)."""
    size = task_file.path.stat().st_size
    if not sys.stdout.isatty() or size < PROGRESS_BAR_FROM_BYTES:
        yield None
        return
    with tqdm(
        total=size, unit="B", unit_scale=True, unit_divisor=1024, desc="read", mininterval=0.5
    ) as bar:

        def show(confirmed: int) -> None:
            bar.set_postfix_str(f"{count_of(confirmed, 'row')} confirmed", refresh=False)
            bar.update(task_file.bytes_read() - bar.n)

        yield show
