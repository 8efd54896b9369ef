import sys

from orchestration.distribution.cli import main

sys.exit(main())
