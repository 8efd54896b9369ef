import sys

from orchestration.anomalies.cli import main

sys.exit(main())
