"""The v3 emitter as a user runs it, but saying it is still blocked every REPEAT_EVERY
seconds (default 1) instead of every 30, so that a test sees the repeats within seconds:
`python -m tests.emitter_hooks [emitter options]` runs `v3_emitter_of_tasks.main()`."""

from __future__ import annotations

import os
import sys

import v3_emitter_of_tasks as emitter
from utils import alarms

if __name__ == "__main__":
    alarms.REPEAT_EVERY = float(os.environ.get("REPEAT_EVERY", "1"))
    sys.exit(emitter.main(sys.argv[1:]))
