"""What differs between platforms, checked as far as Linux can: the Python version check,
a console that cannot show every character (Windows' cp1252), shell quoting, and the
missing-requirements line in the form of the shell in use."""

from __future__ import annotations

import glob
import os
import shlex
import shutil
import signal
import subprocess
import sys
import sysconfig
import types
from importlib import metadata

import pytest

from tests.support import MANAGEMENT_ARGS, PROJECT_ROOT, script_env
from utils.platforms import (
    ansi_escapes_work,
    missing_requirements_hint,
    python_too_old,
    shell_command,
)

TASK = "✓ naïve 日本 task.."  # '✓' and '日本' are not in cp1252; 'ï' is
SHOWN = "? naïve ?? task.."  # what a cp1252 console shows of it
SPEED = "0.1"  # seconds per dot in the lab
PROGRAMS = [
    ["v1_listening_worker.py"],
    ["v1_emitter_of_tasks.py"],
    ["v2_listening_worker.py"],
    ["v3_listening_worker.py"],
    ["v3_emitter_of_tasks.py"],
    ["-m", "tools.demo"],
    ["-m", "tools.lab"],
    ["-m", "tools.watch_queues"],
]


# --- the Python version check -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("platform", "what_to_do"),
    [
        ("darwin", "brew install python@3.12, then make the venv with python3.12 -m venv .venv"),
        ("win32", "install Python 3.12 from python.org (or: conda create -n rabbit python=3.12)"),
        ("linux", "install python3.12 with your package manager (or pyenv)"),
    ],
)
def test_an_old_python_is_told_what_to_install(platform, what_to_do):
    line = python_too_old((3, 9, 6, "final", 0), platform)

    assert line is not None and "\n" not in line
    assert "error: Python 3.9.6 is too old for this project, which needs 3.10 or newer: " in line
    assert what_to_do in line


@pytest.mark.parametrize("version", [(3, 10, 0), (3, 12, 1, "final", 0), (4, 0, 0)])
def test_a_python_new_enough_passes(version):
    assert python_too_old(version, "darwin") is None


def old_pythons() -> list[str]:
    """Pythons older than 3.10 on this machine (pyenv's, or on the PATH)."""
    found = glob.glob(os.path.expanduser("~/.pyenv/versions/3.[89].*/bin/python"))
    found += [path for path in map(shutil.which, ["python3.8", "python3.9"]) if path]
    return [
        path for path in found if subprocess.run([path, "-V"], capture_output=True).returncode == 0
    ]


@pytest.mark.skipif(not old_pythons(), reason="no Python 3.8 or 3.9 on this machine")
@pytest.mark.parametrize("program", PROGRAMS, ids=" ".join)
def test_every_program_run_by_an_old_python_says_so_in_one_line(program, tmp_path):
    old = old_pythons()[0]
    # pika and tqdm are pure Python: this venv's copies stand in for the old Python's own
    env = dict(os.environ, PYTHONPATH=sysconfig.get_paths()["purelib"])
    result = subprocess.run(
        [old, *program], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=30
    )

    assert result.returncode == 1
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert "is too old for this project, which needs 3.10 or newer: " in line
    name = "python" if program[0] == "-m" else program[0].removesuffix(".py")
    assert line.startswith(f"{name}: error: Python 3.")


# --- the missing requirements, in the shell's own form (POSIX: tests/test_environment.py) -----


POWERSHELL_MODULES = (
    r"C:\Users\ana\Documents\WindowsPowerShell\Modules;C:\Program Files\WindowsPowerShell"
    r"\Modules;C:\Windows\system32\WindowsPowerShell\v1.0\Modules"
)
POWERSHELL_7_MODULES = (
    r"C:\Users\ana\OneDrive\Documents\PowerShell\Modules;C:\Program Files\PowerShell\Modules;"
    r"c:\program files\powershell\7\Modules;C:\Program Files\WindowsPowerShell\Modules;"
    r"C:\WINDOWS\system32\WindowsPowerShell\v1.0\Modules"
)
CMD_MODULES = (  # the system's folders only, here with one a program added
    r"C:\Program Files\WindowsPowerShell\Modules;"
    r"C:\Windows\system32\WindowsPowerShell\v1.0\Modules;"
    r"C:\Program Files (x86)\Microsoft SQL Server\150\Tools\PowerShell\Modules"
)


@pytest.mark.parametrize(
    "modules", [POWERSHELL_MODULES, POWERSHELL_7_MODULES], ids=["PowerShell 5.1", "PowerShell 7"]
)
def test_in_powershell_the_line_gives_activate_ps1_and_the_execution_policy(modules):
    environ = {"PSModulePath": modules, "USERPROFILE": r"C:\Users\ana"}
    hint = missing_requirements_hint("v3_listening_worker.py", environ, True)
    assert hint.startswith(r"run .venv\Scripts\python v3_listening_worker.py, or ")
    assert r".venv\Scripts\Activate.ps1 (if PowerShell says running scripts is disabled: " in hint
    assert "Set-ExecutionPolicy -Scope CurrentUser RemoteSigned)" in hint
    assert "activate.bat" not in hint


def test_in_cmd_or_anaconda_prompt_the_line_gives_activate_bat_and_the_conda_environment():
    environ = {
        "PSModulePath": CMD_MODULES,
        "USERPROFILE": r"C:\Users\ana",
        "CONDA_PREFIX": r"C:\conda\envs\rabbit",
        "CONDA_DEFAULT_ENV": "rabbit",
    }
    hint = missing_requirements_hint("v1_listening_worker.py", environ, True)

    assert hint.startswith(r"run .venv\Scripts\python v1_listening_worker.py, or ")
    assert r"first: .venv\Scripts\activate.bat; " in hint
    assert (
        "install the requirements for this Python (conda's rabbit): python -m pip install" in hint
    )
    assert "Activate.ps1" not in hint and "source" not in hint


# --- ANSI escapes (colours, the watcher's redraw) -----------------------------------------------


def test_tqdm_a_requirement_brings_colorama_on_windows():
    requires = [requirement.replace("'", '"') for requirement in metadata.requires("tqdm") or []]
    assert 'colorama; platform_system == "Windows"' in requires


def test_on_windows_escapes_are_turned_on_by_colorama(monkeypatch):
    fixed = []
    colorama = types.ModuleType("colorama")
    colorama.just_fix_windows_console = lambda: fixed.append(True)
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setitem(sys.modules, "colorama", colorama)

    assert ansi_escapes_work() is True
    assert fixed == [True]


def test_on_windows_without_colorama_there_are_no_escapes(monkeypatch):
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setitem(sys.modules, "colorama", None)  # import colorama: ImportError

    assert ansi_escapes_work() is False


def test_elsewhere_a_terminal_takes_escapes_as_they_are(monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    monkeypatch.setitem(sys.modules, "colorama", None)

    assert ansi_escapes_work() is True


# --- shell quoting ----------------------------------------------------------------------------


def test_a_command_is_quoted_for_cmd_and_powershell_on_windows_and_for_sh_elsewhere():
    words = ["python", "v3_emitter_of_tasks.py", "my tasks.csv", "--from-row", "7"]

    assert shell_command(words, windows=True) == (
        'python v3_emitter_of_tasks.py "my tasks.csv" --from-row 7'
    )
    assert subprocess.list2cmdline(words) == shell_command(words, windows=True)
    assert shell_command(words, windows=False) == (
        "python v3_emitter_of_tasks.py 'my tasks.csv' --from-row 7"
    )
    assert shlex.split(shell_command(words, windows=False)) == words


# --- a console that cannot show every character (cp1252) --------------------------------------


def cp1252_env(url: str, tmp_path) -> dict[str, str]:
    """A script's environment with its standard streams in Windows' ANSI code page."""
    return script_env(url, log_dir=tmp_path, COLUMNS="100", PYTHONIOENCODING="cp1252")


def run_cp1252(
    *args: str, env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        cwd=PROJECT_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        encoding="cp1252",
        timeout=timeout,
    )


@pytest.mark.broker
@pytest.mark.parametrize("version", ["v1", "v2"])
def test_v1_v2_show_a_task_cp1252_lacks_as_question_marks_and_log_it_whole(
    vhost, workers, tmp_path, version
):
    env = cp1252_env(vhost.url, tmp_path)
    worker = workers(f"{version}_listening_worker.py", env=env)
    worker.wait_for("Ready for work")

    sent = run_cp1252(f"{version}_emitter_of_tasks.py", *TASK.split(), env=env)

    assert sent.returncode == 0 and sent.stderr == ""
    assert f" [x] Sent {SHOWN}" in sent.stdout
    worker.wait_for(" [x] Done.")
    assert worker.stop(signal.SIGINT).code == 0
    output = worker.out_path.read_bytes().decode("cp1252")
    assert f" [x] Received {SHOWN}" in output
    assert "Logging error" not in output
    assert f"Received {TASK}" in (tmp_path / f"{version}_listening_worker.log").read_text("utf-8")


@pytest.mark.broker
def test_v3_shows_a_task_cp1252_lacks_as_question_marks_and_logs_it_whole(vhost, workers, tmp_path):
    env = cp1252_env(vhost.url, tmp_path)
    tasks = tmp_path / "tasks.csv"
    tasks.write_text(f"{TASK}\n", encoding="utf-8")
    worker = workers("v3_listening_worker.py", env=env)
    worker.wait_for("ready for work")

    sent = run_cp1252("v3_emitter_of_tasks.py", str(tasks), env=env)

    assert sent.returncode == 0 and sent.stderr == ""
    assert f" [x] Sent row 1: {SHOWN}" in sent.stdout
    worker.wait_for(" [x] Done row 1")
    assert worker.stop(signal.SIGTERM).code == 0
    output = worker.out_path.read_bytes().decode("cp1252")
    assert f": {SHOWN}" in output and "Logging error" not in output
    assert f": {TASK}" in (tmp_path / "v3_listening_worker.log").read_text("utf-8")


@pytest.mark.broker
def test_the_demo_passes_on_its_childrens_lines_to_a_cp1252_console(vhost, tmp_path):
    tasks = tmp_path / "tasks.csv"
    tasks.write_text(f"first.\n{TASK}\n", encoding="utf-8")
    env = cp1252_env(vhost.url, tmp_path)

    result = run_cp1252(
        "-m", "tools.demo", "--csv", str(tasks), "--seconds-per-dot", "0.01", env=env
    )

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert f" [x] Sent row 2: {SHOWN}" in result.stdout
    assert f": {SHOWN}" in result.stdout.split(" [x] Received row 2 by worker ")[1].splitlines()[0]
    assert "Logging error" not in result.stdout
    assert "Makespan real / ideal" in result.stdout  # the report, box-drawing and all


@pytest.mark.broker
def test_the_lab_prints_its_box_drawing_to_a_cp1252_console(vhost, tmp_path):
    env = cp1252_env(vhost.url, tmp_path)
    args = ("confirms", "--seconds-per-dot", SPEED, *MANAGEMENT_ARGS)
    result = run_cp1252("-m", "tools.lab", *args, env=env)

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "lab      | ?? with: " in result.stdout  # '── with: ...', its rule shown as '??'
    assert "Verdict (confirms)" in result.stdout
