"""Telemetry: one reading per sensor and sampling interval, generated with numpy in time chunks and streamed.

A machine sensor aims at a level set by the machine's state (producing, idle, down) and approaches it with a
first-order lag (a dryer heats up and cools down over minutes; a vibration sensor follows at once), plus white
noise. Rooms carry ambient temperature with a daily swing, and dew point. A wearing machine's sensor rises
with its wear; planted faults (spikes, drifts, level shifts, stuck values, gaps) are laid over the readings.

The day is produced a chunk of sampling instants at a time (about ``CHUNK_VALUES`` readings), carrying each
sensor's lagged value from chunk to chunk, so 1,000 sensors at 1 Hz never sit in memory at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from orchestration.lake.tables import RAW_TABLES
from orchestration.simulator.config import FactoryConfig
from orchestration.simulator.planted import SensorFault, Wear, plan_sensor_faults, sensor_fault_truth
from orchestration.simulator.route import Station
from orchestration.simulator.shifts import ShiftCalendar

CHUNK_VALUES = 1_000_000  # readings per streamed record batch

# Which sensor level each machine state aims at.
_LEVEL_OF_STATE = {
    "producing": "producing",
    "setup": "idle",
    "idle": "idle",
    "micro_stop": "idle",
    "breakdown": "down",
    "planned_maintenance": "down",
}
_LEVELS = ("producing", "idle", "down")
_PRODUCING = _LEVELS.index("producing")


@dataclass
class _Sensors:
    """The plant's sensors as parallel arrays, machine sensors first, then room sensors."""

    ids: list[str]
    machines: list[str]  # machine id, or room id for ambient sensors
    measures: list[str]
    units: list[str]
    levels: np.ndarray  # (machine sensors, 3): producing, idle, down
    alphas: np.ndarray  # lag factor per sampling step (1: no lag)
    noise: np.ndarray
    scale: np.ndarray  # size of a planted fault: max(noise, 1% of the producing-idle range)
    is_machine: np.ndarray
    worn: int | None  # row of the wearing machine's sensor
    rooms: list[tuple[str, float, float, tuple[float, float, float] | None]]  # (kind, base, swing, warm span)


class Telemetry:
    """One factory day of sensor readings: planned up front, generated on iteration."""

    def __init__(
        self,
        config: FactoryConfig,
        calendar: ShiftCalendar,
        stations: list[Station],
        states: dict[str, list[tuple[int, int, str]]],  # machine -> contiguous (start_us, end_us, state)
        window_us: tuple[int, int],
        rng: np.random.Generator,
        wear: Wear | None,
    ):
        self._calendar = calendar
        self._rng = rng
        self._wear = wear
        self._start_us, end_us = window_us
        self.interval_us = int(round(config.sensor_interval_s * 1e6))
        self.n_times = -(-(end_us - self._start_us) // self.interval_us)
        self._sensors = _sensors(config, calendar, stations, wear)
        s = self._sensors
        self._states = states
        self.faults = plan_sensor_faults(
            config, calendar.day, s.machines, s.scale, s.is_machine, self.n_times
        )

    @property
    def sensor_count(self) -> int:
        return len(self._sensors.ids)

    def sensors_table(self) -> pa.Table:
        """Master data of the sensors: each one's plausible range, its levels widened by their span and 20
        noise sigmas either side, so that no state, drift or planted anomaly of a working sensor leaves it."""
        s = self._sensors
        lows, highs = [], []
        room_levels = [
            (base - swing, base + swing + (abs(warm[2]) if warm else 0.0)) for _, base, swing, warm in s.rooms
        ]
        for row in range(len(s.ids)):
            if s.is_machine[row]:
                levels = s.levels[row]
                low, high = float(levels.min()), float(levels.max())
            else:
                low, high = room_levels[row - len(s.levels)]
            margin = (high - low) + 20.0 * float(max(s.noise[row], s.scale[row]))
            lows.append(round(low - margin, 4))
            highs.append(round(high + margin, 4))
        return pa.table(
            {
                "sensor_id": s.ids,
                "machine_id": s.machines,
                "measure": s.measures,
                "unit": s.units,
                "plausible_min": lows,
                "plausible_max": highs,
            },
            schema=RAW_TABLES["sensors"],
        )

    def truth(self) -> pa.Table:
        s = self._sensors
        return sensor_fault_truth(self.faults, s.ids, s.machines, s.units, self._start_us, self.interval_us)

    def batches(self) -> Iterator[pa.RecordBatch]:
        """The readings in time chunks; within a chunk, sensor by sensor in time order. Gaps are left out."""
        s = self._sensors
        n = len(s.ids)
        if n == 0 or self.n_times == 0:
            return
        chunk = max(1, CHUNK_VALUES // n)
        dictionaries = [pa.array(v, pa.string()) for v in (s.ids, s.machines, s.measures, s.units)]
        ts_type = RAW_TABLES["sensor_readings"].field("reading_ts").type
        lagged_last = None
        stuck_at: dict[str, float] = {}
        for first in range(0, self.n_times, chunk):
            index = np.arange(first, min(first + chunk, self.n_times), dtype=np.int64)
            grid_us = self._start_us + index * self.interval_us
            clock_s = (grid_us - self._start_us) / 1e6
            targets = self._targets(grid_us, clock_s)
            lagged = _lagged(targets, s.alphas, lagged_last)
            lagged_last = lagged[:, -1].copy()
            values = lagged + s.noise[:, None] * self._rng.standard_normal(lagged.shape)
            keep = np.ones(values.shape, dtype=bool)
            for fault in self.faults:
                _apply(fault, values, keep, first, len(index), stuck_at)
            values = np.round(values, 4)
            rows, cols = np.nonzero(keep)  # row-major: sensor by sensor, then time
            sensor_index = pa.array(rows.astype(np.int32))
            yield pa.RecordBatch.from_arrays(
                [d.take(sensor_index) for d in dictionaries]
                + [pa.array(grid_us[cols], ts_type), pa.array(values[rows, cols], pa.float64())],
                schema=RAW_TABLES["sensor_readings"],
            )

    def _targets(self, grid_us: np.ndarray, clock_s: np.ndarray) -> np.ndarray:
        s = self._sensors
        rows = []
        codes_of: dict[str, np.ndarray] = {}
        for sensor_row, levels in enumerate(s.levels):
            machine = s.machines[sensor_row]
            if machine not in codes_of:
                codes_of[machine] = _level_codes(self._states[machine], grid_us)
            codes = codes_of[machine]
            target = levels[codes]
            if sensor_row == s.worn:  # the wearing machine's sensor rises with wear while producing
                rise = self._wear.spec.sensor_rise * self._wear.level(clock_s)
                target = target + np.where(codes == _PRODUCING, rise, 0.0)
            rows.append(target)
        daily = np.sin(
            2 * np.pi * (self._calendar.local_hour_of_day(clock_s) - 9.0) / 24.0
        )  # warm mid-afternoon
        for _, base, swing, warm in s.rooms:
            level = base + swing * daily
            if warm is not None:  # the planted bad shift: the room runs warm for that shift
                start_s, end_s, delta_c = warm
                level = level + delta_c * ((clock_s >= start_s) & (clock_s < end_s))
            rows.append(level)
        return np.vstack(rows)


def _sensors(config: FactoryConfig, calendar: ShiftCalendar, stations: list[Station], wear: Wear | None):
    ids, machines, measures, units = [], [], [], []
    levels, alphas, noise, scale = [], [], [], []
    worn = None
    for station in stations:
        room = config.rooms[station.step.room_id]
        for machine_id in station.machine_ids:
            for name, sensor in station.step.sensors.items():
                if wear is not None and machine_id == wear.spec.machine and name == wear.spec.sensor:
                    worn = len(ids)
                down = room.ambient_temperature_c if sensor.down is None else sensor.down
                levels.append((sensor.producing, sensor.idle, down))
                tau = sensor.time_constant_s
                alphas.append(1.0 if tau == 0 else -np.expm1(-config.sensor_interval_s / tau))
                noise.append(sensor.noise)
                scale.append(max(sensor.noise, 0.01 * abs(sensor.producing - sensor.idle), 1e-3))
                ids.append(f"{machine_id}.{name}")
                machines.append(machine_id)
                measures.append(sensor.measure)
                units.append(sensor.unit)
    n_machine_sensors = len(ids)
    rooms = []
    for room_id, room in config.rooms.items():
        warm = calendar.bad_shift_span(config, room_id)
        for name, measure, base, swing, heat in (
            (
                "ambient_temperature",
                "temperature",
                room.ambient_temperature_c,
                room.temperature_swing_c,
                warm,
            ),
            ("dew_point", "dew_point", room.dew_point_c, 2 * room.temperature_swing_c, None),
        ):
            rooms.append((name, base, swing, heat))
            alphas.append(1.0)
            noise.append(room.noise)
            scale.append(max(room.noise, 1e-3))
            ids.append(f"{room_id}.{name}")
            machines.append(room_id)
            measures.append(measure)
            units.append("degC")
    return _Sensors(
        ids=ids,
        machines=machines,
        measures=measures,
        units=units,
        levels=np.array(levels, dtype=np.float64).reshape(-1, 3),
        alphas=np.array(alphas, dtype=np.float64),
        noise=np.array(noise, dtype=np.float64),
        scale=np.array(scale, dtype=np.float64),
        is_machine=np.arange(len(ids)) < n_machine_sensors,
        worn=worn,
        rooms=rooms,
    )


def _apply(
    fault: SensorFault, values: np.ndarray, keep: np.ndarray, first: int, length: int, stuck_at: dict
) -> None:
    """Lay one planted fault over the chunk of sampling indices [first, first + length)."""
    lo, hi = max(fault.first, first), min(fault.stop, first + length)
    if lo >= hi:
        return
    cols = slice(lo - first, hi - first)
    row = fault.sensor
    if fault.kind == "gap":
        keep[row, cols] = False
    elif fault.kind in ("spike", "level_shift"):
        values[row, cols] += fault.magnitude
    elif fault.kind == "drift":  # a linear ramp that reaches the magnitude on the fault's last reading
        steps = np.arange(lo, hi) - fault.first + 1
        values[row, cols] += fault.magnitude * steps / (fault.stop - fault.first)
    elif fault.kind == "stuck":  # the sensor repeats the reading it gave when it stuck
        held = stuck_at.setdefault(fault.fault_id, float(values[row, lo - first]))
        values[row, cols] = held


def _level_codes(intervals: list[tuple[int, int, str]], grid_us: np.ndarray) -> np.ndarray:
    """Index into _LEVELS of the level each sampling instant aims at."""
    starts = np.array([iv[0] for iv in intervals], dtype=np.int64)
    codes = np.array([_LEVELS.index(_LEVEL_OF_STATE[iv[2]]) for iv in intervals])
    return codes[np.searchsorted(starts, grid_us, side="right") - 1]


def _lagged(targets: np.ndarray, alphas: np.ndarray, previous: np.ndarray | None) -> np.ndarray:
    """First-order lag of every sensor at once, one vector step per sampling instant.

    ``previous`` is each sensor's lagged value at the instant before the chunk; None at the start of the day,
    where every sensor is taken as settled on its first target.
    """
    out = np.empty_like(targets)
    last = targets[:, 0] if previous is None else previous + alphas * (targets[:, 0] - previous)
    out[:, 0] = last
    for k in range(1, targets.shape[1]):
        out[:, k] = out[:, k - 1] + alphas * (targets[:, k] - out[:, k - 1])
    return out
