"""The readability of rendered reports (orchestration/reporting/readability.py), asserted over the reports
of a hand-made week with known movements (test_report_numbers) and of the demo week's days through the whole
graph (test_range_equals_days)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from orchestration.reporting.readability import Readability, check_reports


def figures(report) -> dict:
    """A rendered report's JSON twin (``report.json``: its path)."""
    return json.loads(Path(report.json).read_text(encoding="utf-8"))


def assert_reports_read_right(pages: Iterable[Path]) -> Readability:
    """No problem on any page; returns what was checked."""
    checked = check_reports(pages)
    assert not checked.problems, "\n".join(checked.problems[:20])
    return checked
