"""The library the six work-queue scripts import, and the course's util_* modules.

Importing it does two things for every program, first: a Python too old for the project
stops with one line saying what to install, and the console writes '?' for a character
it cannot show instead of crashing (utils/platforms.py). Nothing else here has side
effects at import time.
"""

from pathlib import Path

from utils.platforms import check_python, never_crash_on_console

check_python()
never_crash_on_console()

PROJECT_ROOT = Path(__file__).resolve().parent.parent
