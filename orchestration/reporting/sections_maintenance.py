"""Maintenance sections: breakdowns with MTBF/MTTR per machine, and the machines' sensor anomalies."""

from __future__ import annotations

from orchestration.reporting.mart_reading import read_mart, row_bars
from orchestration.reporting.queries import rows
from orchestration.reporting.section import Column, DaySource, Section


def breakdowns(source: DaySource) -> Section:
    """Machines that broke down, most downtime first, with their MTBF and MTTR of the day."""
    section = Section("breakdowns", "Breakdowns", "")
    table = "marts.fct_oee_machine_day"
    if not read_mart(
        section,
        source,
        table,
        f"""
        select machine_id, activity, breakdown_count, breakdown_time_s, availability, mtbf_s, mttr_s
        from {table} where production_date = ? and breakdown_count > 0
        order by breakdown_time_s desc, machine_id
        """,
        [source.day],
    ):
        return section
    before = rows(
        source.conn,
        f"select avg(breakdowns) as per_day, count(*) as days from (select production_date, "
        f"sum(breakdown_count) as breakdowns from {table} where production_date between ?::date - 30 "
        "and ?::date - 1 group by all)",
        [source.day, source.day],
    )[0]
    trailing = before["per_day"]
    section.columns = [
        Column("machine_id", "Machine"),
        Column("activity", "Step"),
        Column("breakdown_count", "Breakdowns", "num", "count"),
        Column("breakdown_time_s", "Downtime", "dur"),
        Column("availability", "Availability", "pct"),
        Column("mtbf_s", "MTBF", "dur"),
        Column("mttr_s", "MTTR", "dur"),
    ]
    total = sum(r["breakdown_count"] for r in section.rows)
    section.extra["breakdowns"] = total
    if not section.rows:
        section.headline = "No breakdown this day."
        return section
    top = section.rows[0]
    section.headline = (
        f"{total} breakdowns on {len(section.rows)} machines (mean of the {before['days']} days before: "
        f"{trailing or 0:.1f} a day); "
        f"most downtime: {top['machine_id']}."
    )
    section.attention = (total - trailing) / max(trailing, 1.0) if trailing and total > trailing else 0.0
    section.chart = row_bars(
        section.rows[:15],
        "machine_id",
        lambda r: r["breakdown_time_s"] / 60,
        "breakdowns",
        "Downtime per machine",
        "Breakdown time (min)",
    )
    return section
