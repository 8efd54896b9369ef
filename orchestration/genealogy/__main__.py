"""``python -m orchestration.genealogy``: the trace and export commands (orchestration/genealogy/cli.py)."""

import sys

from orchestration.genealogy.cli import main

sys.exit(main())
