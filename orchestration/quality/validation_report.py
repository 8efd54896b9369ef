"""Each suite run leaves its outcome under ``<reports>/<day>/quality/<table>.json`` (expectations evaluated,
which failed, with counts and samples), for the day's data-quality page (reporting/quality_page.py).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from orchestration.quality.raw_suites import ValidationOutcome

QUALITY_DIR = "quality"


def write_outcome(reports_day_dir: Path, outcome: ValidationOutcome) -> Path:
    folder = Path(reports_day_dir) / QUALITY_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{outcome.table}.json"
    path.write_text(json.dumps(asdict(outcome), indent=2, default=str))
    return path
