"""What every daily section builder does the same way: read its rows from a mart, say so when the mart has not
been built or the day has no rows, and draw one bar per row.

A report always goes out: a section whose mart is missing says which (in its headline and in the report's list
of what is missing) instead of failing the whole report. What is a section's own (the mart, the query, the
columns, the headline, the attention score and the chart) stays in its builder.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from orchestration.reporting import svg_charts as charts
from orchestration.reporting.queries import rows, table_exists
from orchestration.reporting.section import DaySource, Section

# A row's field by name, or a function of the row (a label made of two fields, seconds as minutes).
RowValue = str | Callable[[dict[str, Any]], Any]


@dataclass(frozen=True)
class NoRows:
    """What a section shows on a day its mart has no rows for."""

    headline: str
    # A gap in the day's data, for the report's list of what is missing; None when such a day is normal
    # (a day without any out-of-spec measurement).
    missing: str | None = None

    def show_in(self, section: Section) -> Section:
        """The section of such a day."""
        if self.missing is not None:
            section.missing.append(self.missing)
        section.headline = self.headline
        return section


def mart_not_built(section: Section, mart: str) -> Section:
    """The section when its mart has not been built yet."""
    section.missing.append(f"{section.title}: table {mart} not found")
    section.headline = f"Not available: {mart} has not been built."
    return section


def read_mart(
    section: Section,
    source: DaySource,
    mart: str,
    sql: str,
    params: list[Any] | dict[str, Any],
    no_rows: NoRows | None = None,
) -> bool:
    """Fill ``section.rows`` with what ``sql`` reads from ``mart``. False when the section has nothing more to
    show: the mart has not been built, or the day has no rows and ``no_rows`` says what the section shows
    instead. Without ``no_rows`` the builder describes a day without rows itself."""
    if not table_exists(source.conn, mart):
        mart_not_built(section, mart)
        return False
    section.rows = rows(source.conn, sql, params)
    if section.rows or no_rows is None:
        return True
    no_rows.show_in(section)
    return False


def row_bars(
    found: Sequence[dict[str, Any]],
    label: RowValue,
    value: RowValue,
    chart_id: str,
    title: str,
    axis_label: str,
    *,
    percent: bool = False,
    highlight: int | None = 0,
) -> str | None:
    """One bar per row, in the rows' order; sections list the worst first, so the first bar is drawn in the
    alert colour unless ``highlight`` says otherwise (None: no bar stands out). None without rows."""

    def of(row: dict[str, Any], pick: RowValue) -> Any:
        return row[pick] if isinstance(pick, str) else pick(row)

    return charts.bar_chart(
        [of(row, label) for row in found],
        [of(row, value) for row in found],
        chart_id,
        title,
        axis_label,
        percent=percent,
        highlight=highlight,
    )
