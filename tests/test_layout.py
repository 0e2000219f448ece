"""bench/ stands on its own: no module outside tests/ imports them, so neither bench/ nor
anything it imports does. What the benchmarks share with the tests is harness/."""

from __future__ import annotations

import ast
from pathlib import Path

from utils import PROJECT_ROOT

NOT_OURS = (".venv", "bench/out")  # the virtual environment, the benchmarks' output


def imported_modules(path: Path) -> set[str]:
    """The modules a file imports, a relative import resolved against its package."""
    package = path.relative_to(PROJECT_ROOT).parent.parts
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else ()
            modules.add(".".join([*base, *([node.module] if node.module else [])]))
    return modules


def outside_tests() -> list[Path]:
    """Every Python file of the project but the tests'."""
    skipped = ("tests", *NOT_OURS)
    return [
        path
        for path in PROJECT_ROOT.rglob("*.py")
        if not any(
            path.relative_to(PROJECT_ROOT).as_posix().startswith(f"{top}/") for top in skipped
        )
    ]


def test_nothing_outside_tests_imports_them():
    imports = {
        path.relative_to(PROJECT_ROOT).as_posix(): imported_modules(path)
        for path in outside_tests()
    }
    # the check reads real imports: bench/ builds on the harness
    assert "harness.children" in imports["bench/children.py"]
    assert "harness.broker" in imports["bench/run_all.py"]
    offenders = sorted(
        f"{path} imports {module}"
        for path, modules in imports.items()
        for module in modules
        if module == "tests" or module.startswith("tests.")
    )
    assert offenders == []
