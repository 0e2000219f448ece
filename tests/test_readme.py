"""The README and docs/*.md say only what the tree holds and the programs print.

- Each quoted console line of their code blocks that a demo run prints (the v3 emitter's and
  workers' lines, the demo's report) matches a line of a real demo run, numbers, times and
  row lists aside.
- Every test they name is defined, every path and module they name exists (a module's
  attribute too), and every console line they quote, in a code block or inline, is made of
  text that the programs' own strings hold: a line whose wording drifted from the code's
  fails. These checks read the tree as it is, so names that another change adds count once
  they are there.
"""

from __future__ import annotations

import ast
import importlib
import re
from functools import cache
from pathlib import Path

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


# --- every page against the tree -----------------------------------------------------------

ALL_PAGES = [README, *sorted((PROJECT_ROOT / "docs").glob("*.md"))]
TEST_NAME = re.compile(r"\b(test_\w+)\b(?!\.py)")
PATH = re.compile(r"(?<![\w./-])((?:utils|tools|tests|bench|scripts|docs)/[\w./-]*[\w/])")
MODULE = re.compile(r"(?<![\w./-])((?:utils|tools|tests|bench)(?:\.\w+)+)")
SPAN = re.compile(r"`([^`\n]+)`")
# a console line: the scripts' " [x] ..." lines, "program: error: ...", the demo's and the
# lab's own "demo | ..." lines
CONSOLE = re.compile(r"^(?: \[[x*!]\] \S.*|[\w.]+: (?:error|warning): .+|(?:demo|lab) +\| .+)$")
# in a quoted line, what changes from run to run: quoted text, a task ("First task...."),
# numbers and a plural after them ("18 rows"), names with digits, dots, slashes, underscores
# or hyphens, a queue's name, the elided "..."
VARYING = re.compile(
    r"(?<!\w)'[^']*'(?!\w)|\"[^\"]*\"|(?:[A-Z]\w* )?\w+\.{2,}\S*|<[^>]*>"
    r"|\d[\d.:,-]*(?:(?: [a-z]+)? [a-z]+s\b)?"
    r"|\S*\w[-/_.\\]\w\S*|\S*\d\S*|(?<=queue )\S+|\.\.\.|…"
)
# what other programs wrote, quoted inside our lines: OpenSSL's and the broker's words
OTHERS_WORDS = ("certificate in certificate chain", "broker forced connection closure with reason")
SEAMS = re.compile(r"[:;(),=|\[\]]|\.(?:\s|$)")  # where a line's pieces are joined
TASK = re.compile(r"^( \[x\] (?:Sent|Received) (?:row .*?\d: )?).*$")  # the task: any text


def page_text(page: Path) -> str:
    return page.read_text(encoding="utf-8")


def code_spans(page: Path) -> list[str]:
    """The text of every inline code span, and every line of every fenced block."""
    spans, in_block = [], False
    for line in page_text(page).splitlines():
        if line.startswith("```"):
            in_block = not in_block
        elif in_block:
            spans.append(line)
        else:
            spans += SPAN.findall(line)
    return spans


@cache
def defined_tests() -> frozenset[str]:
    """The test functions the tree defines, under tests/ and bench/."""
    names = set()
    for path in [*PROJECT_ROOT.glob("tests/**/*.py"), *PROJECT_ROOT.glob("bench/**/*.py")]:
        names.update(re.findall(r"^\s*(?:async )?def (test_\w+)", path.read_text(), re.M))
    return frozenset(names)


def test_every_test_the_pages_name_is_defined():
    named = {(page.name, name) for page in ALL_PAGES for name in TEST_NAME.findall(page_text(page))}
    assert len(named) > 20  # the check below would pass on pages that name none
    assert sorted(pair for pair in named if pair[1] not in defined_tests()) == []


def test_every_path_the_pages_name_exists():
    named = {(page.name, path) for page in ALL_PAGES for path in PATH.findall(page_text(page))}
    assert len(named) > 20
    missing = [(page, path) for page, path in named if not (PROJECT_ROOT / path).exists()]
    assert sorted(missing) == []


def resolves(dotted: str) -> bool:
    """Whether `utils.tasks.seconds_per_dot` names a module, or a module's attribute."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            if not hasattr(found, attribute):
                return False
            found = getattr(found, attribute)
        return True
    return False


def test_every_module_the_pages_name_can_be_imported():
    named = {
        (page.name, module)
        for page in ALL_PAGES
        for span in code_spans(page)
        for module in MODULE.findall(span)
    }
    assert len(named) > 10
    assert sorted(pair for pair in named if not resolves(pair[1])) == []


@cache
def program_strings() -> str:
    """Every string the programs hold (the six scripts, utils/, tools/, scripts/), adjacent
    literals joined as Python joins them, one a line."""
    strings = []
    for path in [*PROJECT_ROOT.glob("*.py"), *PROJECT_ROOT.glob("utils/**/*.py")]:
        strings += literals(path)
    for path in PROJECT_ROOT.glob("tools/**/*.py"):
        strings += literals(path)
    strings += [path.read_text() for path in PROJECT_ROOT.glob("scripts/*.sh")]
    return "\n".join(strings)


def literals(path: Path) -> list[str]:
    """A file's string literals, but not its docstrings (which say what the code does, not
    what it prints)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def fixed_pieces(line: str) -> list[str]:
    """A quoted line's wording: what is left between what varies and where pieces join."""
    pieces = SEAMS.split(VARYING.sub("|", TASK.sub(r"\1|", " " + line.lstrip())))
    return [" ".join(piece.split()) for piece in pieces if len(piece.split()) >= 2]


def worded_by_the_programs(piece: str, corpus: str) -> bool:
    """Whether a piece is runs of words that the programs' strings hold, each run of two
    words or more (one word only at either end, next to a value the code puts there)."""
    if any(words in piece for words in OTHERS_WORDS):
        return True
    words = piece.split()
    ends_at = {0}  # word indices where a run of the programs' words may end
    for end in range(1, len(words) + 1):
        ends_at |= {
            end
            for start in ends_at
            if start < end
            and (end - start >= 2 or start == 0 or end == len(words))
            and " ".join(words[start:end]) in corpus
        }
    return len(words) in ends_at


def drifted_pieces(line: str) -> list[str]:
    corpus = program_strings()
    return [piece for piece in fixed_pieces(line) if not worded_by_the_programs(piece, corpus)]


def quoted_console_lines() -> list[tuple[str, str]]:
    return [
        (page.name, span.strip("` "))
        for page in ALL_PAGES
        for span in code_spans(page)
        if CONSOLE.match(span) or CONSOLE.match(" " + span.lstrip())
    ]


def test_every_console_line_the_pages_quote_is_worded_as_the_programs_word_it():
    quoted = quoted_console_lines()
    assert len(quoted) > 30
    drifted = [
        f"{page}: {line!r}: {piece!r}" for page, line in quoted for piece in drifted_pieces(line)
    ]
    assert drifted == [], "\n".join(drifted)


def test_a_line_worded_otherwise_than_the_programs_is_caught():
    """The check above can fail: last turn's stale quote of the worker's blocked line."""
    stale = (
        " [!] worker 1: tasks to retry or set aside stay unacked until the broker takes their "
        "copies; other tasks go on"
    )
    assert len(drifted_pieces(stale)) == 2  # both halves of it
    current = " [!] worker 1 holds a task until RabbitMQ takes its copy; no new task meanwhile"
    assert drifted_pieces(current) == []


def test_the_pages_have_no_doubled_punctuation():
    """A sentence's end after a comma (`run),.`) is a slip of editing."""
    slips = [
        (page.name, number, line)
        for page in ALL_PAGES
        for number, line in enumerate(page_text(page).splitlines(), 1)
        if re.search(r"[,;:]\.(?!\.)|(?<!\.\.)\.,", SPAN.sub("", line))
    ]
    assert slips == []


def test_the_docs_index_lists_every_page_and_links_only_to_pages_that_exist():
    index = page_text(PROJECT_ROOT / "docs" / "README.md")
    linked = re.findall(r"\]\(([^)#]+)\)", index)
    pages = {path.name for path in (PROJECT_ROOT / "docs").glob("*.md")} - {"README.md"}
    assert sorted(set(linked)) == sorted(pages)


# --- docs/windows.md, as a student on Windows follows it ----------------------------------------

WINDOWS = PROJECT_ROOT / "docs" / "windows.md"


def windows_blocks() -> list[str]:
    return re.findall(r"^ *```(?:powershell|bat)\n(.*?)^ *```", page_text(WINDOWS), re.M | re.S)


def test_windows_the_cookie_step_comes_before_the_first_rabbitmq_command_that_needs_it():
    """rabbitmq-plugins, like rabbitmqctl, fails to authenticate until the cookie is copied."""
    blocks = windows_blocks()
    cookie = next(n for n, block in enumerate(blocks) if ".erlang.cookie" in block)
    plugins = next(n for n, block in enumerate(blocks) if "rabbitmq-plugins enable" in block)
    assert cookie < plugins


def test_windows_the_venv_is_made_by_whatever_python_3_is_newest():
    """py -3.12 fails on a machine with only 3.13: every venv command says py -3."""
    venvs = [line for block in windows_blocks() for line in block.splitlines() if "-m venv" in line]
    assert venvs and all(line.startswith("py -3 -m venv ") for line in venvs)


def test_windows_a_folder_path_with_spaces_is_quoted():
    cds = [line for block in windows_blocks() for line in block.splitlines() if line[:3] == "cd "]
    assert cds and all(" " not in line[3:] or line[3] == '"' == line[-1] for line in cds)
    assert "Download ZIP" in page_text(WINDOWS) and "git clone" in page_text(WINDOWS)


def test_windows_an_idle_v1_v2_worker_stops_within_the_same_time_everywhere_on_the_page():
    """The page once said 5 s in one place and half a second in another."""
    text = " ".join(page_text(WINDOWS).split())
    assert "within about half a second" in text and "half-second stop of an idle" in text
    assert not re.search(r"\b5 s stop|stops? (?:with)?in (?:about )?5 s", text)


def test_windows_says_no_sigterm_reaches_a_script_and_names_ctrl_break():
    text = " ".join(page_text(WINDOWS).split())
    assert "Windows delivers no SIGTERM that a script can catch" in text
    assert "taskkill /F" in text and "Ctrl+Break" in text
