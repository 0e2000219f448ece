"""The course's logger: setup_logger(__file__) logs to logs/<script>.log and to the console.

Processes of one script (three workers, say) share its log file, opened for appending:
the handler writes each record, whatever its length, with one write(2), which Linux and
macOS apply whole to an O_APPEND file, so their lines never mix. Every line names its
process. Windows has no such append (its C runtime moves to the end, then writes: two
processes can overwrite each other's records), so there each process logs to a file of
its own, logs/<script>-<pid>.log.
"""

from __future__ import annotations

import datetime
import logging
import os
import platform
import sys
from pathlib import Path

from utils import PROJECT_ROOT

LOG_DIR_VARIABLE = "WORK_QUEUE_LOG_DIR"  # where the logs go instead (the tests set it)
FILE_ONLY = "file_only"  # a record with this attribute true goes to the log file only
FILE_FORMAT = "%(asctime)s.%(name)s.%(levelname)s [pid %(process)d] %(message)s"


class EveryLineFormatter(logging.Formatter):
    """Start every line of a record, not just its first, with the time, name, level and pid."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        if "\n" not in text:
            return text
        prefix = self.formatMessage(record)[: -len(record.message) or None]  # the format's head
        return text.replace("\n", "\n" + prefix)


class ConsoleHandler(logging.StreamHandler):
    """A console that may be a pipe closed by its reader (`| head`): the script carries on."""

    def handleError(self, record: logging.LogRecord) -> None:
        if not isinstance(sys.exc_info()[1], BrokenPipeError):
            return super().handleError(record)
        # as Python's docs advise: point it at /dev/null; then nothing fails, even at exit
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, self.stream.fileno())
        os.close(devnull)


def _banner(log_path: Path) -> str:
    return (
        f"Logging started {datetime.datetime.now():%Y-%m-%d %H:%M:%S} | "
        f"{platform.system()} {platform.release()} | Python {platform.python_version()} | "
        f"script {Path(sys.argv[0]).resolve()} | cwd {Path.cwd()} | log {log_path}"
    )


def _console_handlers() -> list[logging.Handler]:
    """Progress (the tutorial's lines) to stdout; warnings and errors to stderr."""
    progress, problems = ConsoleHandler(sys.stdout), ConsoleHandler(sys.stderr)
    progress.addFilter(lambda record: record.levelno < logging.WARNING)
    problems.setLevel(logging.WARNING)
    for handler in (progress, problems):
        handler.addFilter(lambda record: not getattr(record, FILE_ONLY, False))
    return [progress, problems]


def _pika_to_file_only(file_handler: logging.Handler) -> None:
    """pika's own messages: none unless PIKA_LOG_LEVEL is set, then in the log file only."""
    # pika logs connection troubles at ERROR with tracebacks; the scripts report them once
    pika_logger = logging.getLogger("pika")
    pika_logger.setLevel(os.environ.get("PIKA_LOG_LEVEL", "CRITICAL").upper())
    pika_logger.propagate = False
    pika_logger.addHandler(file_handler)


def log_file_name(script: str, windows: bool, pid: int) -> str:
    """The log file of a script: one for all its processes, one per process on Windows."""
    return f"{script}-{pid}.log" if windows else f"{script}.log"


def setup_logger(current_file: str) -> tuple[logging.Logger, Path]:
    """Return (logger, log file path) for the script at current_file; safe to call twice."""
    name = Path(current_file).stem
    log_dir = Path(os.environ.get(LOG_DIR_VARIABLE) or PROJECT_ROOT / "logs")
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / log_file_name(name, sys.platform == "win32", os.getpid())
    logger = logging.getLogger(name)
    if logger.handlers:
        return logger, log_path
    file_handler = logging.FileHandler(log_path, mode="a", encoding="utf-8")
    file_handler.setFormatter(EveryLineFormatter(FILE_FORMAT))
    logger.setLevel(logging.INFO)
    logger.propagate = False
    handlers = [file_handler, *_console_handlers()]
    for handler in handlers:
        logger.addHandler(handler)
    # the utils modules' own loggers (utils.queues, ...) write where the script does
    library = logging.getLogger("utils")
    library.setLevel(logging.INFO)
    library.propagate = False
    for handler in handlers:
        library.addHandler(handler)
    _pika_to_file_only(file_handler)
    logger.info(_banner(log_path), extra={FILE_ONLY: True})
    return logger, log_path
