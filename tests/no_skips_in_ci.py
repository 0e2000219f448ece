"""With CI set, every test runs: a skip there (a skip mark, a skipif whose condition holds,
pytest.skip in a test or a fixture, a module skipped whole, importorskip) fails instead,
saying why it would have skipped.

A skip that applies on a developer's machine (no throwaway node, no old Python) must not
leave a claim unchecked in CI, where the same test would pass by skipping.
"""

from __future__ import annotations

import os

import pytest


def failed_if_skipped_in_ci(report):
    if report.skipped and os.environ.get("CI") and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        reason = str(reason).removeprefix("Skipped: ")
        report.outcome = "failed"
        report.longrepr = f"skipped with CI set, where every test must run: {reason}"
    return report


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    return failed_if_skipped_in_ci((yield))


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector):
    return failed_if_skipped_in_ci((yield))
