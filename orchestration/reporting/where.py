"""Print where the rendered daily reports are: ``python -m orchestration.reporting.where``."""

from __future__ import annotations

import sys
from pathlib import Path

from orchestration.reporting.render import HTML_NAME
from orchestration.settings import load_settings


def rendered_reports(reports_dir: Path) -> list[Path]:
    """``<reports_dir>/<factory day>/daily_report.html`` files, oldest day first."""
    if not reports_dir.is_dir():
        return []
    return sorted(path for path in reports_dir.glob(f"*/{HTML_NAME}") if path.is_file())


def main() -> int:
    reports_dir = load_settings().reports_dir
    reports = rendered_reports(reports_dir)
    if not reports:
        print(f"No daily report in {reports_dir} yet: materialize the report assets first.")
        return 1
    print(f"Daily reports ({len(reports)}), newest last:")
    for path in reports:
        print(f"  {path.parent.name}  {path.resolve().as_uri()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
