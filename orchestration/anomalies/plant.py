"""Sensor anomalies of one factory day in the warehouse: readings on a grid, in their machine's context.

Context is what tells a fault from a legitimate change:

- the machine's state sets the regime a reading is judged in (producing, idle or micro-stop), and each
  sensor's expected reading follows the regime's level with the sensor's own lag, learnt from the reference
  days (a dryer's temperature takes many minutes to settle after a stop; ``response``);
- changeovers (setup), planned maintenance and breakdowns are excluded context, never judged, and neither is
  a sensor's return from them (``detectors._recovering``). A machine that is down already has its record
  (the stop, in the downtime marts and the reports); its sensors moving to and back from their stopped level
  is no second problem (ISA-18.2's designed suppression of an out-of-service unit's alarms). Without it, a
  breakdown the reference days never showed raised critical alarms on a healthy plant (docs/measured.md);
- a product the machine did not make in the reference days has no history: its readings get the wider,
  explicit warm-up thresholds, and the events say so.

The reference is the ``history_days`` factory days before the judged day (those there are): several days, so
that one day's fault or bad shift in the reference neither teaches the baseline its level nor blinds it
(on the simulated default week, one reference day put 24 % of the alarms off any planted fault, three put
7 %; docs/measured.md). On the first day (no history) the day is its own robust baseline, with warm-up
thresholds.
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import numpy as np

from orchestration.anomalies.alarms import Alarm
from orchestration.anomalies.detectors import DetectorSettings, Event, SensorGrid
from orchestration.anomalies.scoring import detect, fit_detectors
from orchestration.anomalies.sensor_alarms import AlarmRules, SensorInfo, group_events
from orchestration.factory_calendar import FactoryCalendar

REGIMES = ("producing", "idle")
REGIME_OF_STATE = {"producing": 0, "idle": 1, "micro_stop": 1}
# Changeovers, planned maintenance and breakdowns: the machine is out of service, its sensors not judged.
EXCLUDED_STATES = ("setup", "planned_maintenance", "breakdown")
HISTORY_DAYS = 3  # factory days before the judged one that form the sensors' reference

ANOMALY_COLUMNS = (
    "production_date date, sensor_id varchar, machine_id varchar, start_ts timestamptz, end_ts timestamptz, "
    "kind varchar, severity varchar, score double, evidence varchar"
)


def detect_day(
    conn: duckdb.DuckDBPyConnection,
    day: str,
    clock: FactoryCalendar,
    history_days: int = HISTORY_DAYS,
    settings: DetectorSettings | None = None,
) -> list[Event]:
    """Events of every sensor of factory day ``day`` (raw sensor readings, machine states, production)."""
    judged_day = date.fromisoformat(day)
    start, end = clock.day_window(judged_day)
    ref_start, _ = clock.day_window(judged_day - timedelta(days=history_days))
    interval_us = reading_interval_us(conn, day)
    if interval_us is None:
        return []
    sensors = _sensors(conn, [day])
    history = [(judged_day - timedelta(days=n)).isoformat() for n in range(1, history_days + 1)]
    grid = load_grid(conn, sensors, [day], _us(start), _us(end), interval_us, clock)
    reference = load_grid(conn, sensors, history, _us(ref_start), _us(start), interval_us, clock)
    has_history = np.isfinite(reference.values).sum() >= 0.5 * np.isfinite(grid.values).sum()
    if not has_history:
        reference = grid
    if has_history:
        grid.warm_up = _new_products(conn, grid, history, day)
    detectors = fit_detectors(
        reference, judged=grid if has_history else None, from_judged_data=not has_history
    )
    return detect(grid, detectors, settings).events


def sensor_alarms(
    conn: duckdb.DuckDBPyConnection,
    day: str,
    events: list[Event],
    clock: FactoryCalendar,
    rules: AlarmRules | None = None,
) -> list[Alarm]:
    """The day's events as alarms, one per machine and problem, worded with each sensor's measure and unit."""
    rows = conn.execute(
        """select sensor_id, any_value(measure), any_value(unit) from raw.sensor_readings
           where "date" = $day::date group by sensor_id""",
        {"day": day},
    ).fetchall()
    sensors = {sensor: SensorInfo(measure or "", unit or "") for sensor, measure, unit in rows}
    interval_us = reading_interval_us(conn, day) or 60_000_000
    return group_events(events, sensors, clock.timezone, rules, interval_s=interval_us / 1e6)


def load_grid(
    conn: duckdb.DuckDBPyConnection,
    sensors: list[tuple[str, str]],
    days: list[str],
    start_us: int,
    end_us: int,
    interval_us: int,
    clock: FactoryCalendar,
    regimes: tuple[tuple[str, ...], dict[str, int]] | None = None,
) -> SensorGrid:
    """The readings of ``sensors`` in [start, end) on a grid of ``interval_us``, with their regimes.

    ``regimes``: (the regimes' names, machine state -> regime, -1: excluded; a state not named is idle); by
    default the daily detection's (producing, idle; changeovers, maintenance and breakdowns excluded)."""
    names, regime_of_state = regimes or (REGIMES, {**REGIME_OF_STATE, **dict.fromkeys(EXCLUDED_STATES, -1)})
    n_times = max(0, -(-(end_us - start_us) // interval_us))
    row_of = {sensor: row for row, (sensor, _) in enumerate(sensors)}
    values = np.full((len(sensors), n_times), np.nan)
    readings = conn.execute(
        """
        select sensor_id, (epoch_us(reading_ts) - $start) // $interval as slot, value
        from raw.sensor_readings
        where "date" in (select unnest($days::date[])) and epoch_us(reading_ts) >= $start
          and epoch_us(reading_ts) < $end
        """,
        {"start": start_us, "interval": interval_us, "end": end_us, "days": days},
    ).fetchnumpy()
    if len(readings["slot"]):
        rows = np.array([row_of.get(s, -1) for s in readings["sensor_id"]])
        known = rows >= 0
        values[rows[known], readings["slot"][known].astype(np.int64)] = readings["value"][known]
    grid_us = start_us + np.arange(n_times, dtype=np.int64) * interval_us
    states = _states(conn, days, start_us, end_us)
    machine_ids = [machine for _, machine in sensors]
    regime = np.zeros(values.shape, dtype=np.int8)
    for machine in set(machine_ids):
        if machine not in states:
            continue  # a room: ambient sensors have no machine state
        rows = [r for r, m in enumerate(machine_ids) if m == machine]
        regime[rows] = _regime_on_grid(states[machine], grid_us, regime_of_state)
    hour = _local_hour(grid_us, clock)
    grid = SensorGrid(
        sensor_ids=[s for s, _ in sensors],
        machine_ids=machine_ids,
        start_us=start_us,
        interval_us=interval_us,
        values=values,
        regime=regime,
        hour=hour,
        regime_names=names,
    )
    return grid


def _regime_on_grid(
    intervals: list[tuple[int, int, str]], grid_us: np.ndarray, regime_of_state: dict[str, int]
) -> np.ndarray:
    """The regime of the machine's state at each grid instant (idle before its first known state)."""
    starts = np.array([i[0] for i in intervals], dtype=np.int64)
    codes = np.array([regime_of_state.get(i[2], 1) for i in intervals])
    at = np.searchsorted(starts, grid_us, side="right") - 1
    return np.where(at < 0, 1, codes[np.clip(at, 0, None)]).astype(np.int8)


def _states(conn, days: list[str], start_us: int, end_us: int) -> dict[str, list[tuple[int, int, str]]]:
    rows = conn.execute(
        """
        select machine_id, epoch_us(start_ts), epoch_us(end_ts), state
        from raw.machine_states
        where "date" in (select unnest($days::date[]))
          and epoch_us(end_ts) > $start and epoch_us(start_ts) < $end
        order by machine_id, start_ts
        """,
        {"days": days, "start": start_us, "end": end_us},
    ).fetchall()
    states: dict[str, list[tuple[int, int, str]]] = {}
    for machine, a, b, state in rows:
        states.setdefault(machine, []).append((a, b, state))
    return states


def _new_products(conn, grid: SensorGrid, history: list[str], day: str) -> np.ndarray:
    """Readings of a machine while it makes a product it did not make in the reference days."""
    rows = conn.execute(
        """
        select machine_id, epoch_us(start_ts), epoch_us(end_ts)
        from raw.production_events as judged
        where "date" = $day::date and not exists (
            select 1 from raw.production_events as seen
            where seen."date" in (select unnest($history::date[]))
              and seen.machine_id = judged.machine_id and seen.product_id = judged.product_id
        )
        """,
        {"day": day, "history": history},
    ).fetchall()
    warm_up = np.zeros(grid.values.shape, dtype=bool)
    for machine, a, b in rows:
        first = max(0, (a - grid.start_us) // grid.interval_us)
        stop = min(grid.n_times, -(-(b - grid.start_us) // grid.interval_us))
        for row in (r for r, m in enumerate(grid.machine_ids) if m == machine):
            warm_up[row, first:stop] = True
    return warm_up


def _sensors(conn, days: list[str]) -> list[tuple[str, str]]:
    return conn.execute(
        """select distinct sensor_id, machine_id from raw.sensor_readings
           where "date" in (select unnest($days::date[])) order by sensor_id""",
        {"days": days},
    ).fetchall()


def reading_interval_us(conn, day: str) -> int | None:
    """The sensors' sampling interval: the most common step between a sensor's consecutive readings."""
    row = conn.execute(
        """
        select mode(step) from (
            select epoch_us(reading_ts)
                - lag(epoch_us(reading_ts)) over (partition by sensor_id order by reading_ts)
                as step
            from raw.sensor_readings where "date" = $day::date
        ) where step > 0
        """,
        {"day": day},
    ).fetchall()  # fetched to the end: a half-read result blocks this connection's next statement
    return int(row[0][0]) if row and row[0][0] else None


def _local_hour(grid_us: np.ndarray, clock: FactoryCalendar) -> np.ndarray:
    import pandas as pd

    local = pd.to_datetime(grid_us, unit="us", utc=True).tz_convert(clock.timezone)
    return np.asarray(local.hour + local.minute / 60.0 + local.second / 3600.0, dtype=np.float64)


def _us(instant) -> int:
    return int(instant.timestamp() * 1_000_000)


def write_sensor_anomalies(conn: duckdb.DuckDBPyConnection, day: str, events: list[Event]) -> int:
    """Replace the day's rows of analytics.sensor_anomalies (idempotent reruns)."""
    conn.execute("create schema if not exists analytics")
    conn.execute(f"create table if not exists analytics.sensor_anomalies ({ANOMALY_COLUMNS})")
    conn.execute("delete from analytics.sensor_anomalies where production_date = $day::date", {"day": day})
    if events:
        conn.executemany(
            """insert into analytics.sensor_anomalies values
               ($1::date, $2, $3, make_timestamptz($4), make_timestamptz($5), $6, $7, $8, $9)""",
            [
                (
                    day,
                    e.sensor_id,
                    e.machine_id,
                    e.start_us,
                    e.end_us,
                    e.kind,
                    e.severity,
                    e.score,
                    e.evidence_json(),
                )
                for e in events
            ],
        )
    return len(events)
