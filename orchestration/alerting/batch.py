"""Signals of the daily run, for the alarm manager: SPC alarms, rework and scrap over their limits, long
breakdowns, a blocked factory day, new root-cause cases. Read when their asset materializes
(orchestration/defs/alerting.py), each keyed by its problem so that a rerun of the day updates its alerts
rather than repeating them.

A batch problem is already over when the run reads it (the day is done): its alert is raised at the time the
problem started and marked returned at its end without a second message; it stays open until acknowledged.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import duckdb

from orchestration.alerting.manager import Signal
from orchestration.alerting.store import connect
from orchestration.anomalies.alarms import spc_characteristic


def _table_exists(conn: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    schema, table = qualified.split(".")
    return bool(
        conn.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchone()[0]
    )


def _utc(moment) -> datetime:
    if isinstance(moment, datetime):
        return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return datetime.combine(moment, time(), tzinfo=UTC)


def spc_signals(conn: duckdb.DuckDBPyConnection, day: date) -> list[Signal]:
    if not _table_exists(conn, "analytics.alarms"):
        return []
    found = conn.execute(
        """select alarm_id, machine_id, subject, start_ts, end_ts, priority, sentence from analytics.alarms
           where source = 'spc' and production_date = ? order by start_ts""",
        [day],
    ).fetchall()
    signals = []
    for alarm_id, machine, subject, start, end, priority, sentence in found:
        key = f"spc_rule:{alarm_id}"
        facts = {"characteristic": spc_characteristic(subject)}
        signals.append(
            Signal("spc_rule", key, priority, sentence, _utc(start), True, machine, subject, facts)
        )
        signals.append(
            Signal("spc_rule", key, priority, sentence, _utc(end or start), False, machine, subject)
        )
    return signals


def yield_signals(conn: duckdb.DuckDBPyConnection, day: date) -> list[Signal]:
    """Rework and scrap ratio of each route step over the day (the rules say above which limit they alert)."""
    if not _table_exists(conn, "marts.fct_quality_yield"):
        return []
    found = conn.execute(
        """select activity, sum(produced_cells), sum(rework_cells), sum(scrap_cells)
           from marts.fct_quality_yield where production_date = ? group by activity having sum(produced_cells)
           > 0 order by activity""",
        [day],
    ).fetchall()
    at = _utc(day) + timedelta(hours=23, minutes=59)
    signals = []
    for activity, produced, rework, scrap in found:
        for signal, cells in (("rework_ratio", rework), ("scrap_ratio", scrap)):
            ratio = (cells or 0) / produced
            noun = signal.split("_")[0]
            sentence = f"{activity}: {noun} ratio {ratio:.1%} on {day} ({cells or 0} of {produced} cells)."
            key = f"{signal}:{day}:{activity}"
            facts = {"above": ratio}
            signals.append(Signal(signal, key, "high", sentence, at, True, None, activity, facts))
            signals.append(Signal(signal, key, "high", sentence, at, False, None, activity))
    return signals


def downtime_signals(conn: duckdb.DuckDBPyConnection, day: date) -> list[Signal]:
    if not _table_exists(conn, "marts.fct_machine_state_intervals"):
        return []
    found = conn.execute(
        """select machine_id, start_ts, end_ts, duration_s from marts.fct_machine_state_intervals
           where production_date = ? and state = 'breakdown' order by start_ts""",
        [day],
    ).fetchall()
    signals = []
    for machine, start, end, duration_s in found:
        minutes = (duration_s or 0) / 60
        start, end = _utc(start), _utc(end)
        sentence = (
            f"{machine}: broken down from {start:%H:%M} to {end:%H:%M} UTC on {day} ({minutes:.0f} min)."
        )
        key = f"machine_down:{machine}:{start.isoformat()}"
        facts = {"minutes": minutes}
        signals.append(Signal("machine_down", key, "high", sentence, start, True, machine, machine, facts))
        signals.append(Signal("machine_down", key, "high", sentence, end, False, machine, machine))
    return signals


def blocked_day_signals(day: date, blocked_checks: tuple[str, ...], at: datetime) -> list[Signal]:
    if not blocked_checks:
        return []
    sentence = (
        f"Factory day {day} is blocked by the quality gate ({', '.join(blocked_checks)}): its marts wait, "
        "its reports are INCOMPLETE."
    )
    return [Signal("blocked_day", f"blocked_day:{day}", "high", sentence, at, True, None, str(day))]


def rca_signals(state_path: Path, day: date) -> list[Signal]:
    if not Path(state_path).exists():
        return []
    with connect(state_path) as conn:
        if not _table_exists(conn, "rca.cases"):
            return []
        found = conn.execute(
            """select case_id, opened_at, signal, machine_id, top_factor from rca.cases
               where production_date = ? order by opened_at""",
            [day],
        ).fetchall()
    signals = []
    for case_id, opened_at, signal, machine, top_factor in found:
        factor = f"; first factor to check: {top_factor}" if top_factor else ""
        sentence = f"Root-cause case {case_id} opened for {signal}{factor}."
        key = f"rca_case:{case_id}"
        signals.append(Signal("rca_case", key, "low", sentence, _utc(opened_at), True, machine, case_id))
        signals.append(Signal("rca_case", key, "low", sentence, _utc(opened_at), False, machine, case_id))
    return signals


def day_signals(conn: duckdb.DuckDBPyConnection, state_path: Path, day: date) -> list[Signal]:
    """Every batch signal of a factory day from the warehouse and the state file."""
    return [
        *spc_signals(conn, day),
        *yield_signals(conn, day),
        *downtime_signals(conn, day),
        *rca_signals(state_path, day),
    ]
