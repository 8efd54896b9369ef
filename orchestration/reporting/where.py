"""Print where the rendered reports are: ``python -m orchestration.reporting.where``."""

from __future__ import annotations

import sys
from pathlib import Path

from orchestration.reporting.publish import DAILY_DIR, HANDOVER_DIR
from orchestration.reporting.render import HTML_NAME
from orchestration.settings import load_settings


def rendered_reports(reports_dir: Path) -> list[Path]:
    """``<reports_dir>/<factory day>/daily_report.html`` files (the full daily page), oldest day first."""
    if not reports_dir.is_dir():
        return []
    return sorted(path for path in reports_dir.glob(f"*/{HTML_NAME}") if path.is_file())


def day_pages(day_dir: Path) -> dict[str, list[Path]]:
    """The day's role reports and shift handovers: {"daily": [...], "handover": [...]}."""
    return {kind: sorted((day_dir / kind).glob("*.html")) for kind in (DAILY_DIR, HANDOVER_DIR)}


def main() -> int:
    reports_dir = load_settings().reports_dir
    days = sorted(
        {p.parent for p in rendered_reports(reports_dir)}
        | {p.parent.parent for p in reports_dir.glob(f"*/{DAILY_DIR}/*.html")}
    )
    if not days:
        print(f"No daily report in {reports_dir} yet: materialize the report assets first.")
        return 1
    print(f"Reports of {len(days)} factory days, newest last:")
    for day_dir in days:
        full = day_dir / HTML_NAME
        print(f"  {day_dir.name}  {full.resolve().as_uri() if full.exists() else '(no full daily page)'}")
        for kind, pages in day_pages(day_dir).items():
            if pages:
                names = ", ".join(p.stem for p in pages)
                print(f"    {kind + ':':<10}{names}  ({pages[0].parent.resolve().as_uri()}/)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
