"""What differs between platforms, checked as far as Linux can: the Python version check,
a console that cannot show every character (Windows' cp1252), commands quoted for cmd,
PowerShell and POSIX shells and started with the Python in use, and the
missing-requirements line in the form of the shell in use."""

from __future__ import annotations

import ast
import glob
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import sysconfig
import types
from importlib import metadata

import pytest

from harness.children import script_env
from tests.support import MANAGEMENT_ARGS
from utils import PROJECT_ROOT
from utils.platforms import (
    ansi_escapes_work,
    missing_requirements_hint,
    python_command,
    python_too_old,
    shell_command,
    user_shell,
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


def installed_old_pythons() -> list[str]:
    """Pythons 3.7 to 3.9 on this machine: OLD_PYTHON (.ci/run sets it from
    scripts/old_python.sh, which unpacks one if need be), pyenv's, or on the PATH. 3.7 is old
    Anaconda's, 3.9 Apple's /usr/bin/python3."""
    found = [os.environ.get("OLD_PYTHON", "")]
    found += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.[789].*/bin/python")))
    found += [path for path in map(shutil.which, ["python3.7", "python3.8", "python3.9"]) if path]
    found = [path for path in dict.fromkeys(found) if path]
    return [
        path for path in found if subprocess.run([path, "-V"], capture_output=True).returncode == 0
    ]


@pytest.fixture(scope="module")
def old_pythons() -> list[str]:
    """At least one Python older than 3.10. None: the tests skip on a developer's machine,
    and fail in CI (CI set)."""
    found = installed_old_pythons()
    if not found:
        why = "no Python older than 3.10: set OLD_PYTHON=$(bash scripts/old_python.sh)"
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    for python in found:
        version = subprocess.run([python, "-V"], capture_output=True, text=True).stdout
        assert version.startswith(("Python 3.7.", "Python 3.8.", "Python 3.9.")), version
    return found


def run_by(python: str, program: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [python, *program], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=30
    )


def says_too_old(result: subprocess.CompletedProcess, program: list[str]) -> None:
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert "is too old for this project, which needs 3.10 or newer: " in line
    name = "python" if program[0] == "-m" else program[0].removesuffix(".py")
    assert line.startswith(f"{name}: error: Python 3.")


@pytest.mark.parametrize("program", PROGRAMS, ids=" ".join)
def test_every_program_run_by_an_old_python_says_so_in_one_line(program, old_pythons):
    # pika and tqdm are pure Python: this venv's copies stand in for the old Python's own
    env = dict(os.environ, PYTHONPATH=sysconfig.get_paths()["purelib"])
    for old in old_pythons:
        says_too_old(run_by(old, program, env), program)


@pytest.mark.parametrize("program", PROGRAMS, ids=" ".join)
def test_an_old_python_without_pika_says_it_is_too_old_not_that_pika_is_missing(
    program, old_pythons
):
    """Apple's /usr/bin/python3 (3.9) has no pika: the version is what to fix first."""
    env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    for old in old_pythons:
        says_too_old(run_by(old, program, env), program)


@pytest.mark.parametrize("script", sorted(PROJECT_ROOT.glob("*.py")), ids=lambda path: path.name)
def test_each_script_parses_as_python_3_7_so_that_its_version_check_can_run(script):
    """A script's own file is compiled before any of it runs: syntax newer than 3.7 (a
    walrus) would be a SyntaxError before the version check could say what to do."""
    ast.parse(script.read_text(), feature_version=(3, 7))


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
    python = r"C:\conda\envs\rabbit\python.exe"
    hint = missing_requirements_hint("v1_listening_worker.py", environ, True, python=python)

    assert hint.startswith(r"run .venv\Scripts\python v1_listening_worker.py, or ")
    assert r"first: .venv\Scripts\activate.bat; " in hint
    assert hint.endswith(
        "install the requirements for this Python (conda's rabbit): "
        r"C:\conda\envs\rabbit\python.exe -m pip install -r requirements.txt"
    )
    assert "Activate.ps1" not in hint and "source" not in hint


ONEDRIVE = r"C:\Users\ana\OneDrive\Work Queues"  # a project folder with a space in it


def test_from_another_folder_in_powershell_the_paths_are_whole_quoted_and_called():
    environ = {"PSModulePath": POWERSHELL_MODULES, "USERPROFILE": r"C:\Users\ana"}
    hint = missing_requirements_hint("v3_listening_worker.py", environ, True, root=ONEDRIVE)

    assert hint.startswith(
        rf'run & "{ONEDRIVE}\.venv\Scripts\python" "{ONEDRIVE}\v3_listening_worker.py", or '
    )
    assert rf'first: & "{ONEDRIVE}\.venv\Scripts\Activate.ps1" (if PowerShell says' in hint
    assert hint.endswith(rf'python -m pip install -r "{ONEDRIVE}\requirements.txt"')


def test_from_another_folder_in_cmd_the_paths_are_whole_and_quoted():
    hint = missing_requirements_hint("v1_emitter_of_tasks.py", {}, True, root=ONEDRIVE)

    assert hint.startswith(
        rf'run "{ONEDRIVE}\.venv\Scripts\python" "{ONEDRIVE}\v1_emitter_of_tasks.py", or '
    )
    assert rf'first: "{ONEDRIVE}\.venv\Scripts\activate.bat"; ' in hint
    assert "& " not in hint  # cmd has no call operator


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


SPECIAL = ["my tasks.csv", "R&D|x<y>z^", "50%PATH%!", 'say "hi"', "it's", "$HOME`@{a;b}#"]


def test_for_a_posix_shell_every_special_character_is_quoted():
    words = ["python3", "v3_emitter_of_tasks.py", *SPECIAL, "--from-row", "7"]
    line = shell_command(words, "sh")
    assert line.startswith("python3 v3_emitter_of_tasks.py 'my tasks.csv' 'R&D|x<y>z^' ")
    assert shlex.split(line) == words


def test_for_cmd_the_programs_quoting_then_every_character_cmd_acts_on_escaped():
    words = [r"C:\Program Files\Python312\python.exe", "v3_emitter_of_tasks.py", *SPECIAL]
    line = shell_command(words, "cmd")
    assert line == (
        r'"C:\Program Files\Python312\python.exe" v3_emitter_of_tasks.py ^"my tasks.csv^" '
        r"""R^&D^|x^<y^>z^^ 50^%PATH^%^! ^"say \^"hi\^"^" it's $HOME`@{a;b}#"""
    )
    program, rest = line.split(" v3_emitter_of_tasks.py ")
    # no quote is left unescaped, so cmd never enters a quoted part: it removes every
    # caret, and what is left is the quoting the program's own argv parsing undoes
    assert re.fullmatch(r'(\^[\^&|<>()%!"]|[^\^&|<>()%!"])*', rest)
    unescaped = re.sub(r"\^(.)", r"\1", rest)
    assert f"{program} v3_emitter_of_tasks.py {unescaped}" == subprocess.list2cmdline(words)


def test_for_powershell_words_go_in_single_quotes_and_a_quoted_program_after_the_call_operator():
    words = [r"C:\Program Files\Python312\python.exe", "v3_emitter_of_tasks.py", *SPECIAL]
    line = shell_command(words, "powershell")
    assert line == (
        r"& 'C:\Program Files\Python312\python.exe' v3_emitter_of_tasks.py 'my tasks.csv' "
        r"""'R&D|x<y>z^' '50%PATH%!' 'say "hi"' 'it''s' '$HOME`@{a;b}#'"""
    )
    plain = [r".venv\Scripts\python.exe", "v3_emitter_of_tasks.py", "--queue", "jobs.v2"]
    assert shell_command(plain, "powershell") == " ".join(plain)  # nothing to quote, no &


@pytest.mark.parametrize(
    ("environ", "windows", "shell"),
    [
        ({"PSModulePath": POWERSHELL_MODULES, "USERPROFILE": r"C:\Users\ana"}, True, "powershell"),
        ({"PSModulePath": CMD_MODULES, "USERPROFILE": r"C:\Users\ana"}, True, "cmd"),
        ({"SHELL": "/bin/zsh"}, False, "sh"),
    ],
)
def test_the_shell_is_powershell_or_cmd_on_windows_and_a_posix_shell_elsewhere(
    environ, windows, shell
):
    assert user_shell(environ, windows) == shell


def on_path(**found: str):
    """A made-up PATH: `which(name)` finds the programs given, and no other."""
    return lambda name: found.get(name)


@pytest.mark.parametrize(
    ("executable", "cwd", "windows", "which", "command"),
    [
        # a Mac outside a venv: Homebrew's python3, and no python at all
        (
            "/opt/homebrew/bin/python3",
            "/Users/ana/wq",
            False,
            on_path(python3="/opt/homebrew/bin/python3"),
            "python3",
        ),
        # a venv activated: its python is the one on PATH
        (
            "/home/ana/wq/.venv/bin/python",
            "/home/ana/wq",
            False,
            on_path(
                python="/home/ana/wq/.venv/bin/python", python3="/home/ana/wq/.venv/bin/python3"
            ),
            "python",
        ),
        # the venv's python run by its path, the system's python3 on PATH
        (
            "/home/ana/wq/.venv/bin/python",
            "/home/ana/wq",
            False,
            on_path(python3="/usr/bin/python3"),
            ".venv/bin/python",
        ),
        ("/home/ana/wq/python", "/home/ana/wq", False, on_path(), "./python"),
        (
            "/usr/local/bin/python3.12",
            "/home/ana/wq",
            False,
            on_path(python3="/usr/bin/python3"),
            "/usr/local/bin/python3.12",
        ),
        # Windows: names and drives in any case; another drive has no relative path
        (
            r"C:\wq\.venv\Scripts\python.exe",
            r"c:\WQ",
            True,
            on_path(python=r"C:\WQ\.venv\Scripts\python.EXE"),
            "python",
        ),
        (r"C:\wq\.venv\Scripts\python.exe", r"C:\wq", True, on_path(), r".venv\Scripts\python.exe"),
        (r"C:\Python312\python.exe", r"D:\wq", True, on_path(), r"C:\Python312\python.exe"),
    ],
)
def test_a_command_starts_with_the_python_in_use(executable, cwd, windows, which, command):
    assert python_command(executable, cwd, windows, which) == command


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


# --- the broker's set-up on macOS (scripts/ensure_rabbitmq.sh) ----------------------------------


def fake_mac(bin_dir, calls, rabbitmq_installed: bool) -> dict[str, str]:
    """A PATH where uname says Darwin, brew knows rabbitmq (or not), and sudo and the
    rabbitmq-* commands only write down that they were called."""
    bin_dir.mkdir()
    commands = {
        "uname": "echo Darwin",
        "brew": f'echo "brew $*" >> {calls}; exit {0 if rabbitmq_installed else 1}',
    }
    for name in ("sudo", "rabbitmq-server", "rabbitmqctl", "rabbitmq-plugins", "apt-get"):
        commands[name] = f'echo "{name} $*" >> {calls}; exit 1'
    for name, body in commands.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_dir / name).chmod(0o755)
    return dict(os.environ, PATH=f"{bin_dir}:/usr/bin:/bin")


@pytest.mark.parametrize(
    ("installed", "line"),
    [
        (
            True,
            "ensure_rabbitmq: RabbitMQ is not running on localhost:5672; start it with "
            "Homebrew: brew services start rabbitmq (no sudo), then run this again",
        ),
        (
            False,
            "ensure_rabbitmq: RabbitMQ is not installed; install and start it with Homebrew: "
            "brew install rabbitmq && brew services start rabbitmq (docs/macos.md)",
        ),
    ],
    ids=["stopped", "not installed"],
)
def test_on_macos_a_stopped_broker_is_left_to_homebrew_no_sudo(tmp_path, installed, line):
    """In a network namespace of its own nothing answers on 5672, as with the broker stopped."""
    calls = tmp_path / "calls"
    env = fake_mac(tmp_path / "bin", calls, installed)
    own_network = ["unshare", "-n"] if os.geteuid() == 0 else ["unshare", "-rn"]
    result = subprocess.run(
        [*own_network, "bash", str(PROJECT_ROOT / "scripts" / "ensure_rabbitmq.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert result.returncode == 1
    assert result.stderr.splitlines() == [line]
    called = calls.read_text().splitlines() if calls.exists() else []
    assert called == ["brew list rabbitmq"]  # no sudo, no rabbitmq-server over Homebrew's data
