"""What a report section is: a headline, a chart, a table, and what it could not show.

Every section renders the same way (see templates/_section.html.j2), so a section builder only reads the
warehouse and decides what matters; it never writes HTML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

# "row": the row's own "fmt" (a table of mixed figures)
# "pts": a difference of two ratios, in percentage points
# "p": a p-value ("< 0.001" below what three decimals show)
Format = Literal["text", "pct", "pts", "num", "num1", "num3", "p", "dur", "money", "ts", "row"]


def characteristic_name(name: str) -> str:
    """A measured characteristic in words: "coating_thickness" -> "Coating thickness", "ocv" -> "OCV"."""
    return name.upper() if len(name) <= 3 else name.replace("_", " ").capitalize()


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    fmt: Format = "text"
    # what a quantity is counted or measured in ("cells", "batches", "EUR"); percentages and durations carry
    # theirs in the figure. Shown in the header: "Good (cells)".
    unit: str | None = None

    @property
    def heading(self) -> str:
        return f"{self.label} ({self.unit})" if self.unit else self.label


@dataclass
class Section:
    key: str
    title: str
    headline: str  # one sentence: what the reader should know first
    figure_class: str | None = None  # a sensitive class (cost, per_operator) or None
    chart: str | None = None  # inline SVG
    columns: list[Column] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    attention: float = 0.0  # how far from normal: sections are ordered by it, the largest first
    extra: dict[str, Any] = field(default_factory=dict)  # section-specific figures for the JSON twin

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "headline": self.headline,
            "attention": self.attention,
            "columns": [
                {"key": c.key, "label": c.heading, "fmt": c.fmt, "unit": c.unit} for c in self.columns
            ],
            "rows": [{c.key: row.get(c.key) for c in self.columns} for row in self.rows],
            "missing": list(self.missing),
            **self.extra,
        }


@dataclass
class DaySource:
    """One factory day's inputs, shared by every role's sections (each section is built once a day)."""

    conn: Any  # a DuckDB connection, read-only
    day: date
    reports_day_dir: Path | None = None  # for the data-quality outcomes written by the checks
    rca_state: Path | None = None  # the RCA state DuckDB file (rca.cases), if any
    blocked_checks: tuple[str, ...] = ()  # blocking checks that failed for the day (from the orchestrator)
    currency: str = "EUR"
    timezone: str = "UTC"  # the factory's, for displaying times
    cache: dict[str, Any] = field(default_factory=dict)
