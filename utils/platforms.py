"""What differs between Windows, macOS and Linux, in one place.

- A Python older than the project's stops with one line saying what to install, before
  anything that Python cannot run (utils/__init__.py calls check_python first).
- A console that cannot show a character gets '?' instead of a crash: on Windows a pipe
  is written in the ANSI code page (cp1252), which has no '✓' or '日本'.
- Colours and redraws are ANSI escapes, which Windows' classic console (cmd, Anaconda
  Prompt) shows raw unless a program turns their processing on.
- Shell commands shown to the user are quoted for the shell in use (cmd, PowerShell, a
  POSIX shell), and start with the Python in use: a Mac has no bare `python` outside a venv.

This module runs on old Pythons too (it must, to say they are too old): its import and
check_python use nothing newer than Python 3.6.
"""

import ntpath
import os
import posixpath
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

MINIMUM_PYTHON = (3, 10)

INSTALL_PYTHON = {
    "darwin": "brew install python@3.12, then make the venv with python3.12 -m venv .venv",
    "win32": (
        "install Python 3.12 from python.org (or: conda create -n rabbit python=3.12), "
        "then make the venv with it"
    ),
}
INSTALL_PYTHON_ELSEWHERE = (
    "install python3.12 with your package manager (or pyenv), "
    "then make the venv with python3.12 -m venv .venv"
)


def python_too_old(version_info: tuple, platform: str) -> "str | None":
    """The line that says this Python is too old and what to install; None if it will do."""
    if tuple(version_info[:2]) >= MINIMUM_PYTHON:
        return None
    running = ".".join(str(part) for part in version_info[:3])
    needed = ".".join(str(part) for part in MINIMUM_PYTHON)
    what_to_do = INSTALL_PYTHON.get(platform, INSTALL_PYTHON_ELSEWHERE)
    program = Path(sys.argv[0]).stem  # "-m" while `python -m tools.demo` imports the package
    if not program or program.startswith("-"):
        program = "python"
    return (
        f"{program}: error: Python {running} is too old for this project, which needs "
        f"{needed} or newer: {what_to_do}"
    )


def check_python() -> None:
    """Stop with one line (exit status 1) when this Python is older than the project needs."""
    too_old = python_too_old(sys.version_info, sys.platform)
    if too_old:
        sys.exit(too_old)


def never_crash_on_console() -> None:
    """Make stdout and stderr write '?' for a character their encoding lacks, not raise.

    Without it, a task such as '✓ naïve 日本' printed to a cp1252 pipe raises
    UnicodeEncodeError: logging prints '--- Logging error ---' and the line is lost.
    """
    for stream in (sys.stdout, sys.stderr):
        if getattr(stream, "errors", None) == "strict" and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")


def ansi_escapes_work() -> bool:
    """Whether the console will act on ANSI escapes (colours, the watcher's redraw).

    Windows 10's classic console shows them raw unless a program turns on their
    processing: colorama, which tqdm installs on Windows, does that. Without colorama,
    no escapes at all.
    """
    if sys.platform != "win32":
        return True
    try:
        from colorama import just_fix_windows_console  # colorama 0.4.6 or newer
    except ImportError:
        return False
    just_fix_windows_console()
    return True


START_THE_BROKER = {
    "win32": (
        "start its Windows service: net start RabbitMQ, in a terminal run as administrator "
        "(docs/windows.md)"
    ),
    "darwin": "start it: brew services start rabbitmq (docs/macos.md)",
}
START_THE_BROKER_ELSEWHERE = "start it: make broker (see the README, 'Troubleshooting')"


def broker_not_running_hint(platform: str) -> str:
    """What to do when nothing answers on RabbitMQ's port, in this platform's way."""
    return "is RabbitMQ running? " + START_THE_BROKER.get(platform, START_THE_BROKER_ELSEWHERE)


# what cmd acts on outside quotes; escaped with ^, the quotes too, so that cmd never enters a
# quoted part (where ^ is kept as it is). ^% keeps %NAME% from being expanded at the prompt.
CMD_SPECIAL = frozenset('^&|<>()%!"')
# what PowerShell takes as a plain word; anything else goes in single quotes, where it
# expands nothing ($, `, @, {, ;, a leading # or -- % included)
POWERSHELL_PLAIN = re.compile(r"[\w.:=+/\\-]+")


def user_shell(environ: "Mapping[str, str]", windows: bool) -> str:
    """The shell the user types in: "cmd" or "powershell" on Windows, "sh" elsewhere."""
    if not windows:
        return "sh"
    return "powershell" if in_powershell(environ) else "cmd"


def shell_command(words: "list[str]", shell: "str | None" = None) -> str:
    """`words` as one command line to copy into `shell` ("sh", "cmd" or "powershell";
    default: the user's), each word arriving as it is, whatever characters it holds."""
    if shell is None:
        shell = user_shell(os.environ, sys.platform == "win32")
    if shell == "cmd":
        program = subprocess.list2cmdline(words[:1])
        rest = subprocess.list2cmdline(words[1:])  # the quoting a program's argv undoes
        escaped = "".join(f"^{char}" if char in CMD_SPECIAL else char for char in rest)
        return f"{program} {escaped}" if escaped else program
    if shell == "powershell":
        quoted = [
            word if POWERSHELL_PLAIN.fullmatch(word) else "'" + word.replace("'", "''") + "'"
            for word in words
        ]
        call = "& " if words and quoted[0] != words[0] else ""  # a quoted program is a string
        return call + " ".join(quoted)
    return shlex.join(words)


def python_command(
    executable: str,
    cwd: str,
    windows: bool,
    which: "Callable[[str], str | None]" = shutil.which,
) -> str:
    """How to start the Python `executable` from `cwd`: "python" (or "python3", all a Mac
    has outside a venv) when that name on PATH is this very file, as in an active venv;
    else its path, relative to `cwd` when it is under it (.venv/bin/python)."""
    paths = ntpath if windows else posixpath

    def same(path: str) -> bool:
        return paths.normcase(paths.abspath(path)) == paths.normcase(paths.abspath(executable))

    for name in ("python",) if windows else ("python", "python3"):
        found = which(name)
        if found is not None and same(found):
            return name
    try:
        relative = paths.relpath(executable, cwd)
    except ValueError:  # another drive (Windows)
        return executable
    if relative.startswith(".."):
        return executable
    here = ".\\" if windows else "./"
    return relative if paths.sep in relative else here + relative  # a bare name is looked up


def this_python(shell: "str | None" = None) -> str:
    """The Python in use, as the first word of a command for the user's shell."""
    windows = sys.platform == "win32"
    return shell_command([python_command(sys.executable, os.getcwd(), windows)], shell)


def in_powershell(environ: "Mapping[str, str]") -> bool:
    """Whether PSModulePath holds a folder of the user's own: PowerShell put it there."""
    profile = environ.get("USERPROFILE", "").rstrip("\\").lower()
    folders = environ.get("PSModulePath", "").lower().split(";")
    return bool(profile) and any(folder.startswith(profile + "\\") for folder in folders)


def missing_requirements_hint(
    script: str,
    environ: "Mapping[str, str]",
    windows: bool,
    *,
    root: "str | None" = None,
    python: str = "python",
) -> str:
    """What to do when the project's requirements are missing, in the form of the shell in use.

    `root`: the project's folder, when the current directory is another one; the paths are
    then given in full (quoted if they hold a space), as the relative ones would not exist.

    Windows does not say which shell started us. PowerShell adds the user's own modules
    folder (under USERPROFILE) to PSModulePath, which cmd has only with the system's
    folders, unless cmd was started from PowerShell. The form without activation
    (.venv\\Scripts\\python SCRIPT) works in both, whichever the guess. `python` starts the
    Python in use (this_python), whose pip installs for it.
    """
    separator = "\\" if windows else "/"

    def path(relative: str) -> str:
        full = relative if root is None else root.rstrip(separator) + separator + relative
        # double quotes: what cmd and PowerShell both take around a path
        return shell_command([full], "cmd" if windows else "sh")

    command = script.split() if script.startswith("-m ") else [path(script)]
    if windows:
        powershell = in_powershell(environ)
        # PowerShell runs a program whose path is quoted only after its call operator, &
        call = "& " if powershell and root is not None and " " in root else ""
        run = call + " ".join([path(".venv\\Scripts\\python"), *command])
        if powershell:
            activate = (
                call
                + path(".venv\\Scripts\\Activate.ps1")
                + (
                    " (if PowerShell says running scripts is disabled: "
                    "Set-ExecutionPolicy -Scope CurrentUser RemoteSigned)"
                )
            )
        else:
            activate = path(".venv\\Scripts\\activate.bat")
    else:
        run = " ".join([path(".venv/bin/python"), *command])
        activate = f"source {path('.venv/bin/activate')}"
    conda = environ.get("CONDA_DEFAULT_ENV") or environ.get("CONDA_PREFIX")
    here = f" (conda's {conda})" if conda else ""
    return (
        f"run {run}, or activate the project's virtual environment first: {activate}; "
        f"or install the requirements for this Python{here}: "
        f"{python} -m pip install -r {path('requirements.txt')}"
    )
