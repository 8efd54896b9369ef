"""Planted effects of a factory day and their ground truth: what the analytics downstream must find.

Every plan here is a pure function of the scenario and the date (its own random stream), so the truth of a
day is the same whichever order days are simulated in. The effects themselves act elsewhere: the bad shift
in the room climate and the quality model, wear in the machine and its sensor, sensor faults in telemetry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa

from orchestration.lake.tables import TRUTH_TABLES
from orchestration.simulator.config import FactoryConfig
from orchestration.simulator.deviations import RouteDeviation
from orchestration.simulator.machine import StepRecord
from orchestration.simulator.shifts import ShiftCalendar
from orchestration.simulator.streams import stream


class Wear:
    """The degradation cycle of one machine: wear 0 -> 1 over ``days_to_failure`` days, then a failure."""

    def __init__(self, config: FactoryConfig, calendar: ShiftCalendar):
        spec = config.effects.degradation
        assert spec is not None
        self.spec = spec
        first_start, _ = calendar.calendar.day_window(spec.start)
        # Seconds from the first cycle's start to this day's clock zero (UTC: DST does not bend the cycle).
        self._offset_s = (calendar.window_start - first_start).total_seconds()
        self._period_s = spec.days_to_failure * 86400.0
        self._length_s = calendar.length_s

    def level(self, clock_s):
        """Wear in [0, 1) at simulation-clock seconds (scalar or array); 0 before the first cycle."""
        since = np.asarray(clock_s, dtype=np.float64) + self._offset_s
        return np.where(since >= 0, np.mod(since, self._period_s) / self._period_s, 0.0)

    def failures(
        self, since_s: float = 0.0, until_s: float | None = None, clip: bool = True
    ) -> list[tuple[float, float]]:
        """(clock_s, duration_s) of failures reaching into [since_s, until_s), clipped to since_s (without
        ``clip``: only those starting in it); until_s defaults to the end of this day."""
        repair_s = self.spec.repair_h * 3600.0
        until_s = self._length_s if until_s is None else until_s
        windows = []
        k = max(1, int(np.floor((self._offset_s + since_s - repair_s) / self._period_s)))
        while (at := k * self._period_s - self._offset_s) < until_s:
            if at + repair_s > since_s and (clip or at >= since_s):
                start = max(at, since_s)
                windows.append((start, at + repair_s - start))
            k += 1
        return windows

    def cycle_span_s(self, clock_s: float) -> tuple[float, float] | None:
        """(start, failure) of the wear cycle running at ``clock_s`` on the simulation clock; None before."""
        since = clock_s + self._offset_s
        if since < 0:
            return None
        k = np.floor(since / self._period_s)
        start = k * self._period_s - self._offset_s
        return start, start + self._period_s


@dataclass(frozen=True)
class SensorFault:
    """A planted anomaly or gap on one sensor, in sampling-grid indices of the day: [first, stop)."""

    fault_id: str
    sensor: int  # row of the sensor in the telemetry's sensor list
    kind: str  # spike | drift | level_shift | stuck | gap
    first: int
    stop: int
    magnitude: float  # offset in the sensor's unit (at the end, for a drift)


def plan_sensor_faults(
    config: FactoryConfig,
    day: date,
    machine_of_sensor: list[str],
    scale_of_sensor: np.ndarray,
    is_machine_sensor: np.ndarray,
    n_times: int,
) -> list[SensorFault]:
    """The day's sensor anomalies (distinct machine sensors) and gaps (whole machines falling silent)."""
    rng = stream(config.seed, day, "sensor_faults")
    interval_min = config.sensor_interval_s / 60.0
    faults: list[SensorFault] = []

    def span(min_minutes: float, max_minutes: float) -> tuple[int, int]:
        length = max(1, int(round(rng.uniform(min_minutes, max_minutes) / interval_min)))
        length = min(length, n_times)
        first = int(rng.integers(0, n_times - length + 1))
        return first, first + length

    gaps = config.effects.sensor_gaps
    machines = sorted({m for m, on in zip(machine_of_sensor, is_machine_sensor, strict=True) if on})
    silent = rng.choice(len(machines), size=min(gaps.per_day, len(machines)), replace=False)
    silent_machines = {machines[i] for i in silent}
    for n, i in enumerate(sorted(silent), start=1):
        first, stop = span(gaps.min_minutes, gaps.max_minutes)
        faults.extend(
            SensorFault(f"{day.isoformat()}-G{n:02d}", s, "gap", first, stop, 0.0)
            for s, machine in enumerate(machine_of_sensor)
            if machine == machines[i] and is_machine_sensor[s]
        )

    anomalies = config.effects.sensor_anomalies
    candidates = [
        s for s, on in enumerate(is_machine_sensor) if on and machine_of_sensor[s] not in silent_machines
    ]
    chosen = rng.choice(len(candidates), size=min(anomalies.per_day, len(candidates)), replace=False)
    for n, i in enumerate(sorted(chosen), start=1):
        sensor = candidates[i]
        kind = str(rng.choice(anomalies.kinds))
        if kind == "spike":
            first = int(rng.integers(0, n_times))
            first, stop = first, first + 1
        else:
            first, stop = span(anomalies.min_minutes, anomalies.max_minutes)
        sign = 1.0 if rng.random() < 0.5 else -1.0
        magnitude = 0.0 if kind == "stuck" else sign * anomalies.sigmas * float(scale_of_sensor[sensor])
        faults.append(SensorFault(f"{day.isoformat()}-A{n:02d}", sensor, kind, first, stop, magnitude))
    return faults


@dataclass(frozen=True)
class Bottleneck:
    activity: str
    mean_wait_min: float
    busy_share: float  # of its machines' day, not idle
    runner_up: str
    runner_up_wait_min: float


def bottleneck_of_day(
    steps: list[StepRecord], states: dict[str, list[tuple[int, int, str]]], activity_of: dict[str, str]
) -> Bottleneck | None:
    """The step batches queued longest for on this day (mean wait of the steps started in it).

    The simulator knows every queue time exactly; the analytics must find the same step from the event log.
    """
    waits: dict[str, list[float]] = {}
    for step in steps:
        waits.setdefault(step.activity, []).append(step.waited_s)
    if len(waits) < 2:
        return None
    mean = {activity: float(np.mean(v)) / 60.0 for activity, v in waits.items()}
    ranked = sorted(mean, key=mean.get, reverse=True)
    busy: list[float] = []
    for machine, intervals in states.items():
        if activity_of[machine] == ranked[0]:
            total = sum(end - start for start, end, _ in intervals)
            idle = sum(end - start for start, end, state in intervals if state == "idle")
            busy.append(1 - idle / total)
    return Bottleneck(ranked[0], mean[ranked[0]], float(np.mean(busy)), ranked[1], mean[ranked[1]])


def planted_effects(
    config: FactoryConfig,
    calendar: ShiftCalendar,
    wear: Wear | None,
    bottleneck: Bottleneck | None,
    us,
    route_deviations: list[tuple[float, RouteDeviation]] = (),
) -> pa.Table:
    """The truth rows of the day's process effects; ``us`` turns simulation-clock seconds into UTC µs.

    A route deviation is a row per deviating batch (target: the case), from its release to the day's end:
    effect_id ``route_deviation:<kind>:<step>:<case>``, magnitude 1 (one deviation)."""
    day = calendar.day.isoformat()
    rows = []
    for released_s, deviation in route_deviations:
        rows.append(
            (
                f"route_deviation:{deviation.kind}:{deviation.step}:{deviation.case_id}",
                "route_deviation",
                "case",
                deviation.case_id,
                released_s,
                calendar.length_s,
                1.0,
                "deviation",
                deviation.description,
            )
        )
    if bottleneck is not None:
        b = bottleneck
        rows.append(
            (
                f"bottleneck:{b.activity}:{day}",
                "bottleneck",
                "step",
                b.activity,
                0.0,
                calendar.length_s,
                b.mean_wait_min,
                "min",
                f"batches queued {b.mean_wait_min:.0f} min on average for {b.activity} (next: {b.runner_up}, "
                f"{b.runner_up_wait_min:.0f} min); its machines were busy {b.busy_share:.0%} of the day",
            )
        )
    bad = config.effects.bad_shift
    if bad is not None:
        warm = calendar.bad_shift_span(config, bad.room)
        if warm is not None:
            rows.append(
                (
                    f"bad_shift:{bad.room}:{day}",
                    "bad_shift",
                    "room",
                    bad.room,
                    warm[0],
                    warm[1],
                    warm[2],
                    "degC",
                    f"{bad.room} runs {warm[2]:g} degC warm during the {bad.shift} shift; "
                    + ", ".join(f"{k} drifts {v:g} per degC" for k, v in bad.drift_per_c.items()),
                )
            )
    if wear is not None:
        spec = wear.spec
        cycle = wear.cycle_span_s(calendar.length_s / 2)
        if cycle is not None:
            start, failure = cycle
            unit = config.route[config.activity_of(spec.machine)].sensors[spec.sensor].unit
            rows.append(
                (
                    f"degradation:{spec.machine}:{int(us([start])[0])}",
                    "degradation",
                    "machine",
                    spec.machine,
                    start,
                    failure,
                    spec.sensor_rise,
                    unit,
                    f"{spec.machine} wears out: {spec.sensor} rises up to {spec.sensor_rise:g} producing, "
                    f"micro-stops up to {spec.micro_stop_factor:g}x as often, failure at wear 1",
                )
            )
        for at, duration in wear.failures():
            rows.append(
                (
                    f"wear_failure:{spec.machine}:{int(us([at])[0])}",
                    "wear_failure",
                    "machine",
                    spec.machine,
                    at,
                    at + duration,
                    duration / 3600.0,
                    "h",
                    f"{spec.machine} fails worn out and is repaired ({duration / 3600:.1f} h in this day)",
                )
            )
    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in range(9)]
    schema = TRUTH_TABLES["planted_effects"]
    return pa.Table.from_arrays(
        [
            pa.array(columns[0], pa.string()),
            pa.array(columns[1], pa.string()),
            pa.array(columns[2], pa.string()),
            pa.array(columns[3], pa.string()),
            pa.array(us(list(columns[4])), schema.field("start_ts").type),
            pa.array(us(list(columns[5])), schema.field("end_ts").type),
            pa.array(columns[6], pa.float64()),
            pa.array(columns[7], pa.string()),
            pa.array(columns[8], pa.string()),
        ],
        schema=schema,
    )


def sensor_fault_truth(
    faults: list[SensorFault],
    sensor_ids: list[str],
    machine_ids: list[str],
    units: list[str],
    grid_start_us: int,
    interval_us: int,
) -> pa.Table:
    schema = TRUTH_TABLES["sensor_anomalies"]
    ordered = sorted(faults, key=lambda f: (f.fault_id, sensor_ids[f.sensor]))
    return pa.Table.from_arrays(
        [
            pa.array([f.fault_id for f in ordered], pa.string()),
            pa.array([sensor_ids[f.sensor] for f in ordered], pa.string()),
            pa.array([machine_ids[f.sensor] for f in ordered], pa.string()),
            pa.array([f.kind for f in ordered], pa.string()),
            pa.array([grid_start_us + f.first * interval_us for f in ordered], schema.field("start_ts").type),
            pa.array([grid_start_us + f.stop * interval_us for f in ordered], schema.field("end_ts").type),
            pa.array([f.magnitude for f in ordered], pa.float64()),
            pa.array([units[f.sensor] for f in ordered], pa.string()),
        ],
        schema=schema,
    )
