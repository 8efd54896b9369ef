"""The day's data-quality page, ``<reports>/<day>/quality/index.html``, linked from every role's daily report.

A self-contained equivalent of Great Expectations' Data Docs, readable offline: the suites' outcomes of the
day (written by the checks, see orchestration/quality/validation_report.py) and the rows the gate held back.
"""

from __future__ import annotations

import json
from pathlib import Path

from orchestration.quality.validation_report import QUALITY_DIR
from orchestration.reporting.pages import environment

PAGE = "index.html"


def render_quality_page(reports_day_dir: Path, day: str, held_back: list[dict]) -> Path | None:
    """Render the page from the suites' outcomes of the day; None when no suite has run for it."""
    folder = Path(reports_day_dir) / QUALITY_DIR
    outcomes = [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))] if folder.is_dir() else []
    if not outcomes:
        return None
    html = (
        environment()
        .get_template("quality_page.html.j2")
        .render(day=day, outcomes=outcomes, held_back=held_back)
    )
    page = folder / PAGE
    page.write_text(html)
    return page
