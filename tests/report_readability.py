"""What every report must get right for its reader, asserted over any set of rendered reports (a hand-made
week with known movements in test_report_numbers, the demo week through the whole graph in
test_range_equals_days): each KPI with its unit, each change in words that agree with the way the KPI moved
and with which way is better, no raw seconds, no bare signed percentages, a unit on every quantity column."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path

UNITLESS_FORMATS = {"text", "pct", "pts", "dur", "ts", "row", "num3", "p"}  # the figure carries its unit
RAW_SECONDS = re.compile(r"\b\d{3,}(\.\d+)? ?s\b")  # "5931 s": a duration nobody reads
SIGNED_PERCENT = re.compile(r"\([+-]\d+(\.\d+)?\s?%\)")  # "(-46.9 %)" beside a verdict


def figures(report) -> dict:
    """A rendered report's JSON twin (``report.json``: its path)."""
    return json.loads(Path(report.json).read_text(encoding="utf-8"))


def assert_every_kpi_shows_its_unit(reports: Iterable) -> set[str]:
    """Every KPI tile's value ends with its unit (or is a ratio or duration written as % / min / s), and a
    figure that is missing says so (never 0); returns the KPIs seen with a value."""
    seen = set()
    for report in reports:
        for kpi in figures(report)["kpis"]:
            assert kpi["unit_text"], kpi
            if kpi["value"] is None:
                assert kpi["value_text"] == "n/a" and kpi["change"] is None, kpi
                continue
            seen.add(kpi["kpi"])
            assert kpi["value_text"].rstrip("s").endswith(kpi["unit_text"].rstrip("s")) or (
                kpi["unit"] in ("ratio", "seconds") and re.search(r"%$| min$| s$", kpi["value_text"])
            ), kpi
    return seen


def assert_no_change_reads_against_its_kpi(reports: Iterable) -> int:
    """Every change says above/below as the KPI moved and better/worse as its direction says; no raw seconds
    and no bare signed percentage on the page; returns how many changes were checked."""
    checked = 0
    for report in reports:
        for kpi in figures(report)["kpis"]:
            if kpi["change"] is None or abs(kpi["change"]) < 0.0005:
                continue
            rose = kpi["change"] > 0
            reference = kpi["target"] if kpi["target"] is not None else kpi["trailing_30d_mean"]
            assert rose == (kpi["value"] > reference), kpi
            assert (" above " in kpi["comparison"]) == rose, kpi
            good_way = rose == (kpi["better"] == "higher")
            if kpi["verdict"].startswith("worse"):
                assert not good_way, kpi
            if kpi["verdict"].startswith("better"):
                assert good_way, kpi
            checked += 1
        html = Path(report.html).read_text(encoding="utf-8")
        assert not SIGNED_PERCENT.search(html), report.html
        assert not RAW_SECONDS.search(html), (report.html, RAW_SECONDS.search(html))
    return checked


def assert_every_quantity_column_names_its_unit(reports: Iterable) -> None:
    for report in reports:
        for section in figures(report)["sections"]:
            for column in section.get("columns", []):
                assert column["fmt"] in UNITLESS_FORMATS or column["unit"], (section["key"], column)
