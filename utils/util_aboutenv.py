"""Report the virtual environment and check the project's requirements, as util_aboutenv did.

Run it from the project root:  python utils/util_aboutenv.py
It prints the report and writes it to utils/util_outputs/util_aboutenv.txt. The exit status
is 1 when a requirement is missing or does not satisfy requirements.txt.
"""

from __future__ import annotations

import io
import os
import re
import sys
from importlib import metadata
from pathlib import Path

REQUIREMENTS = Path(__file__).resolve().parent.parent / "requirements.txt"
OUTPUT = Path(__file__).resolve().parent / "util_outputs" / "util_aboutenv.txt"


def environment_lines() -> list[str]:
    """Which Python and which virtual environment (venv or conda) are active."""
    in_venv = sys.prefix != sys.base_prefix
    return [
        f"Python executable:        {sys.executable}",
        f"Virtual environment:      {sys.prefix if in_venv else 'none (system Python)'}",
        f"Active conda environment: {os.environ.get('CONDA_DEFAULT_ENV', 'none')}",
    ]


def requirement_lines(requirements: Path) -> tuple[list[str], bool]:
    """One line per requirement: the installed version, or MISSING; and whether all are met."""
    lines, all_met = [], True
    for raw in requirements.read_text(encoding="utf-8").splitlines():
        spec = raw.split("#")[0].strip()
        if not spec or spec.startswith("-"):
            continue
        name = re.split(r"[<>=!~\[; ]", spec, maxsplit=1)[0]
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            lines.append(f"  {spec:<20} MISSING (pip install -r requirements.txt)")
            all_met = False
            continue
        met = satisfies(spec, version)
        all_met &= met is not False
        verdict = {True: "ok", False: "DOES NOT SATISFY", None: "(not checked)"}[met]
        lines.append(f"  {spec:<20} {version} {verdict}")
    return lines, all_met


def satisfies(spec: str, version: str) -> bool | None:
    """Whether version meets spec, by the `packaging` library (None where it is not installed)."""
    try:
        from packaging.requirements import Requirement
    except ImportError:
        return None
    return Requirement(spec).specifier.contains(version, prereleases=True)


def main() -> int:
    if isinstance(sys.stdout, io.TextIOWrapper):  # a character the console lacks: '?'
        sys.stdout.reconfigure(errors="replace")
    requirements, all_met = requirement_lines(REQUIREMENTS)
    report = "\n".join([*environment_lines(), "Requirements (requirements.txt):", *requirements])
    OUTPUT.parent.mkdir(exist_ok=True)
    OUTPUT.write_text(report + "\n", encoding="utf-8")
    print(report + f"\n\nWritten to {OUTPUT}")
    return 0 if all_met else 1


if __name__ == "__main__":
    sys.exit(main())
