"""Telemetry: one reading per sensor and sampling interval, generated in bulk with numpy from the state log.

A machine sensor aims at a level set by the machine's state (producing, idle, down) and approaches it with a
first-order lag (a dryer heats up and cools down over minutes; a vibration sensor follows at once), plus white
noise. Rooms carry ambient temperature with a daily swing, and dew point.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.lake.tables import RAW_TABLES
from orchestration.simulator.config import FactoryConfig
from orchestration.simulator.route import Station
from orchestration.simulator.shifts import ShiftCalendar

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


def sensor_readings(
    config: FactoryConfig,
    calendar: ShiftCalendar,
    stations: list[Station],
    states: dict[str, list[tuple[int, int, str]]],  # machine -> contiguous (start_us, end_us, state)
    window_start_us: int,
    window_end_us: int,
    rng: np.random.Generator,
) -> pa.Table:
    interval_us = int(round(config.sensor_interval_s * 1e6))
    grid_us = np.arange(window_start_us, window_end_us, interval_us, dtype=np.int64)
    clock_s = (grid_us - window_start_us) / 1e6

    sensor_ids, machine_ids, measures, units = [], [], [], []
    targets, alphas, noise = [], [], []
    for station in stations:
        room = config.rooms[station.step.room_id]
        for machine_id in station.machine_ids:
            level_codes = _level_codes(states[machine_id], grid_us)
            for name, sensor in station.step.sensors.items():
                down = room.ambient_temperature_c if sensor.down is None else sensor.down
                levels = np.array([sensor.producing, sensor.idle, down])
                targets.append(levels[level_codes])
                tau = sensor.time_constant_s
                alphas.append(1.0 if tau == 0 else -np.expm1(-config.sensor_interval_s / tau))
                noise.append(sensor.noise)
                sensor_ids.append(f"{machine_id}.{name}")
                machine_ids.append(machine_id)
                measures.append(sensor.measure)
                units.append(sensor.unit)

    values = _lagged(np.array(targets).reshape(len(targets), len(grid_us)), np.array(alphas))
    values += np.array(noise)[:, None] * rng.standard_normal(values.shape)

    room_values = []
    daily = np.sin(2 * np.pi * (calendar.local_hour_of_day(clock_s) - 9.0) / 24.0)  # warmest mid-afternoon
    for room_id, room in config.rooms.items():
        for name, measure, unit, base, swing in (
            (
                "ambient_temperature",
                "temperature",
                "degC",
                room.ambient_temperature_c,
                room.temperature_swing_c,
            ),
            ("dew_point", "dew_point", "degC", room.dew_point_c, 2 * room.temperature_swing_c),
        ):
            level = base + swing * daily
            bad = calendar.bad_shift_span(config, room_id) if name == "ambient_temperature" else None
            if bad is not None:  # the planted bad shift: the room runs warm for that shift
                start_s, end_s, delta_c = bad
                level = level + delta_c * ((clock_s >= start_s) & (clock_s < end_s))
            room_values.append(level + room.noise * rng.standard_normal(len(grid_us)))
            sensor_ids.append(f"{room_id}.{name}")
            machine_ids.append(room_id)
            measures.append(measure)
            units.append(unit)
    if room_values:
        values = np.vstack([values, np.array(room_values)])

    n_sensors, n_times = len(sensor_ids), len(grid_us)
    index = pa.array(np.repeat(np.arange(n_sensors, dtype=np.int32), n_times))

    def per_sensor(names: list[str]) -> pa.Array:
        return pc.take(pa.array(names, type=pa.string()), index)

    schema = RAW_TABLES["sensor_readings"]
    return pa.Table.from_arrays(
        [
            per_sensor(sensor_ids),
            per_sensor(machine_ids),
            per_sensor(measures),
            per_sensor(units),
            pa.array(np.tile(grid_us, n_sensors), type=schema.field("reading_ts").type),
            pa.array(np.round(values, 4).reshape(-1), type=pa.float64()),
        ],
        schema=schema,
    )


def _level_codes(intervals: list[tuple[int, int, str]], grid_us: np.ndarray) -> np.ndarray:
    """Index into _LEVELS of the level each sampling instant aims at."""
    starts = np.array([iv[0] for iv in intervals], dtype=np.int64)
    codes = np.array([_LEVELS.index(_LEVEL_OF_STATE[iv[2]]) for iv in intervals])
    return codes[np.searchsorted(starts, grid_us, side="right") - 1]


def _lagged(targets: np.ndarray, alphas: np.ndarray) -> np.ndarray:
    """First-order lag of every sensor at once: one vector step per sampling instant, settled at the start."""
    out = np.empty_like(targets)
    if targets.shape[1] == 0:
        return out
    out[:, 0] = targets[:, 0]
    for k in range(1, targets.shape[1]):
        out[:, k] = out[:, k - 1] + alphas * (targets[:, k] - out[:, k - 1])
    return out
