"""What the live scorer expects of each sensor: its level in each state of its machine, its lag, its noise,
learnt from the plant's own reference days in the lake with the daily detection's own fit.

The readings and the MES machine states of the ``history_days`` factory days before the judged one are read
from the lake (the contract every engine reads: ``<lake>/raw/<table>/date=YYYY-MM-DD/``) and fitted as the
daily detection fits them (``anomalies.detectors.fit_baseline``: per-state levels through the sensor's
first-order lag, robust noise per state, hour-of-day offsets, the longest identical run), with one state more
than the daily run judges: out of service (breakdowns, planned maintenance), so that live a machine's stop
is recognised as its own and not read as a sensor fault.

Which state a machine is in, live, is read from its *indicator* sensors: the ones whose first reading after
a change of state moves many noise sigmas (a speed, a power, a current at once; a vacuum pump's pressure
within its lag). A machine without one (all its sensors slow and close) has no state a reading shows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np

from orchestration.anomalies.detectors import fit_baseline
from orchestration.anomalies.plant import HISTORY_DAYS, load_grid, reading_interval_us
from orchestration.factory_calendar import FactoryCalendar
from orchestration.lake.writer import partition_dir

STATES = ("producing", "idle", "out of service")
PRODUCING, IDLE, OUT = range(3)
STATE_OF = {  # the MES's machine states -> the states a sensor's level follows (the simulator's physics too)
    "producing": PRODUCING,
    "idle": IDLE,
    "micro_stop": IDLE,
    "setup": IDLE,
    "breakdown": OUT,
    "planned_maintenance": OUT,
}
# A sensor shows its machine's state when its first reading after a change from producing to idle (or back)
# moves this many noise sigmas: a speed at once, a vacuum pump's pressure within its lag.
INDICATOR_SIGMAS = 10.0


@dataclass(frozen=True)
class SensorModel:
    machine_id: str
    levels: tuple[float, float, float]  # per state (NaN: the reference never saw it)
    sigma: tuple[float, float, float]  # robust noise of the residual per state
    alpha: float  # first-order lag per reading (1: follows its state at once)
    seasonal: tuple[float, ...]  # 24 offsets, by local hour of day
    max_run: int  # the longest run of identical readings in the reference

    @property
    def indicator(self) -> bool:
        producing, idle = self.levels[PRODUCING], self.levels[IDLE]
        spread = max(self.sigma[PRODUCING], self.sigma[IDLE])
        first_step = self.alpha * abs(producing - idle)
        return math.isfinite(first_step) and first_step >= INDICATOR_SIGMAS * spread


@dataclass(frozen=True)
class Reference:
    day: date  # the factory day it judges
    days: tuple[str, ...]  # the reference days it was learnt from
    timezone: str
    interval_s: float
    sensors: dict[str, SensorModel]

    def has_indicator(self, machine_id: str) -> bool:
        return any(m.indicator for m in self.sensors.values() if m.machine_id == machine_id)


def _lake_days(lake: Path, table: str, days: list[str]) -> list[str]:
    return [d for d in days if any(partition_dir(lake, table, d).glob("*.parquet"))]


def fit_reference(
    lake: Path, day: date, clock: FactoryCalendar, history_days: int = HISTORY_DAYS
) -> Reference | None:
    """The reference for judging factory ``day`` live: the days before it the lake holds readings and
    machine states of; None when it holds none."""
    wanted = [(day - timedelta(days=n)).isoformat() for n in range(1, history_days + 1)]
    days = sorted(
        set(_lake_days(lake, "sensor_readings", wanted)) & set(_lake_days(lake, "machine_states", wanted))
    )
    if not days:
        return None
    conn = duckdb.connect()
    try:
        conn.execute("set TimeZone = 'UTC'; create schema raw")
        for table in ("sensor_readings", "machine_states"):
            files = ", ".join(
                "'" + str(f).replace("'", "''") + "'"
                for d in days
                for f in sorted(partition_dir(lake, table, d).glob("*.parquet"))
            )  # a view takes no parameters: the paths are quoted literals
            conn.execute(
                f"create view raw.{table} as select * from read_parquet([{files}], hive_partitioning = true)"
            )
        sensors = conn.execute(
            "select distinct sensor_id, machine_id from raw.sensor_readings order by sensor_id"
        ).fetchall()
        interval_us = reading_interval_us(conn, days[-1]) or 60_000_000
        start = int(clock.day_window(date.fromisoformat(days[0]))[0].timestamp() * 1e6)
        end = int(clock.day_window(date.fromisoformat(days[-1]))[1].timestamp() * 1e6)
        grid = load_grid(conn, sensors, days, start, end, interval_us, clock, regimes=(STATES, STATE_OF))
    finally:
        conn.close()
    baseline = fit_baseline(grid)
    _from_siblings(baseline.center, baseline.sigma, sensors)
    models = {}
    for row, (sensor_id, machine_id) in enumerate(sensors):
        levels = baseline.center[row]
        if not np.isfinite(levels[:2]).any():
            continue  # never read in a judged state: learnt live
        models[sensor_id] = SensorModel(
            machine_id,
            tuple(float(v) for v in levels),
            tuple(float(v) for v in baseline.sigma[row]),
            float(baseline.alpha[row]),
            tuple(float(v) for v in baseline.seasonal[row]),
            int(baseline.max_run[row]),
        )
    return Reference(day, tuple(days), clock.timezone, interval_us / 1e6, models)


def _from_siblings(levels: np.ndarray, sigma: np.ndarray, sensors: list[tuple[str, str]]) -> None:
    """A state a sensor's machine was never in during the reference days (a breakdown is rare) takes its
    level and noise from the same sensor of the machine's siblings (COAT-01..COAT-10: one machine type)."""
    kinds: dict[tuple[str, str], list[int]] = {}
    for row, (sensor_id, machine_id) in enumerate(sensors):
        kind = (machine_id.rsplit("-", 1)[0], sensor_id.removeprefix(f"{machine_id}."))
        kinds.setdefault(kind, []).append(row)
    for rows in kinds.values():
        for state in range(levels.shape[1]):
            known = [r for r in rows if np.isfinite(levels[r, state])]
            missing = [r for r in rows if not np.isfinite(levels[r, state])]
            if known and missing:
                levels[missing, state] = np.median(levels[known, state])
                sigma[missing, state] = np.median(sigma[known, state])
