"""What every rendered report must get right for its reader, checked on the files a role receives: each KPI
with its unit (a missing figure says n/a, never 0), each change in words that agree with the way the KPI moved
and with which way is better, no duration in raw seconds, no bare signed percentage, a unit on every table
column holding a quantity. `make checks` runs it over the window's reports; the tests over hand-made and
built weeks."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

UNITLESS_FORMATS = {"text", "pct", "pts", "dur", "ts", "row", "num3", "p"}  # the figure carries its unit
RAW_SECONDS = re.compile(r"\b\d{3,}(\.\d+)? ?s\b")  # "5931 s": a duration nobody reads
SIGNED_PERCENT = re.compile(r"\([+-]\d+(\.\d+)?\s?%\)")  # "(-46.9 %)" beside a verdict


@dataclass
class Readability:
    kpis_with_value: set[str] = field(default_factory=set)
    changes_checked: int = 0
    problems: list[str] = field(default_factory=list)


def moved(kpi: dict) -> bool:
    """The KPI has a change worth words (one exactly on its reference has none)."""
    return kpi["change"] is not None and abs(kpi["change"]) >= 0.0005


def kpi_problems(kpi: dict) -> list[str]:
    """What is wrong with one KPI tile of a report's JSON twin."""
    name = kpi["kpi"]
    if not kpi["unit_text"]:
        return [f"{name}: no unit"]
    if kpi["value"] is None:
        ok = kpi["value_text"] == "n/a" and kpi["change"] is None
        return [] if ok else [f"{name}: missing figure shown as {kpi['value_text']!r}"]
    found = []
    if not (
        kpi["value_text"].rstrip("s").endswith(kpi["unit_text"].rstrip("s"))
        or (kpi["unit"] in ("ratio", "seconds") and re.search(r"%$| min$| s$", kpi["value_text"]))
    ):
        found.append(f"{name}: {kpi['value_text']!r} does not carry its unit {kpi['unit_text']!r}")
    if moved(kpi):
        rose = kpi["change"] > 0
        reference = kpi["target"] if kpi["target"] is not None else kpi["trailing_30d_mean"]
        good_way = rose == (kpi["better"] == "higher")
        if rose != (kpi["value"] > reference) or (" above " in kpi["comparison"]) != rose:
            found.append(f"{name}: change {kpi['change']:+.3f} said as {kpi['comparison']!r}")
        if kpi["verdict"].startswith("worse") == good_way and kpi["verdict"].startswith(("worse", "better")):
            found.append(
                f"{name}: {kpi['verdict']!r} though it moved the {'good' if good_way else 'bad'} way"
            )
    return found


def check_reports(pages: Iterable[Path]) -> Readability:
    """Every report page (``<role>.html`` beside its ``<role>.json`` twin) in ``pages``."""
    seen = Readability()
    for page in pages:
        twin = json.loads(page.with_suffix(".json").read_text(encoding="utf-8"))
        for kpi in twin["kpis"]:
            seen.problems += [f"{page}: {problem}" for problem in kpi_problems(kpi)]
            if kpi["value"] is not None:
                seen.kpis_with_value.add(kpi["kpi"])
                seen.changes_checked += moved(kpi)
        for section in twin["sections"]:
            for column in section.get("columns", []):
                if column["fmt"] not in UNITLESS_FORMATS and not column["unit"]:
                    seen.problems.append(f"{page}: {section['key']}.{column['key']} has no unit")
        html = page.read_text(encoding="utf-8")
        for pattern, what in ((SIGNED_PERCENT, "a bare signed percentage"), (RAW_SECONDS, "raw seconds")):
            if match := pattern.search(html):
                seen.problems.append(f"{page}: {what}: {match.group(0)!r}")
    return seen


def daily_pages(reports_dir: Path, days: Iterable[str]) -> list[Path]:
    """Every role's daily report page of ``days`` on the report shelf."""
    return [page for day in days for page in sorted((reports_dir / day / "daily").glob("*.html"))]
