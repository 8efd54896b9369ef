import sys

from orchestration.rca.cli import main

sys.exit(main())
