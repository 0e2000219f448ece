"""The README and the docs pages made from it quote only what the scripts print: each
quoted console line of their code blocks (the v3 emitter's and workers' lines, the demo's
report) matches a line of a real demo run, numbers, times and row lists aside."""

from __future__ import annotations

import re

import pytest

from tests.support import run_tool
from utils import PROJECT_ROOT

README = PROJECT_ROOT / "README.md"
PAGES = [README] + [
    PROJECT_ROOT / "docs" / f"{name}.md"
    for name in ("benchmarks", "cluster", "lab", "permissions", "tls", "troubleshooting")
]
# lines a demo run prints: the v3 scripts' own, and the demo's report
QUOTED = re.compile(r"^( \[[x*]\] .*|Makespan real / ideal .*|Real timeline .*|Ideal timeline .*)$")


def quoted_lines() -> list[str]:
    """The pages' quoted console lines: those of their fenced code blocks that QUOTED takes."""
    lines = []
    for page in PAGES:
        in_block = False
        for line in page.read_text().splitlines():
            if line.startswith("```"):
                in_block = not in_block
            elif in_block and QUOTED.match(line):
                lines.append(line)
    return lines


def shape(line: str) -> re.Pattern:
    """A pattern for the lines of the same shape: any numbers, times, tasks and row lists."""
    pattern = re.escape(line.strip())
    pattern = re.sub(r"rows\\ [\d,\\ \-]+", r"rows [\\d, -]+", pattern)  # a list of rows
    pattern = re.sub(r"\d+(?:\\\.\d+)*", r"\\d+(?:\\.\\d+)*", pattern)  # numbers, times
    pattern = re.sub(r"(row\\ \\d\+\(\?:\\\.\\d\+\)\*\\ .*?):\\ .*$", r"\1: .+", pattern)
    return re.compile(pattern)


def test_the_readme_quotes_console_lines():
    """The check below would pass on a README that quotes nothing: it quotes these."""
    quoted = quoted_lines()
    assert any("Sent 18 rows of tasks.csv" in line for line in quoted)
    assert any("did 9 tasks" in line for line in quoted)
    assert any(line.startswith("Makespan real / ideal") for line in quoted)


@pytest.mark.broker
def test_every_quoted_line_is_one_the_scripts_print(vhost, tmp_path):
    demo = run_tool(
        "demo",
        "--seconds-per-dot",
        "0.02",
        "--compare-prefetch",
        url=vhost.url,
        log_dir=tmp_path,
        timeout=120,
    )
    assert demo.returncode == 0, demo.stdout + demo.stderr
    printed = demo.stdout.splitlines()

    not_printed = [
        line for line in quoted_lines() if not any(shape(line).search(real) for real in printed)
    ]
    assert not_printed == [], "\n".join(not_printed)
