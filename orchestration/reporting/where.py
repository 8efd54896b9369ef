"""Print where the rendered reports are: ``python -m orchestration.reporting.where``."""

from __future__ import annotations

import sys
from pathlib import Path

from orchestration.reporting.publish import DAILY_DIR, HANDOVER_DIR
from orchestration.settings import load_settings


def report_days(reports_dir: Path) -> list[Path]:
    """The factory days with role reports or handovers rendered (``<reports_dir>/<day>/``), oldest first."""
    if not reports_dir.is_dir():
        return []
    return sorted(
        {
            page.parent.parent
            for kind in (DAILY_DIR, HANDOVER_DIR)
            for page in reports_dir.glob(f"*/{kind}/*.html")
        }
    )


def day_pages(day_dir: Path) -> dict[str, list[Path]]:
    """The day's role reports and shift handovers: {"daily": [...], "handover": [...]}."""
    return {kind: sorted((day_dir / kind).glob("*.html")) for kind in (DAILY_DIR, HANDOVER_DIR)}


def main() -> int:
    reports_dir = load_settings().reports_dir
    days = report_days(reports_dir)
    if not days:
        print(f"No daily report in {reports_dir} yet: materialize the report assets first.")
        return 1
    print(f"Reports of {len(days)} factory days, newest last (open a role's report in a browser):")
    for day_dir in days:
        print(f"  {day_dir.name}")
        for kind, pages in day_pages(day_dir).items():
            if pages:
                names = ", ".join(p.stem for p in pages)
                print(f"    {kind + ':':<10}{names}  ({pages[0].parent.resolve().as_uri()}/)")
    director = days[-1] / DAILY_DIR / "director.html"
    if director.is_file():
        print(f"The director's report of the last day: {director.resolve().as_uri()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
