"""The alarms a person reads (analytics.alarms: one per problem, ranked, in a sentence), for the daily reports
and the shift handovers: critical first, then high, then low, the largest deviation first within a priority.

Raw detector events and SPC rule firings stay in analytics.sensor_anomalies and analytics.spc_violations for
analysts; a report lists the problems they add up to (see orchestration/anomalies/alarms.py).
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime

from orchestration.reporting import svg_charts as charts
from orchestration.reporting.mart_reading import read_mart
from orchestration.reporting.section import Column, DaySource, Section, characteristic_name

TABLE = "analytics.alarms"
LASTED = re.compile(r" for \d+ min")  # "since Fri 14:00 for 489 min": the alarm's whole length
# what only its end could tell: "(still off after the longest open time: taken as its new normal)"
AFTERWARDS = re.compile(r" \(still off after [^)]*\)")
NOUN = {"sensor": "sensor", "spc": "SPC"}
RANK = "case priority when 'critical' then 0 when 'high' then 1 else 2 end, score desc, start_ts, alarm_id"
# On a page ranked by attention, a critical alarm outranks a held-back row (1.0); high ones add up slowly.
ATTENTION = {"critical": 3.0, "high": 0.5, "low": 0.0}


def alarms_of_day(source: DaySource, key: str, title: str, alarm_source: str) -> Section:
    """The day's alarms of one source (``sensor`` or ``spc``)."""
    where = "production_date = $day and source = $source"
    return _alarms(source, key, title, alarm_source, where, {"day": source.day})


def alarms_in_window(
    source: DaySource,
    key: str,
    title: str,
    alarm_source: str,
    window: tuple[datetime, datetime],
    open_after: datetime,
) -> Section:
    """The alarms of one source whose time overlaps ``window`` [start, end) (a shift), whatever their
    factory day; those still on after ``open_after`` (the shift's last minutes) are said so, for the next."""
    where = "start_ts < $end and end_ts > $start and source = $source"
    section = _alarms(source, key, title, alarm_source, where, {"start": window[0], "end": window[1]})
    for row in section.rows:
        row["still_on"] = row["end_ts"] is not None and row["end_ts"] >= open_after
        if row["end_ts"] is not None and row["end_ts"] > window[1]:
            # how long it lasted is not known at the handover: the shift hands it over as still on
            sentence = AFTERWARDS.sub("", row["sentence"])
            row["sentence"] = LASTED.sub(" (still on at the handover)", sentence, count=1)
            row["end_ts"] = None
    if section.rows:
        section.columns.append(Column("still_on", "Still on at the handover"))
        section.headline += f" {sum(row['still_on'] for row in section.rows)} still on at the handover."
    return section


def _alarms(
    source: DaySource, key: str, title: str, alarm_source: str, where: str, params: dict[str, date | datetime]
) -> Section:
    section = Section(key, title, "")
    sql = f"""
        select priority, machine_id, subject, start_ts, end_ts, sentence
        from {TABLE} where {where} order by {RANK}
    """
    if not read_mart(section, source, TABLE, sql, {**params, "source": alarm_source}):
        return section
    section.columns = [
        Column("priority", "Priority"),
        Column("machine_id", "Machine"),
        Column("subject", "Sensor or characteristic"),
        Column("start_ts", "Since", "ts"),
        Column("sentence", "What"),
    ]
    if alarm_source == "spc":  # "coating_thickness/NMC811-PC60" -> "Coating thickness (NMC811-PC60)"
        for row in section.rows:
            characteristic, _, product = str(row["subject"]).partition("/")
            row["subject"] = characteristic_name(characteristic) + (f" ({product})" if product else "")
    noun = NOUN[alarm_source]
    by_priority = Counter(row["priority"] for row in section.rows)
    section.extra["alarms"] = len(section.rows)
    section.extra["by_priority"] = dict(by_priority)
    if not section.rows:
        section.headline = f"No {noun} alarm."
        return section
    machines = Counter(row["machine_id"] or "(plant)" for row in section.rows)
    counts = ", ".join(f"{by_priority[p]} {p}" for p in ATTENTION if by_priority[p])
    section.headline = (
        f"{len(section.rows)} {noun} alarm{'s' if len(section.rows) != 1 else ''} ({counts}) on "
        f"{len(machines)} machine{'s' if len(machines) != 1 else ''}. "
        f"First to act on: {section.rows[0]['sentence']}"
    )
    section.attention = sum(ATTENTION[p] * n for p, n in by_priority.items())
    ranked = machines.most_common(15)
    section.chart = charts.bar_chart(
        [m for m, _ in ranked],
        [n for _, n in ranked],
        f"{key}-alarms",
        f"{noun} alarms per machine",
        "Alarms",
        highlight=0,
    )
    return section


def sensor_alarms(source: DaySource) -> Section:
    """The machines' sensor alarms of the day (maintenance)."""
    return alarms_of_day(source, "sensor_anomalies", "Machine sensor alarms", "sensor")


def spc_alarms(source: DaySource) -> Section:
    """The SPC alarms of the day: one per chart out of control (quality), with the control charts of the most
    urgent (the alarms-per-machine bars when none can be drawn)."""
    from orchestration.reporting.control_charts import fired_control_charts

    section = alarms_of_day(source, "spc", "SPC alarms", "spc")
    drawn = fired_control_charts(source)
    if drawn:
        section.chart = "".join(drawn)
    return section
