"""`python -m tools.lab`: see tools/lab/cli.py."""

import sys

from utils.errors import missing_module

try:
    from tools.lab.cli import main
except ModuleNotFoundError as missing:  # run outside the project's virtual environment
    sys.exit(missing_module("lab", missing, run_as="-m tools.lab"))

sys.exit(main())
