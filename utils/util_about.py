"""Report this machine and its Python, as the course's util_about did.

Run it from the project root:  python utils/util_about.py
It prints the report and writes it to utils/util_outputs/util_about.txt.
"""

from __future__ import annotations

import io
import os
import platform
import sys
from pathlib import Path

OUTPUT = Path(__file__).resolve().parent / "util_outputs" / "util_about.txt"


def machine_report() -> str:
    """The operating system, the hardware and the Python running this script."""
    facts = {
        "Operating System": f"{os.name} {platform.system()} {platform.release()}",
        "System Architecture": platform.architecture()[0],
        "Number of CPUs": os.cpu_count(),
        "Machine Type": platform.machine(),
        "Python Version": platform.python_version(),
        "Python Build Date and Compiler": " ".join(platform.python_build()),
        "Python Implementation": platform.python_implementation(),
        "Python Executable": sys.executable,
        "Current Directory": Path.cwd(),
    }
    width = max(len(key) for key in facts)
    return "\n".join(f"{key:<{width}}: {value}" for key, value in facts.items()) + "\n"


def main() -> int:
    if isinstance(sys.stdout, io.TextIOWrapper):  # a character the console lacks: '?'
        sys.stdout.reconfigure(errors="replace")
    report = machine_report()
    OUTPUT.parent.mkdir(exist_ok=True)
    OUTPUT.write_text(report, encoding="utf-8")
    print(report + f"\nWritten to {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
