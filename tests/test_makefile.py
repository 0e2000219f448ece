"""The Makefile: a cold `make demo` installs only what the demo runs; lint and tests add the
development tools; only `make bench` adds the peers (requirements-bench.txt), and passes
BENCH_ARGS on."""

from __future__ import annotations

import shutil
import subprocess

from utils import PROJECT_ROOT


def dry_run(tmp_path, *args: str) -> str:
    """`make -n ARGS` in a copy of the project's Makefile and requirements: no .venv yet."""
    for name in ("Makefile", "requirements.txt", "requirements-dev.txt", "requirements-bench.txt"):
        shutil.copy(PROJECT_ROOT / name, tmp_path / name)
    result = subprocess.run(
        ["make", "-n", *args], cwd=tmp_path, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_cold_make_demo_installs_only_the_runtime_requirements(tmp_path):
    planned = dry_run(tmp_path, "demo")
    assert "pip install -q --disable-pip-version-check -r requirements.txt" in planned
    assert "requirements-dev.txt" not in planned
    assert "-m tools.demo" in planned


def test_lint_and_test_add_the_development_tools(tmp_path):
    for target in ("lint", "test", "check"):
        planned = dry_run(tmp_path, target)
        assert "-r requirements.txt" in planned
        assert "-r requirements-dev.txt" in planned
        assert "requirements-bench.txt" not in planned


def test_only_bench_installs_the_peers(tmp_path):
    planned = dry_run(tmp_path, "bench")
    for requirements in ("requirements.txt", "requirements-dev.txt", "requirements-bench.txt"):
        assert f"pip install -q --disable-pip-version-check -r {requirements}" in planned
    assert planned.index("requirements-bench.txt") < planned.index("-m bench.run_all")
    for target in ("demo", "lab", "partition"):
        assert "requirements-bench.txt" not in dry_run(tmp_path, target)


def test_bench_args_reach_the_benchmarks(tmp_path):
    planned = dry_run(tmp_path, "bench", "BENCH_ARGS=--only worker --runs 7")
    assert ".venv/bin/python -m bench.run_all --only worker --runs 7" in planned
