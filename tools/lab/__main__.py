"""`python -m tools.lab`: see tools/lab/cli.py."""

import sys

from tools.lab.cli import main

sys.exit(main())
