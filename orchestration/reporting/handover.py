"""The shift handover: what the outgoing shift leaves to the next one.

Open issues (breakdowns, sensor anomalies still running at the shift end, SPC rule firings of the shift),
machines down or degraded at the handover, work in progress and the queues in front of each step, and a short
list of what the next shift should watch. Shift windows come from the configured shift pattern, in the
factory's timezone (a night shift across a DST change lasts 7 or 9 real hours, as the clock on the wall says).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from orchestration.factory_calendar import FactoryCalendar
from orchestration.reporting.queries import rows, table_exists
from orchestration.reporting.roles import ReportingConfig
from orchestration.reporting.section import Column, DaySource, Section
from orchestration.reporting.sections_alarms import alarms_in_window


@dataclass
class Handover:
    day: date
    shift: str
    start: datetime
    end: datetime
    sections: list[Section]
    watch: list[str]
    missing: list[str]


def _local(ts: datetime | None, timezone: str) -> str:
    return "n/a" if ts is None else ts.astimezone(ZoneInfo(timezone)).strftime("%H:%M")


def _read_marts(
    section: Section, source: DaySource, what: str, marts: tuple[str, ...], sql: str, params: dict[str, Any]
) -> bool:
    """Fill ``section.rows`` with what ``sql`` reads; False when one of the ``marts`` it reads has not been
    built, which the handover lists as missing ("<what>: table <mart> not found")."""
    for mart in marts:
        if not table_exists(source.conn, mart):
            section.missing.append(f"{what}: table {mart} not found")
            return False
    section.rows = rows(source.conn, sql, params)
    return True


def _breakdowns(source: DaySource, start, end) -> Section:
    section = Section("breakdowns_in_shift", "Breakdowns in the shift", "")
    table = "marts.fct_machine_state_intervals"
    if not _read_marts(
        section,
        source,
        "breakdowns",
        (table,),
        f"""
        select machine_id, activity, start_ts,
               -- what the shift saw: nothing after its end is known at the handover
               case when end_ts <= $end then end_ts end as end_ts,
               epoch(least(end_ts, $end)) - epoch(greatest(start_ts, $start)) as duration_s,
               end_ts > $end as still_open
        from {table} where state = 'breakdown' and start_ts < $end and end_ts > $start
        order by still_open desc, start_ts
        """,
        {"start": start, "end": end},
    ):
        return section
    section.columns = [
        Column("machine_id", "Machine"),
        Column("activity", "Step"),
        Column("start_ts", "From", "ts"),
        Column("end_ts", "Back at", "ts"),
        Column("duration_s", "Down in the shift", "dur"),
        Column("still_open", "Open at handover"),
    ]
    still = [r for r in section.rows if r["still_open"]]
    section.headline = f"{len(section.rows)} breakdowns, {len(still)} still open at the handover."
    section.attention = float(len(still))
    return section


def _machine_status(source: DaySource, shift: str, end, config: ReportingConfig) -> Section:
    """Each machine's state at the handover and its OEE over the shift; down or degraded ones first."""
    section = Section("machines_status", "Machines down or degraded", "")
    intervals, per_shift = "marts.fct_machine_state_intervals", "marts.fct_oee_machine_shift"
    target = config.targets.get("oee")
    threshold = config.handover.degraded_oee_share * (target.target if target and target.target else 0.75)
    if not _read_marts(
        section,
        source,
        "machine status",
        (intervals, per_shift),
        f"""
        with at_end as (
            select machine_id, arg_max(state, start_ts) as state_at_handover, max(start_ts) as since_ts
            from {intervals} where start_ts < $end and end_ts >= $end group by machine_id
        ),
        shift as (
            select machine_id, activity, oee, breakdown_count from {per_shift}
            where production_date = $day and shift_name = $shift
        )
        select coalesce(s.machine_id, a.machine_id) as machine_id, s.activity, a.state_at_handover,
               a.since_ts, s.oee, s.breakdown_count,
               case when a.state_at_handover = 'breakdown' then 'down'
                    when s.oee < $threshold then 'degraded' else 'ok' end as status
        from shift s full join at_end a using (machine_id)
        order by case status when 'down' then 0 when 'degraded' then 1 else 2 end, s.oee nulls last,
                 machine_id
        """,
        {"end": end, "day": source.day, "shift": shift, "threshold": threshold},
    ):
        return section
    if not section.rows:
        section.missing.append(f"machine status: no machine figures for the {shift} shift of {source.day}")
    section.rows = [r for r in section.rows if r["status"] != "ok"]
    section.columns = [
        Column("machine_id", "Machine"),
        Column("activity", "Step"),
        Column("status", "Status"),
        Column("state_at_handover", "State at handover"),
        Column("since_ts", "Since", "ts"),
        Column("oee", "Shift OEE", "pct"),
        Column("breakdown_count", "Breakdowns", "num", "count"),
    ]
    down = sum(r["status"] == "down" for r in section.rows)
    section.headline = (
        f"{down} machines down and {len(section.rows) - down} degraded "
        f"(shift OEE below {threshold * 100:.0f}%) at the handover."
    )
    section.extra["degraded_below_oee"] = threshold
    section.attention = down * 2.0 + (len(section.rows) - down)
    return section


def _wip(source: DaySource, end) -> Section:
    """Batches released and not finished at the handover, by where they are: in process at a step or
    waiting after the last step they finished."""
    section = Section("wip_queues", "Work in progress and queues", "")
    batches, events = "marts.dim_batch", "marts.fct_process_events"
    if not _read_marts(
        section,
        source,
        "WIP",
        (batches, events),
        f"""
        with wip as (
            select case_id from {batches}
            where released_ts < $end and (completed_ts is null or completed_ts > $end)
        ),
        steps as (
            select e.case_id, e.activity, e.start_ts, e.end_ts from {events} e semi join wip using (case_id)
            where e.start_ts < $end and e.start_ts >= $end - interval 14 day
        ),
        place as (
            select case_id,
                   arg_max(activity, start_ts) as activity,
                   arg_max(end_ts, start_ts) > $end as in_process,
                   arg_max(end_ts, start_ts) as since_ts
            from steps group by case_id
        )
        select coalesce(activity, '(released, not started)') as activity,
               count(*) filter (where in_process) as in_process,
               count(*) filter (where not in_process or in_process is null) as waiting,
               min(since_ts) filter (where not in_process) as oldest_waiting_since_ts
        from wip left join place using (case_id)
        group by all order by waiting desc, activity
        """,
        {"end": end},
    ):
        return section
    section.columns = [
        Column("activity", "Last step"),
        Column("in_process", "In process", "num", "batches"),
        Column("waiting", "Waiting after it", "num", "batches"),
        Column("oldest_waiting_since_ts", "Oldest waiting since", "ts"),
    ]
    total = sum(r["in_process"] + r["waiting"] for r in section.rows)
    section.extra["wip_batches"] = total
    section.headline = f"{total} batches in progress at the handover."
    return section


def _watch(sections: dict[str, Section], timezone: str) -> list[str]:
    """Short sentences for the next shift, from the most urgent down."""
    watch = []
    for r in sections["machines_status"].rows:
        if r["status"] == "down":
            watch.append(f"{r['machine_id']} is down (breakdown since {_local(r['since_ts'], timezone)}).")
    for r in sections["anomalies_in_shift"].rows:
        if r["still_on"] and r["priority"] != "low":
            watch.append(f"Still on: {r['sentence']}")
    for r in sections["machines_status"].rows:
        if r["status"] == "degraded":
            oee = "n/a" if r["oee"] is None else f"{r['oee'] * 100:.0f}%"
            watch.append(f"{r['machine_id']} ran degraded (shift OEE {oee}).")
    for r in [r for r in sections["spc_in_shift"].rows if r["priority"] != "low"][:3]:
        watch.append(r["sentence"])
    queues = [r for r in sections["wip_queues"].rows if r["waiting"]]
    if queues:
        top = queues[0]
        watch.append(
            f"{top['waiting']} batches wait after {top['activity']} "
            f"(oldest since {_local(top['oldest_waiting_since_ts'], timezone)})."
        )
    return watch


def load_handover(
    source: DaySource, shift: str, calendar: FactoryCalendar, config: ReportingConfig
) -> Handover:
    start, end = calendar.shift_window(source.day, shift)
    open_after = end - timedelta(minutes=config.handover.open_within_min)
    built = {
        "machines_status": _machine_status(source, shift, end, config),
        "breakdowns_in_shift": _breakdowns(source, start, end),
        "anomalies_in_shift": alarms_in_window(
            source, "anomalies_in_shift", "Sensor alarms in the shift", "sensor", (start, end), open_after
        ),
        "spc_in_shift": alarms_in_window(
            source, "spc_in_shift", "SPC alarms in the shift", "spc", (start, end), open_after
        ),
        "wip_queues": _wip(source, end),
    }
    missing = [item for section in built.values() for item in section.missing]
    events = "marts.fct_process_events"
    if table_exists(source.conn, events):
        seen = rows(
            source.conn,
            f"select count(*) as n from {events} where start_ts >= $start and start_ts < $end",
            {"start": start, "end": end},  # type: ignore[arg-type]
        )[0]["n"]
        if not seen:
            missing.append(f"no production events of the {shift} shift in {events} yet")
    return Handover(
        source.day, shift, start, end, list(built.values()), _watch(built, source.timezone), missing
    )
