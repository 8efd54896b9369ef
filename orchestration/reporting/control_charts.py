"""I-MR control charts of the characteristics whose SPC alarms fired: the day's batches in time order against
the limits SPC judged them by (analytics.spc_charts), the points that set off the alarm marked."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

from orchestration.anomalies.spc import ALARM_RULES
from orchestration.reporting import svg_charts as charts
from orchestration.reporting.queries import rows, table_exists
from orchestration.reporting.section import DaySource, characteristic_name

MAX_CHARTS = 3  # the most urgent alarms: a page of twenty charts is read by nobody
TABLES = ("analytics.alarms", "analytics.spc_charts", "marts.fct_quality_measurements")


def fired_control_charts(source: DaySource) -> list[str]:
    """One I-MR chart (SVG) per high or critical SPC alarm of the day, the most urgent first."""
    if not all(table_exists(source.conn, table) for table in TABLES):
        return []
    alarms = rows(
        source.conn,
        """
        select machine_id, subject, members from analytics.alarms
        where production_date = $day and source = 'spc' and priority in ('critical', 'high')
        order by case priority when 'critical' then 0 else 1 end, score desc, start_ts, alarm_id limit $n
        """,
        {"day": source.day, "n": MAX_CHARTS},  # type: ignore[arg-type]
    )
    zone = ZoneInfo(source.timezone)
    drawn = []
    for number, alarm in enumerate(alarms):
        characteristic, _, product = alarm["subject"].partition("/")
        chart = rows(
            source.conn,
            "select center, lcl, ucl, mr_ucl from analytics.spc_charts where production_date = $day "
            "and characteristic = $c and machine_id = $m and product_id is not distinct from $p",
            {"day": source.day, "c": characteristic, "m": alarm["machine_id"], "p": product or None},  # type: ignore[arg-type]
        )
        if not chart or chart[0]["ucl"] is None:
            continue
        measured = rows(
            source.conn,
            "select measurement_id, measured_ts, measured_value, unit from marts.fct_quality_measurements "
            "where production_date = $day and characteristic = $c and machine_id = $m "
            "and product_id is not distinct from $p and measured_value is not null order by measured_ts",
            {"day": source.day, "c": characteristic, "m": alarm["machine_id"], "p": product or None},  # type: ignore[arg-type]
        )
        flagged = {
            member["measurement_id"]
            for member in json.loads(alarm["members"] or "[]")
            if set(member.get("rules", [])) & set(ALARM_RULES)
        }
        limits = chart[0]
        name = characteristic_name(characteristic)
        unit = measured[0]["unit"] if measured and measured[0]["unit"] else "value"
        svg = charts.control_chart(
            [
                (
                    m["measured_ts"].astimezone(zone).strftime("%H:%M"),
                    float(m["measured_value"]),
                    m["measurement_id"] in flagged,
                )
                for m in measured
            ],
            limits["center"],
            limits["lcl"],
            limits["ucl"],
            limits["mr_ucl"],
            f"spc-chart-{number}",
            f"{name} on {alarm['machine_id']}" + (f" ({product})" if product else ""),
            f"{name} ({unit})",
        )
        if svg:
            drawn.append(svg)
    return drawn
