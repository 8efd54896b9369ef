"""Maintenance sections: breakdowns with MTBF/MTTR per machine, and the machines' sensor anomalies."""

from __future__ import annotations

from orchestration.reporting import svg_charts as charts
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
    trailing = rows(
        source.conn,
        f"select avg(breakdowns) as per_day from (select production_date, sum(breakdown_count) as breakdowns "
        f"from {table} where production_date between ?::date - 30 and ?::date - 1 group by all)",
        [source.day, source.day],
    )[0]["per_day"]
    section.columns = [
        Column("machine_id", "Machine"),
        Column("activity", "Step"),
        Column("breakdown_count", "Breakdowns", "num"),
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
        f"{total} breakdowns on {len(section.rows)} machines (30-day mean {trailing or 0:.1f} a day); "
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


def sensor_anomalies(source: DaySource) -> Section:
    """Sensor anomalies per machine and kind, the most first."""
    section = Section("sensor_anomalies", "Machine sensor anomalies", "")
    table = "analytics.sensor_anomalies"
    if not read_mart(
        section,
        source,
        table,
        f"""
        select machine_id, kind, count(*) as anomalies, count(distinct sensor_id) as sensors,
               max(score) as max_score, min(start_ts) as first_ts, max(end_ts) as last_ts
        from {table} where production_date = ?
        group by machine_id, kind order by anomalies desc, machine_id, kind
        """,
        [source.day],
    ):
        return section
    section.columns = [
        Column("machine_id", "Machine"),
        Column("kind", "Kind"),
        Column("anomalies", "Anomalies", "num"),
        Column("sensors", "Sensors", "num"),
        Column("max_score", "Max score", "num1"),
        Column("first_ts", "First", "ts"),
        Column("last_ts", "Last", "ts"),
    ]
    total = sum(r["anomalies"] for r in section.rows)
    section.extra["anomalies"] = total
    if not section.rows:
        section.headline = "No sensor anomaly this day."
        return section
    per_machine: dict[str, int] = {}
    for r in section.rows:
        per_machine[r["machine_id"]] = per_machine.get(r["machine_id"], 0) + r["anomalies"]
    ranked = sorted(per_machine.items(), key=lambda item: -item[1])
    section.headline = (
        f"{total} anomalies on {len(ranked)} machines; most on {ranked[0][0]} ({ranked[0][1]})."
    )
    section.chart = charts.bar_chart(
        [m for m, _ in ranked[:15]],
        [n for _, n in ranked[:15]],
        "sensor-anomalies",
        "Sensor anomalies per machine",
        "Anomalies",
        highlight=0,
    )
    return section
