import sys

from orchestration.alerting.cli import main

sys.exit(main())
