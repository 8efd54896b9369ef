"""Univariate sensor anomaly detectors on a regular time grid: spikes, level shifts, drifts, stuck, gaps.

A sensor's readings are judged against what it should read, learnt from earlier readings of the same sensor:
its level in each machine-state regime (a dryer reads differently producing and idle), followed with the
sensor's own first-order lag (``response``), plus an hour-of-day offset (a room's daily swing); the spread is
the MAD of the residuals. Every detector works on the whole (sensors, times) matrix at once:

- spike: the residual against the median of itself and its four neighbours (robust to steps and ramps);
- level shift and drift: a two-sided CUSUM of the standardized residual (``cusum``), whose window runs from
  the CUSUM's last zero (the onset estimate) to its peak; a steady ramp inside makes it a drift;
- stuck: more identical consecutive readings than the sensor ever gave in its baseline;
- gap: missing readings on the grid, as their own kind.

Readings in an excluded context (regime -1: changeovers, planned maintenance) are never judged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
from scipy.ndimage import median_filter

from orchestration.anomalies.cusum import LevelChange, level_changes
from orchestration.anomalies.response import expected, fit_response
from orchestration.anomalies.runs import merge_close, runs

MAD_TO_SIGMA = 1.4826  # MAD of a normal distribution times this is its standard deviation
KINDS = ("spike", "level_shift", "drift", "stuck", "gap", "multivariate")


@dataclass(frozen=True)
class DetectorSettings:
    """Thresholds, in robust sigmas unless said otherwise; set a priori, not tuned on any evaluation data."""

    spike_z: float = 6.0
    cusum_k: float = 1.0  # allowance: shifts under 2k = 2 sigmas are not chased (in-control ARL beyond 10^6)
    cusum_h: float = 10.0  # decision interval: one 10-sigma spike alone (9) stays below it
    min_level_readings: int = 3  # a level event spans at least this many readings (shorter: a spike)
    level_merge_s: float = 3600.0  # level events of one sensor and direction this close are one deviation
    recovery_z: float = 2.0  # after changeovers and maintenance, judged again once back within this...
    recovery_max_s: float = 7200.0  # ...or after this long at the latest
    stuck_min_readings: int = 3
    gap_min_readings: int = 1
    warm_up_factor: float = 1.5  # thresholds widen by this on readings judged without history of their own
    merge_gap: int = 2  # events of one sensor and kind this close (readings) are one event


@dataclass
class SensorGrid:
    """Readings of several sensors on one regular time grid; NaN where a sensor sent nothing."""

    sensor_ids: list[str]
    machine_ids: list[str]
    start_us: int  # UTC epoch microseconds of the first grid instant
    interval_us: int
    values: np.ndarray  # (sensors, times)
    regime: np.ndarray | None = None  # (sensors, times) int8: machine state regime; -1: excluded context
    hour: np.ndarray | None = None  # (times,) local time of day in hours [0, 24), for the seasonal baseline
    warm_up: np.ndarray | None = None  # (sensors, times) bool: little history (e.g. a new product): widen
    regime_names: tuple[str, ...] = ("normal",)

    def __post_init__(self):
        if self.regime is None:
            self.regime = np.zeros(self.values.shape, dtype=np.int8)

    @property
    def n_times(self) -> int:
        return self.values.shape[1]

    def time_us(self, index) -> np.ndarray:
        return self.start_us + np.asarray(index, dtype=np.int64) * self.interval_us


@dataclass
class Baseline:
    """What each sensor normally reads, per regime, learnt from readings before the judged ones."""

    sensor_ids: list[str]
    center: np.ndarray  # (sensors, regimes): the level each regime aims at
    alpha: np.ndarray  # (sensors,): first-order lag per reading (1: follows the state at once)
    sigma: np.ndarray  # (sensors, regimes): MAD sigma of the residuals
    seasonal: np.ndarray  # (sensors, 24): median offset per local hour (zeros without a day of history)
    spike_sigma: np.ndarray  # (sensors,): MAD sigma of the reading minus its 5-reading median
    max_run: np.ndarray  # (sensors,): longest run of identical consecutive readings seen
    history: np.ndarray  # (sensors, regimes): readings the baseline rests on
    from_judged_data: bool = False  # no earlier data: the judged readings are their own (warm-up) baseline
    warm_up: np.ndarray | None = None  # (sensors, regimes): regimes without history, learnt from judged data


@dataclass(frozen=True)
class Event:
    sensor_id: str
    machine_id: str
    kind: str
    start_us: int
    end_us: int  # exclusive
    severity: str  # warning | critical
    score: float
    evidence: dict = field(default_factory=dict)

    def evidence_json(self) -> str:
        return json.dumps(self.evidence, sort_keys=True, default=float)


@dataclass
class ScoredGrid:
    z: np.ndarray  # (sensors, times) float32 standardized residual (NaN: not judged)
    spike_z: np.ndarray  # (sensors, times) float32
    flagged: np.ndarray  # (sensors, times) bool: inside any event
    events: list[Event]


def fit_baseline(reference: SensorGrid, min_history: int = 20, from_judged_data: bool = False) -> Baseline:
    """Levels, lag, hour-of-day offsets and robust spreads per sensor and regime, from the reference."""
    values = reference.values
    n_sensors = values.shape[0]
    n_regimes = len(reference.regime_names)
    judged = np.isfinite(values) & (reference.regime >= 0)
    center, alpha = fit_response(
        values, reference.regime, n_regimes, reference.interval_us / 1e6, min_history=min_history
    )
    residual = values - expected(center, reference.regime, values, alpha)
    seasonal = np.zeros((n_sensors, 24))
    span_h = reference.n_times * reference.interval_us / 3.6e9
    if reference.hour is not None and span_h >= 20:
        hour_of_day = np.floor(reference.hour).astype(np.int64) % 24
        for hour in range(24):
            in_hour = judged & (hour_of_day == hour)[None, :]
            counts = in_hour.sum(axis=1)
            if counts.max(initial=0) >= 5:
                med = _nanmedian_rows(np.where(in_hour, residual, np.nan))
                seasonal[:, hour] = np.where(counts >= 5, np.nan_to_num(med), 0.0)
        residual = residual - _seasonal_at(seasonal, reference.hour)
    sigma = np.full((n_sensors, n_regimes), np.nan)
    history = np.zeros((n_sensors, n_regimes), dtype=np.int64)
    for r in range(n_regimes):
        picked = np.where(judged & (reference.regime == r), residual, np.nan)
        history[:, r] = np.isfinite(picked).sum(axis=1)
        enough = history[:, r] >= min_history
        if enough.any():
            mid = np.nanmedian(picked[enough], axis=1)
            sigma[enough, r] = MAD_TO_SIGMA * np.nanmedian(np.abs(picked[enough] - mid[:, None]), axis=1)
    # A regime with little history takes the sensor's spread over all regimes.
    overall = MAD_TO_SIGMA * _nanmedian_rows(np.abs(np.where(judged, residual, np.nan)))
    sigma = np.where(np.isfinite(sigma), sigma, overall[:, None])
    spike_sigma = MAD_TO_SIGMA * _nanmedian_rows(np.where(judged, np.abs(_local_residual(residual)), np.nan))
    # Quantized sensors can have a MAD of 0: floor every sigma at a share of the sensor's typical step.
    step = _nanmedian_rows(np.abs(np.diff(values, axis=1)))
    floor = np.maximum(
        np.nan_to_num(step, nan=0.0),
        1e-6 * (1.0 + np.nanmax(np.abs(np.nan_to_num(center)), axis=1, initial=0)),
    )
    sigma = np.maximum(np.nan_to_num(sigma, nan=0.0), floor[:, None])
    spike_sigma = np.maximum(np.nan_to_num(spike_sigma, nan=0.0), floor)
    return Baseline(
        sensor_ids=list(reference.sensor_ids),
        center=center,
        alpha=alpha,
        sigma=sigma,
        seasonal=seasonal,
        spike_sigma=spike_sigma,
        max_run=_longest_identical_run(values),
        history=history,
        from_judged_data=from_judged_data,
    )


def score_grid(grid: SensorGrid, baseline: Baseline, settings: DetectorSettings | None = None) -> ScoredGrid:
    """Score every reading and collect the events of every univariate detector."""
    settings = settings or DetectorSettings()
    if list(grid.sensor_ids) != list(baseline.sensor_ids):
        raise ValueError("the grid and the baseline must list the same sensors in the same order")
    values = grid.values
    present = np.isfinite(values)
    in_context = grid.regime >= 0
    z, widen, residual = standardize(grid, baseline, settings)

    spike_z = (_local_residual(residual) / baseline.spike_sigma[:, None]).astype(np.float32)
    # A reading whose machine changed state right before or after it is a transition, not a spike.
    steady = in_context.copy()
    steady[:, 1:] &= grid.regime[:, 1:] == grid.regime[:, :-1]
    steady[:, :-1] &= grid.regime[:, :-1] == grid.regime[:, 1:]
    spike_z[~(present & steady)] = np.nan

    events: list[Event] = []
    flagged = np.zeros(values.shape, dtype=bool)
    events += _spikes(grid, baseline, spike_z, widen, settings, flagged)
    events += _level_changes(grid, baseline, z, widen, settings, flagged)
    events += _stuck(grid, baseline, present, settings, flagged)
    events += _gaps(grid, present, settings, flagged)
    events.sort(key=lambda e: (e.start_us, e.sensor_id, e.kind))
    return ScoredGrid(z=z, spike_z=spike_z, flagged=flagged, events=events)


def standardize(
    grid: SensorGrid, baseline: Baseline, settings: DetectorSettings | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(robust z-score, threshold widening, residual) of every reading against its expected value. z is NaN
    where a reading is missing or in an excluded context; the widening is the warm-up factor where the
    baseline rests on little or no history of its own."""
    settings = settings or DetectorSettings()
    values = grid.values
    widen = np.ones(values.shape, dtype=np.float32)
    if grid.warm_up is not None:
        widen[grid.warm_up] = settings.warm_up_factor
    if baseline.from_judged_data:
        widen *= settings.warm_up_factor
    if baseline.warm_up is not None:  # regimes learnt from the judged readings themselves
        widen[_take(baseline.warm_up.astype(np.float64), grid.regime) == 1] *= settings.warm_up_factor
    residual = values - expected(baseline.center, grid.regime, values, baseline.alpha)
    if grid.hour is not None:
        residual = residual - _seasonal_at(baseline.seasonal, grid.hour)
    z = (residual / _take(baseline.sigma, grid.regime)).astype(np.float32)
    z[~(np.isfinite(values) & (grid.regime >= 0))] = np.nan
    z[_recovering(z, grid, settings)] = np.nan
    return z, widen, residual


def _recovering(z: np.ndarray, grid: SensorGrid, settings: DetectorSettings) -> np.ndarray:
    """Readings after an excluded span that have not yet come back within ``recovery_z`` of the expectation.

    A sensor whose lag the reference could not show (the same level producing and idle) still takes its time
    back from a maintenance's level; that return is part of the maintenance, not a fault. Capped at
    ``recovery_max_s``: a sensor still off by then is judged again."""
    excluded = grid.regime < 0
    if not excluded.any():
        return np.zeros(z.shape, dtype=bool)
    index = np.arange(z.shape[1])
    last_excluded = np.maximum.accumulate(np.where(excluded, index, -1), axis=1)
    with np.errstate(invalid="ignore"):
        calm = np.abs(z) <= settings.recovery_z
    last_calm = np.maximum.accumulate(np.where(calm, index, -1), axis=1)
    cap = settings.recovery_max_s * 1e6 / grid.interval_us
    return (last_excluded >= 0) & ~excluded & (last_calm < last_excluded) & (index - last_excluded <= cap)


def _spikes(grid, baseline, spike_z, widen, settings, flagged) -> list[Event]:
    with np.errstate(invalid="ignore"):
        hit = np.abs(spike_z) > settings.spike_z * widen
    rows, first, stop = merge_close(*runs(hit), max_gap=0)
    events = []
    for row, a, b in zip(rows, first, stop, strict=True):
        if b - a > 2:  # a spike is one or two readings; longer is a level change, judged by the CUSUM
            continue
        peak = a + int(np.nanargmax(np.abs(spike_z[row, a:b])))
        score = float(abs(spike_z[row, peak]))
        flagged[row, a:b] = True
        events.append(
            _event(
                grid,
                row,
                "spike",
                a,
                b,
                score,
                settings.spike_z * float(widen[row, peak]),
                {
                    "detector": "reading minus the median of its 5-reading neighbourhood",
                    "value": float(grid.values[row, peak]),
                    "robust_sigma": float(baseline.spike_sigma[row]),
                    "threshold_z": settings.spike_z * float(widen[row, peak]),
                },
            )
        )
    return events


def _level_changes(grid, baseline, z, widen, settings, flagged) -> list[Event]:
    h = settings.cusum_h * widen
    found = level_changes(z, grid.regime < 0, h, settings.cusum_k)
    # One deviation can peak many times (a worn bearing shows each time the machine produces): windows of one
    # sensor and direction this close are one event.
    merge_readings = int(settings.level_merge_s * 1e6 // grid.interval_us)
    found.sort(key=lambda c: (c.row, c.onset))
    merged: list[LevelChange] = []
    for change in found:
        last = merged[-1] if merged else None
        if (
            last
            and last.row == change.row
            and last.sign == change.sign
            and change.onset - last.stop <= max(settings.merge_gap, merge_readings)
        ):
            merged[-1] = LevelChange(last.row, last.onset, last.alarm, max(last.stop, change.stop), last.sign)
        else:
            merged.append(change)
    events = []
    for change in merged:
        row, a, b = change.row, min(change.onset, change.alarm), change.stop
        if b - a < settings.min_level_readings:
            continue  # one or two readings: a spike (its own detector), not a level
        segment = z[row, a:b]
        finite = np.isfinite(segment)
        score = float(np.nanmax(np.abs(segment))) if finite.any() else 0.0
        flagged[row, a:b] = True
        events.append(
            _event(
                grid,
                row,
                _shape_of(segment),
                a,
                b,
                score,
                settings.cusum_h,
                {
                    "detector": "two-sided CUSUM of the robust z-score against the expected reading",
                    "direction": "up" if change.sign > 0 else "down",
                    "alarm_ts_us": int(grid.time_us(change.alarm)),
                    "mean_z": float(np.nanmean(segment)) if finite.any() else None,
                    "baseline_level": {
                        name: (None if not np.isfinite(c) else float(c))
                        for name, c in zip(grid.regime_names, baseline.center[row], strict=False)
                    },
                    "time_constant_s": _time_constant_s(baseline.alpha[row], grid.interval_us),
                    "warm_up": bool(baseline.from_judged_data or (widen[row, change.alarm] > 1)),
                },
                critical_at=2.0 * settings.cusum_h,
            )
        )
    return events


def _time_constant_s(alpha: float, interval_us: int) -> float:
    return 0.0 if alpha >= 1 else round(-interval_us / 1e6 / float(np.log1p(-alpha)), 1)


def _shape_of(segment: np.ndarray) -> str:
    """drift when the residual rises or falls steadily through the event, else a level shift."""
    t = np.nonzero(np.isfinite(segment))[0]
    if len(t) < 4:
        return "level_shift"
    y = segment[t].astype(np.float64)
    r = np.corrcoef(t, y)[0, 1] if np.ptp(y) > 0 else 0.0
    head, tail = np.mean(y[: max(1, len(y) // 4)]), np.mean(y[-max(1, len(y) // 4) :])
    # A ramp: strongly correlated with time, and its first quarter well short of its last.
    return "drift" if abs(r) > 0.8 and abs(head) < 0.6 * abs(tail) else "level_shift"


def _stuck(grid, baseline, present, settings, flagged) -> list[Event]:
    values = grid.values
    same = np.zeros(values.shape, dtype=bool)
    # A sensor repeating itself is broken whatever its machine does: judged in excluded context too.
    same[:, 1:] = (values[:, 1:] == values[:, :-1]) & present[:, 1:]
    rows, first, stop = runs(same)
    first = first - 1  # the run includes the reading the sensor stuck at
    length = stop - first
    needed = np.maximum(settings.stuck_min_readings, 2 * baseline.max_run[rows] + 1)
    keep = length >= needed
    events = []
    for row, a, b, n, limit in zip(
        rows[keep], first[keep], stop[keep], length[keep], needed[keep], strict=True
    ):
        flagged[row, a:b] = True
        events.append(
            _event(
                grid,
                row,
                "stuck",
                a,
                b,
                float(n),
                float(limit),
                {
                    "detector": "identical consecutive readings",
                    "value": float(values[row, a]),
                    "readings": int(n),
                    "longest_normal_run": int(baseline.max_run[row]),
                },
            )
        )
    return events


def _gaps(grid, present, settings, flagged) -> list[Event]:
    rows, first, stop = runs(~present)
    keep = (stop - first) >= settings.gap_min_readings
    events = []
    for row, a, b in zip(rows[keep], first[keep], stop[keep], strict=True):
        minutes = (b - a) * grid.interval_us / 6e7
        flagged[row, a:b] = True
        events.append(
            Event(
                grid.sensor_ids[row],
                grid.machine_ids[row],
                "gap",
                int(grid.time_us(a)),
                int(grid.time_us(b)),
                "critical" if minutes >= 30 else "warning",
                float(minutes),
                {"detector": "missing readings on the sensor's grid", "missing_readings": int(b - a)},
            )
        )
    return events


def _event(grid, row, kind, a, b, score, threshold, evidence, critical_at=None) -> Event:
    critical_at = critical_at if critical_at is not None else 2.0 * threshold
    return Event(
        grid.sensor_ids[row],
        grid.machine_ids[row],
        kind,
        int(grid.time_us(a)),
        int(grid.time_us(b)),
        "critical" if score >= critical_at else "warning",
        round(score, 3),
        evidence,
    )


def _seasonal_at(seasonal: np.ndarray, hour: np.ndarray) -> np.ndarray:
    """The hourly offsets, each taken at its hour's middle and interpolated between (a daily swing is smooth:
    a step per hour would leave its slope as residual)."""
    position = np.asarray(hour, dtype=np.float64) - 0.5
    below = np.floor(position)
    weight = position - below
    first = below.astype(np.int64) % 24
    return seasonal[:, first] * (1.0 - weight) + seasonal[:, (first + 1) % 24] * weight


def _local_residual(values: np.ndarray) -> np.ndarray:
    """The reading minus the median of its 5-reading neighbourhood (missing readings carried forward)."""
    filled = _ffill(values)
    return values - median_filter(filled, size=(1, 5), mode="nearest")


def _ffill(values: np.ndarray) -> np.ndarray:
    present = np.isfinite(values)
    if present.all():
        return values
    index = np.where(present, np.arange(values.shape[1]), 0)
    np.maximum.accumulate(index, axis=1, out=index)
    filled = np.take_along_axis(values, index, axis=1)
    return np.where(np.isfinite(filled), filled, np.nanmedian(values, axis=1, keepdims=True))


def _take(per_regime: np.ndarray, regime: np.ndarray) -> np.ndarray:
    """per_regime[sensor, regime[sensor, t]] for every reading; NaN where the regime is -1."""
    taken = np.take_along_axis(per_regime, np.clip(regime, 0, None).astype(np.intp), axis=1)
    return np.where(regime >= 0, taken, np.nan)


def _nanmedian_rows(a: np.ndarray) -> np.ndarray:
    out = np.full(a.shape[0], np.nan)
    has = np.isfinite(a).any(axis=1)
    if has.any():
        out[has] = np.nanmedian(a[has], axis=1)
    return out


def _longest_identical_run(values: np.ndarray) -> np.ndarray:
    same = np.zeros(values.shape, dtype=bool)
    same[:, 1:] = values[:, 1:] == values[:, :-1]
    rows, first, stop = runs(same)
    longest = np.ones(values.shape[0], dtype=np.int64)
    np.maximum.at(longest, rows, stop - first + 1)
    return longest
