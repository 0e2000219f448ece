"""The course's logger: setup_logger(__file__) logs to logs/<script>.log and to the console.

Several processes of one script (three workers, say) share one log file. The file is
opened for appending (the original opened it with "w", so each worker truncated the
others' lines) and every line goes out in a single write(2) to an O_APPEND descriptor,
which Linux applies whole: lines from different processes never interleave mid-line.
Each line names its process.
"""

from __future__ import annotations

import datetime
import logging
import os
import platform
import sys
import time
from pathlib import Path

from utils import PROJECT_ROOT

LOG_DIR_VARIABLE = "WORK_QUEUE_LOG_DIR"  # where the logs go instead (the tests set it)
FILE_FORMAT = "%(asctime)s.%(name)s.%(levelname)s [pid %(process)d] %(message)s"


class AppendLineHandler(logging.Handler):
    """Write each record as one whole line with one write(2) on an O_APPEND file."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.write_file(self.format(record))
        except Exception:  # noqa: BLE001 - logging must never crash the script
            self.handleError(record)

    def write_file(self, text: str) -> None:
        os.write(self.fd, (text + "\n").encode("utf-8", "replace"))

    def close(self) -> None:
        os.close(self.fd)
        super().close()


def prefix_every_line(prefix: str, message: str) -> str:
    return prefix + message.replace("\n", "\n" + prefix)


class EveryLineFormatter(logging.Formatter):
    """Give every line of a multi-line message the prefix, so each line names its process.

    The v3 emitter logs a burst of " [x] Sent row" lines as one record: one write instead
    of one per row, which doubled its speed (bench/README.md).
    """

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        message = record.getMessage()
        if "\n" not in message or not text.endswith(message):
            return text
        return prefix_every_line(text[: len(text) - len(message)], message)


class FileAndConsoleHandler(AppendLineHandler):
    """The script's one handler: the line to the log file, then the message to the console.

    Progress (the tutorial's lines) goes to stdout, warnings and errors to stderr. One
    handler instead of three (file, stdout, stderr) makes a log call about a third cheaper,
    and a worker makes two a task (bench/README.md).
    """

    def emit(self, record: logging.LogRecord) -> None:
        super().emit(record)  # formatting sets record.message
        stream = sys.stdout if record.levelno < logging.WARNING else sys.stderr
        try:
            self.write_console(record.message, stream)
        except Exception:  # noqa: BLE001 - logging must never crash the script
            self.handleError(record)

    @staticmethod
    def write_console(text: str, stream) -> None:
        try:
            stream.write(text + "\n")
            stream.flush()
        except BrokenPipeError:
            # The console was a pipe that closed (`... | head`): the script carries on, its
            # work and log file matter more. As Python's docs advise, the dead pipe is
            # pointed at /dev/null so nothing more is written to it.
            os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())


class LocalClock:
    """time.time() values as local date and time text, looked up and formatted once a second.

    A worker stamps two lines a task; datetime.now() and strftime on every one of them cost
    about as much as the rest of its logging (callgrind: bench/README.md).
    """

    def __init__(self) -> None:
        # (a second since the epoch, its local date and time: "2026-11-28 14:03:07"), one
        # object replaced whole, so that a thread never reads one second's text for another
        self._cached: tuple[int, str] = (-1, "")

    def _text_and_milliseconds(self, now: float) -> tuple[str, int]:
        second = int(now)
        cached_second, text = self._cached
        if second != cached_second:
            text = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(second))
            self._cached = (second, text)
        return text, int((now - second) * 1000)

    def date_and_time(self, now: float) -> str:
        """'2026-11-28 14:03:07,251', as logging stamps its records (%(asctime)s)."""
        text, milliseconds = self._text_and_milliseconds(now)
        return f"{text},{milliseconds:03d}"

    def time_of_day(self, now: float) -> str:
        """'14:03:07.251'."""
        text, milliseconds = self._text_and_milliseconds(now)
        return f"{text[11:]}.{milliseconds:03d}"


class QuickInfo:
    """logger.info(message) for a hot path: the same lines, in the same places, for less.

    A v3 worker logs two lines a task. Through Logger.info each one builds a LogRecord,
    looks up the stack for its caller and goes through the handler machinery: py-spy put
    that at most of the difference between the worker and a bare pika loop that prints
    (bench/README.md). This writes what the script's handler writes for an INFO record
    (tests/test_units.py checks it line for line): the file line in one write(2), then the
    message on stdout, under the handler's own lock.
    """

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger
        self.handler = next(h for h in logger.handlers if isinstance(h, FileAndConsoleHandler))
        self.clock = LocalClock()
        self.tail = f".{logger.name}.INFO [pid {os.getpid()}] "  # what follows the time stamp

    def file_text(self, message: str, created: float) -> str:
        """The log file's line(s) for message, logged at time created (time.time())."""
        return prefix_every_line(self.clock.date_and_time(created) + self.tail, message)

    def __call__(self, message: str) -> None:
        if not self.logger.isEnabledFor(logging.INFO):
            return
        with self.handler.lock:  # the lock Logger.info takes: lines from two threads stay whole
            try:
                self.handler.write_file(self.file_text(message, time.time()))
            except Exception:  # noqa: BLE001 - logging must never crash the script
                self._report_error(message)
            try:  # as in FileAndConsoleHandler.emit: the console even when the file failed
                self.handler.write_console(message, sys.stdout)
            except Exception:  # noqa: BLE001
                self._report_error(message)

    def _report_error(self, message: str) -> None:
        self.handler.handleError(logging.makeLogRecord({"msg": message}))


def _banner(log_path: Path) -> str:
    return (
        f"Logging started {datetime.datetime.now():%Y-%m-%d %H:%M:%S} | "
        f"{platform.system()} {platform.release()} | Python {platform.python_version()} | "
        f"script {Path(sys.argv[0]).resolve()} | cwd {Path.cwd()} | log {log_path}"
    )


def setup_logger(current_file: str) -> tuple[logging.Logger, Path]:
    """Return (logger, log file path) for the script at current_file; safe to call twice."""
    name = Path(current_file).stem
    log_dir = Path(os.environ.get(LOG_DIR_VARIABLE) or PROJECT_ROOT / "logs")
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    logger = logging.getLogger(name)
    if logger.handlers:
        return logger, log_path

    handler = FileAndConsoleHandler(log_path)
    handler.setFormatter(EveryLineFormatter(FILE_FORMAT))
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.addHandler(handler)
    # the utils modules' own loggers (utils.queues, ...) write where the script does
    library = logging.getLogger("utils")
    library.setLevel(logging.INFO)
    library.propagate = False
    library.addHandler(handler)

    # pika logs its own connection troubles at ERROR, with tracebacks; our scripts report
    # each failure once, clearly. PIKA_LOG_LEVEL=WARNING (or DEBUG) puts pika's own
    # messages back, in the log file only.
    pika_logger = logging.getLogger("pika")
    pika_logger.setLevel(os.environ.get("PIKA_LOG_LEVEL", "CRITICAL").upper())
    pika_logger.propagate = False
    file_only = AppendLineHandler(log_path)
    file_only.setFormatter(EveryLineFormatter(FILE_FORMAT))
    pika_logger.addHandler(file_only)

    file_only.handle(logger.makeRecord(name, logging.INFO, "", 0, _banner(log_path), (), None))
    return logger, log_path
