"""Tasks: reading them from a CSV file as a stream, and how long each one takes."""

from __future__ import annotations

import csv
import itertools
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO, NamedTuple

from utils import PROJECT_ROOT
from utils.arguments import parse_seconds
from utils.errors import InputError, SettingsError

DEFAULT_TASKS_FILE = PROJECT_ROOT / "tasks.csv"


class Task(NamedTuple):
    """One task: the line number where its CSV row starts, and its text.

    A named tuple rather than a dataclass: the emitter makes one a row, and a frozen
    dataclass costs several times as much to create.
    """

    row: int
    text: str


MOST_SECONDS_PER_DOT = 3600.0  # an hour a dot: more is a typo, and would overflow a sleep


def seconds_per_dot(environ: dict[str, str] | None = None) -> float:
    """SECONDS_PER_DOT from the environment: seconds of work per '.', default 1, 0 to 3600."""
    raw = (os.environ if environ is None else environ).get("SECONDS_PER_DOT", "1")
    value = parse_seconds(raw)
    if value is None or value > MOST_SECONDS_PER_DOT:
        raise SettingsError(
            f"SECONDS_PER_DOT must be a number of seconds from 0 to {MOST_SECONDS_PER_DOT:.0f} "
            f"(got {raw!r}); for example SECONDS_PER_DOT=0.1"
        )
    return value


def work_seconds(text: str, per_dot: float) -> float:
    """The simulated work of a task: per_dot seconds for each '.' in its text."""
    return text.count(".") * per_dot


def _open_binary(path: Path):
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file; give the path of a CSV file of tasks") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory; give the path of a CSV file of tasks") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied; make the file readable") from None
    except OSError as error:
        raise InputError(f"{path}: cannot be read: {error.strerror}") from None


def _utf8_lines(binary_lines: Iterable[bytes], path: Path) -> Iterator[str]:
    """Decode line by line, so a bad byte is reported with its own line number."""
    lines = iter(binary_lines)
    first = next(lines, None)
    if first is None:
        return  # an empty file: no rows
    if first.startswith(b"\xef\xbb\xbf"):
        first = first[3:]  # the byte order mark Excel puts in front of "CSV UTF-8"
    for number, raw in enumerate(itertools.chain([first], lines), start=1):
        if b"\x00" in raw:  # a binary file, or text saved as UTF-16: not a CSV of tasks
            raise InputError(
                f"{path}, line {number}: contains a NUL byte, so it is not a text CSV file; "
                "save it as 'CSV UTF-8'"
            )
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise InputError(
                f"{path}, line {number}: not UTF-8 text (byte 0x{raw[error.start]:02x} at "
                f"column {error.start + 1}); save the file as 'CSV UTF-8'"
            ) from None


def from_row(tasks: Iterator[Task], first: int) -> Iterator[Task]:
    """The tasks whose row starts at line `first` or later: those before are read, not sent."""
    if first <= 1:
        return tasks
    return itertools.dropwhile(lambda task: task.row < first, tasks)


class TaskFile:
    """The tasks of a CSV file, read as a stream: one row at a time, whatever the file's size.

    A task is the row's fields joined by single spaces; rows with no non-blank field are
    skipped and counted in `skipped`.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.skipped = 0
        self._binary: BinaryIO | None = None

    def __iter__(self) -> Iterator[Task]:
        """Open the file now (so a bad path fails at once), and read its rows lazily."""
        self._binary = _open_binary(self.path)
        return self._rows(self._binary)

    def bytes_read(self) -> int:
        """How far the reading has gone into the file, in bytes (for a progress bar)."""
        if self._binary is None:
            return 0
        return self.path.stat().st_size if self._binary.closed else self._binary.tell()

    def _rows(self, binary) -> Iterator[Task]:
        with binary:
            reader = csv.reader(_utf8_lines(binary, self.path))
            row_start = 1
            while True:
                try:
                    fields = next(reader)
                except StopIteration:
                    return
                except csv.Error as error:
                    raise InputError(
                        f"{self.path}, line {reader.line_num}: not valid CSV ({error})"
                    ) from None
                text = " ".join(fields)
                if text.strip():  # a row of blank fields is no task
                    yield Task(row_start, text)
                else:
                    self.skipped += 1
                row_start = reader.line_num + 1
