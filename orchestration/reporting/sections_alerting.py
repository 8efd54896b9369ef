"""The day's alarm load per team (the alerts of orchestration/alerting, in the state file): how many alerts
each team got, the average and the peak per 10 minutes against EEMUA 191's manageable rate (about 1 per 10
minutes per operator), the standing (unacknowledged) alerts at the day's end, the median time to acknowledge,
and the chattering and shelved alarms. ISA-18.2 asks for these figures to be watched: an alarm system people
stop reading is worse than none."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from orchestration.alerting.kpis import MANAGEABLE_PER_10_MIN, alarm_load
from orchestration.reporting.section import Column, DaySource, Section


def _day_window(source: DaySource) -> tuple[datetime, datetime]:
    """The factory day's UTC window: its shifts' span in marts.dim_shift, else the local calendar day."""
    try:
        start, end = source.conn.execute(
            "select min(start_ts), max(end_ts) from marts.dim_shift where production_date = $day",
            {"day": source.day},
        ).fetchone()
    except Exception:  # noqa: BLE001 - a warehouse without the mart: the calendar day
        start = end = None
    if start is not None and end is not None:
        return start.astimezone(UTC), end.astimezone(UTC)
    local = datetime.combine(source.day, time(), tzinfo=ZoneInfo(source.timezone))
    return local.astimezone(UTC), (local + timedelta(days=1)).astimezone(UTC)


def alarm_management(source: DaySource) -> Section:
    section = Section("alarm_management", "Alerts and alarm load", "")
    start, end = _day_window(source)
    try:
        loads = alarm_load(source.rca_state, start, end)
    except Exception as error:  # noqa: BLE001 - a state file held or damaged: the report still goes out
        section.headline = "The alerts could not be read."
        section.missing.append(f"alarm_management: state file not readable ({type(error).__name__})")
        return section
    section.columns = [
        Column("team", "Team"),
        Column("alerts", "Alerts", "num", unit="alerts"),
        Column("per_10_min", "Average per 10 min", "num1", unit="alerts"),
        Column("peak_10_min", "Peak in 10 min", "num", unit="alerts"),
        Column("standing", "Standing, unacknowledged", "num", unit="alerts"),
        Column("median_ack_s", "Median time to acknowledge", "dur"),
        Column("chattering", "Chattering", "num", unit="alerts"),
        Column("shelved", "Shelved", "num", unit="alerts"),
    ]
    section.rows = [load.as_dict() for load in loads]
    section.extra["alarm_load"] = section.rows
    section.extra["manageable_per_10_min"] = MANAGEABLE_PER_10_MIN
    if not loads:
        section.headline = "No alert went to any team this day."
        return section
    total = sum(load.alerts for load in loads)
    peak = max(loads, key=lambda load: load.peak_10_min)
    standing = sum(load.standing for load in loads)
    over = [load.team for load in loads if load.per_10_min > MANAGEABLE_PER_10_MIN or load.peak_10_min >= 10]
    words = [
        f"{total} alert{'s' if total != 1 else ''} to {len(loads)} team{'s' if len(loads) != 1 else ''}",
        f"the busiest 10 minutes brought {peak.team} {peak.peak_10_min}",
        f"{standing} still unacknowledged at the day's end" if standing else "none left unacknowledged",
    ]
    verdict = (
        f" Over the manageable rate (EEMUA 191: about 1 per 10 minutes): {', '.join(over)}."
        if over
        else " Within the manageable rate (EEMUA 191: about 1 per 10 minutes)."
    )
    section.headline = "; ".join(words) + "." + verdict
    section.attention = 1.0 * len(over) + 0.5 * min(standing, 4)
    return section
