"""The library the six work-queue scripts import, and the course's util_* modules.

Nothing here has side effects at import time.
"""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
