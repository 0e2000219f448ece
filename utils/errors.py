"""Exit codes and the errors the scripts turn into one clear line on stderr."""

from __future__ import annotations

import enum
import logging
import os
import sys
from pathlib import Path

from utils.platforms import missing_requirements_hint, this_python


class ExitCode(enum.IntEnum):
    """Exit statuses shared by every script (docs/DESIGN.md, "Exit codes")."""

    OK = 0  # success, a worker stopped by a signal included
    FAILURE = 1  # a failure at run time: broker, input file, refused tasks
    USAGE = 2  # bad usage or settings
    INTERRUPTED = 130  # Ctrl+C or SIGTERM at a question, or in tools/; as a shell reports SIGINT


class ScriptError(Exception):
    """An expected failure: main() prints its message as one line and exits with its code."""

    exit_code = ExitCode.FAILURE


class SettingsError(ScriptError):
    """A bad environment variable, flag or URL."""

    exit_code = ExitCode.USAGE


class BrokerError(ScriptError):
    """The broker cannot be reached, refused us, or closed on us."""


class InputError(ScriptError):
    """The task file cannot be read."""


def report(logger: logging.Logger, error: ScriptError) -> int:
    """Log an expected failure as one line and return its exit code."""
    logger.error("%s: error: %s", logger.name, error)
    return int(error.exit_code)


def missing_module(script_file: str, error: ModuleNotFoundError, run_as: str = "") -> str:
    """The line for a program run by a Python without the project's requirements.

    `run_as` is what follows `python` to run it again (default: the script's file name).
    """
    root = Path(__file__).resolve().parent.parent  # the project's folder
    run_as = run_as or Path(script_file).resolve().relative_to(root).as_posix()
    elsewhere = None if Path.cwd().resolve() == root else str(root)  # then: full paths
    windows = sys.platform == "win32"
    hint = missing_requirements_hint(
        run_as, os.environ, windows, root=elsewhere, python=this_python()
    )
    return (
        f"{Path(script_file).stem}: error: the module {error.name!r} is not installed for "
        f"{sys.executable}: {hint}"
    )
