"""With CI set no test skips: each way a test can skip fails it there (tests/no_skips_in_ci.py,
the hooks of tests/conftest.py), and skips as before on a developer's machine."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from utils import PROJECT_ROOT

SKIPPING = """
import pytest

@pytest.fixture
def unavailable():
    pytest.skip("no such service here")

@pytest.mark.skip(reason="marked skip")
def test_marked(): pass

@pytest.mark.skipif(True, reason="a condition that holds")
def test_skipif(): pass

def test_skipped_in_the_body():
    pytest.skip("from the body")

def test_skipped_by_a_fixture(unavailable): pass

@pytest.mark.skipif(False, reason="a condition that does not hold")
def test_runs(): pass

@pytest.mark.xfail(reason="expected to fail", strict=True)
def test_expected_to_fail():
    assert False
"""
SKIPPED_WHOLE = """
import pytest
pytest.importorskip("no_module_of_that_name")

def test_never_collected(): pass
"""


def run_pytest(tmp_path, ci: bool) -> str:
    """Run pytest on the two files above, with the project's hooks: its closing summary."""
    (tmp_path / "test_skipping.py").write_text(SKIPPING)
    (tmp_path / "test_skipped_whole.py").write_text(SKIPPED_WHOLE)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")  # not the project's settings
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    if ci:
        env["CI"] = "true"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.no_skips_in_ci", "-p", "no:cacheprovider"]
        + ["--continue-on-collection-errors", "-rfEs", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.stdout


@pytest.mark.parametrize("ci", [True, False], ids=["CI set", "no CI"])
def test_with_ci_set_every_kind_of_skip_fails_and_says_why(tmp_path, ci):
    output = run_pytest(tmp_path, ci)
    summary = output.strip().splitlines()[-1]

    if not ci:
        assert re.search(r"=+ 1 passed, 5 skipped, 1 xfailed in ", summary), output
        return
    # the marks and the fixture skip while setting up the test: an error; the others fail
    assert re.search(r"=+ 1 failed, 1 passed, 1 xfailed, 4 errors in ", summary), output
    for why in (
        "marked skip",
        "a condition that holds",
        "from the body",
        "no such service here",
        "could not import 'no_module_of_that_name'",
    ):
        assert f"skipped with CI set, where every test must run: {why}" in output, output
