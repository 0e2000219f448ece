"""A script run by a Python without the project's requirements says how to fix it."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from harness.children import script_env
from utils import PROJECT_ROOT


def run_without_site_packages(
    *args: str, log_dir, cwd: Path = PROJECT_ROOT
) -> subprocess.CompletedProcess:
    """`python -S ARGS`: no site-packages, as a Python where pika was never installed."""
    return subprocess.run(
        [sys.executable, "-S", *args],
        cwd=cwd,
        env=script_env("amqp://guest:guest@127.0.0.1:1/", log_dir=log_dir),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.mark.parametrize(
    "script",
    [
        "v1_emitter_of_tasks.py",
        "v1_listening_worker.py",
        "v2_emitter_of_tasks.py",
        "v2_listening_worker.py",
        "v3_emitter_of_tasks.py",
        "v3_listening_worker.py",
    ],
)
def test_a_script_run_outside_the_venv_says_to_activate_it(script, tmp_path):
    result = run_without_site_packages(str(PROJECT_ROOT / script), log_dir=tmp_path)
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line.startswith(f"{script[:-3]}: error: the module 'pika' is not installed for ")
    assert f"run .venv/bin/python {script}, or activate the project's virtual environment " in line
    assert "first: source .venv/bin/activate; or install the requirements for this " in line


@pytest.mark.parametrize("module", ["demo", "lab", "watch_queues"])
def test_a_tool_run_outside_the_venv_says_to_activate_it(module, tmp_path):
    result = run_without_site_packages("-m", f"tools.{module}", log_dir=tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(f"{module}: error: the module 'pika' is not installed for ")
    assert f"run .venv/bin/python -m tools.{module}, or activate the project's virtual " in line


@pytest.mark.parametrize("script", ["v1_emitter_of_tasks.py", "v3_listening_worker.py"])
def test_run_from_another_folder_the_line_gives_paths_that_exist_from_there(script, tmp_path):
    """`cd /tmp && python3 /path/v3_listening_worker.py`: the paths are given in full."""
    elsewhere = tmp_path / "another folder"
    elsewhere.mkdir()
    result = run_without_site_packages(str(PROJECT_ROOT / script), log_dir=tmp_path, cwd=elsewhere)

    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    hint = line.split(": run ", 1)[1]
    run, activate, install = re.fullmatch(
        r"(.+), or activate the project's virtual environment first: source (.+); "
        r"or install the requirements for this Python: \S+ -m pip install -r (.+)",
        hint,
    ).groups()
    assert shlex.split(run) == [f"{PROJECT_ROOT}/.venv/bin/python", f"{PROJECT_ROOT}/{script}"]
    for path in [*shlex.split(run), *shlex.split(activate), *shlex.split(install)]:
        assert (elsewhere / path).exists(), path  # absolute: the same from any folder


def test_the_pip_line_names_the_python_that_ran_the_script(tmp_path):
    result = run_without_site_packages(
        str(PROJECT_ROOT / "v3_emitter_of_tasks.py"), log_dir=tmp_path
    )
    pip = re.search(
        r"; or install the requirements for this Python(?: \(conda's [^)]*\))?: "
        r"(.+) -m pip install -r requirements\.txt$",
        result.stderr.strip(),
    )
    assert pip, result.stderr
    # the command as a user pastes it starts this very Python (a Mac has no bare python)
    ran = subprocess.run(
        [*shlex.split(pip[1]), "-c", "import sys; print(sys.executable)"],
        cwd=PROJECT_ROOT,
        env=script_env("amqp://guest:guest@127.0.0.1:1/", log_dir=tmp_path),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert ran.stdout.strip() == sys.executable
