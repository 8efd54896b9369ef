"""The data-quality section every role gets: blocking checks that failed, rows held back by the quality gate,
and KPIs the day's data cannot support."""

from __future__ import annotations

import json

from orchestration.quality.validation_report import QUALITY_DIR
from orchestration.reporting.day_figures import load_held_back, load_not_computable
from orchestration.reporting.section import Column, DaySource, Section


def failed_suites(source: DaySource) -> list[str]:
    """Tables whose Great Expectations suite failed for the day (outcomes the checks left on the shelf)."""
    if source.reports_day_dir is None:
        return []
    folder = source.reports_day_dir / QUALITY_DIR
    failed = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            outcome = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        if outcome.get("failed"):
            failed.append(str(outcome.get("table", path.stem)))
    return failed


def blocking_failures(source: DaySource) -> list[str]:
    """What held the day's data back: the orchestrator's failed blocking checks and the failed suites."""
    cached = source.cache.get("blocking_failures")
    if cached is None:
        cached = [f"blocking check {name} failed" for name in source.blocked_checks]
        cached += [
            f"the expectations of raw table {table} failed"
            for table in failed_suites(source)
            if not any(table in name for name in source.blocked_checks)
        ]
        source.cache["blocking_failures"] = cached
    return cached


def data_quality(source: DaySource) -> Section:
    section = Section("data_quality", "Data quality", "")
    blocked = blocking_failures(source)
    held = load_held_back(source.conn, source.day)
    not_computable = load_not_computable(source.conn, source.day)
    section.rows = [
        {
            "table_name": table["table_name"],
            "rows_in": table["rows_in"],
            "rows_quarantined": table["rows_quarantined"],
            "reasons": "; ".join(f"{r['rows']} x {r['reason']}" for r in table["reasons"]),
        }
        for table in held
    ]
    section.columns = [
        Column("table_name", "Raw table"),
        Column("rows_in", "Landed", "num", "rows"),
        Column("rows_quarantined", "Held back", "num", "rows"),
        Column("reasons", "Reasons"),
    ]
    section.extra = {"blocking_failures": blocked, "not_computable": not_computable, "held_back": held}
    for failure in blocked:
        section.missing.append(f"{failure}: figures depending on it are missing or stale")
    parts = []
    if blocked:
        parts.append("Blocking checks failed: " + "; ".join(blocked) + ".")
    if held:
        parts.append(f"{sum(t['rows_quarantined'] for t in held)} rows held back by the quality gate.")
    if not_computable:
        parts.append("Not computable from the data: " + ", ".join(sorted(not_computable)) + ".")
    section.headline = " ".join(parts) or "Every landed row passed the quality gate."
    # Held-back data come first: every other figure of the page depends on them.
    section.attention = 10.0 if blocked else (1.0 if held else 0.0)
    return section
