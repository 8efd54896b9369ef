"""Univariate sensor anomaly detectors on a regular time grid: spikes, level shifts, drifts, stuck, gaps.

A sensor's readings are judged against what it should read, learnt from earlier readings of the same sensor:
its level in each machine-state regime (a dryer reads differently producing and idle), followed with the
sensor's own first-order lag (``response``), plus an hour-of-day offset (a room's daily swing); the spread is
the MAD of the residuals. Every detector works on the whole (sensors, times) matrix at once:

- spike: the residual against the median of itself and its four neighbours (robust to steps and ramps);
- level shift and drift: a short windowed mean of the standardized residual against a slowly adapting
  baseline, with hysteresis and a maximum open time (``levels``); a steady ramp inside makes it a drift;
- stuck: more identical consecutive readings than the sensor ever gave in its baseline;
- gap: missing readings on the grid, as their own kind.

Readings in an excluded context (regime -1: changeovers, planned maintenance) are never judged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
from scipy.ndimage import median_filter

from orchestration.anomalies.levels import (
    LevelEvent,
    deviations,
    level_events,
    level_sigma_of,
    nanmedian_rows,
    windowed_mean,
)
from orchestration.anomalies.response import expected, fit_response
from orchestration.anomalies.runs import merge_close, runs

MAD_TO_SIGMA = 1.4826  # MAD of a normal distribution times this is its standard deviation
KINDS = ("spike", "level_shift", "drift", "stuck", "gap", "multivariate")


@dataclass(frozen=True)
class DetectorSettings:
    """Thresholds, in robust sigmas unless said otherwise; set a priori, not tuned on any evaluation data."""

    spike_z: float = 6.0
    level_window: int = 10  # readings in the windowed mean a level is judged on
    level_tau: float = 200.0  # readings: time constant of the adaptive baseline (legitimate slow change)
    level_open: float = 6.0  # an event opens this many sigmas of the windowed mean off the baseline...
    level_close: float = 3.0  # ...and closes back within this many (hysteresis)
    level_max_open_s: float = 4 * 3600.0  # an event open longer is the sensor's new normal: re-baselined
    calibration_margin: float = (
        1.25  # a sensor's limits clear its largest deviation on its reference by this...
    )
    calibration_cap: float = 2.0  # ...but widen at most this far (a fault in the reference must not blind it)
    min_level_readings: int = 3  # a level event spans at least this many readings (shorter: a spike)
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
    level_sigma: np.ndarray | None = None  # (sensors,): spread of the windowed mean around the baseline
    level_open: np.ndarray | None = None  # (sensors,): the level event limit, calibrated on the reference
    resolution: np.ndarray | None = None  # (sensors,): the step of a quantized sensor's readings, else 0
    spike_limit: np.ndarray | None = None  # (sensors,): the spike limit in its sigmas, calibrated
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
    level_baseline: np.ndarray | None = None  # (sensors, times): the adaptive baseline z was judged against


def fit_baseline(
    reference: SensorGrid,
    min_history: int = 20,
    from_judged_data: bool = False,
    settings: DetectorSettings | None = None,
) -> Baseline:
    """Levels, lag, hour-of-day offsets and robust spreads per sensor and regime, from the reference, and each
    sensor's level limits calibrated on it."""
    settings = settings or DetectorSettings()
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
                med = nanmedian_rows(np.where(in_hour, residual, np.nan))
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
    overall = MAD_TO_SIGMA * nanmedian_rows(np.abs(np.where(judged, residual, np.nan)))
    sigma = np.where(np.isfinite(sigma), sigma, overall[:, None])
    spike_sigma = MAD_TO_SIGMA * nanmedian_rows(np.where(judged, np.abs(_local_residual(residual)), np.nan))
    resolution = _resolution(values)
    floor = np.maximum(resolution / np.sqrt(12.0), _scale_floor(values))
    sigma = np.maximum(np.nan_to_num(sigma, nan=0.0), floor[:, None])
    spike_sigma = np.maximum(np.nan_to_num(spike_sigma, nan=0.0), floor)
    z_reference = np.where(judged, residual / _take(sigma, reference.regime), np.nan)
    level_sigma, level_open = _calibrated_levels(z_reference, settings, calibrate=not from_judged_data)
    spike_limit = _calibrated_spikes(
        residual, judged & _steady(reference.regime), spike_sigma, settings, calibrate=not from_judged_data
    )
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
        level_sigma=level_sigma,
        level_open=level_open,
        resolution=resolution,
        spike_limit=spike_limit,
    )


def _steady(regime: np.ndarray) -> np.ndarray:
    """Judged readings whose machine state is the same before and after them: a reading at a state change
    is a transition, not a spike (in the judged data and in the reference the limits are calibrated on)."""
    steady = regime >= 0
    steady[:, 1:] &= regime[:, 1:] == regime[:, :-1]
    steady[:, :-1] &= regime[:, :-1] == regime[:, 1:]
    return steady


def _resolution(values: np.ndarray) -> np.ndarray:
    """The step between a quantized sensor's readings (a flow meter reading whole litres), 0 for a sensor
    with a continuous scale. A quantized sensor has a MAD of 0 whenever it sits on one value, and z-scores of
    thousands on its next step; its readings carry the rounding error of one step (standard deviation
    step / sqrt(12)), the floor of its spread."""
    step = np.zeros(values.shape[0])
    for row in range(values.shape[0]):
        readings = values[row][np.isfinite(values[row])]
        if 1 < len(np.unique(readings)) <= max(50, values.shape[1] // 10):
            moves = np.abs(np.diff(readings))
            # The typical move, not the smallest: float noise can split one step in two (32 and 31.9998).
            step[row] = float(np.median(moves[moves > 0]))
    return step


def _scale_floor(values: np.ndarray) -> np.ndarray:
    return 1e-6 * (1.0 + np.nanmax(np.abs(np.nan_to_num(values)), axis=1, initial=0))


def _calibrated_spikes(
    residual, judged, spike_sigma, settings: DetectorSettings, calibrate=True
) -> np.ndarray:
    """The spike limit per sensor: the default, or wider where the sensor's own normal readings jump further
    (a quantized sensor toggling between steps): its 99.9th percentile on the reference times the margin,
    capped. A percentile, not the maximum: one fault in the reference must not widen the limit. Readings
    judged against themselves (no reference) are not calibrated: their faults would set their own limits."""
    if not calibrate:
        return np.full(residual.shape[0], settings.spike_z)
    jumps = np.abs(_local_residual(residual)) / spike_sigma[:, None]
    jumps = np.where(judged, jumps, np.nan)
    has = np.isfinite(jumps).sum(axis=1) >= 20
    high = np.zeros(jumps.shape[0])
    if has.any():
        high[has] = np.nanquantile(jumps[has], 0.999, axis=1)
    return np.clip(
        settings.calibration_margin * high, settings.spike_z, settings.calibration_cap * settings.spike_z
    )


def _calibrated_levels(
    z_reference: np.ndarray, settings: DetectorSettings, calibrate: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """(spread of the windowed mean, open limit) per sensor. A sensor whose own normal readings already
    deviate beyond the default limit (a short reference that does not show its whole normal variation) gets a
    wider limit: its largest reference deviation times the margin, capped."""
    window, tau = settings.level_window, settings.level_tau
    level_sigma = level_sigma_of(z_reference, window)
    if not calibrate:
        return level_sigma, np.full(z_reference.shape[0], settings.level_open)
    dev = deviations(z_reference, window, tau, level_sigma)
    largest = np.nan_to_num(np.nanmax(np.where(np.isfinite(dev), dev, 0.0), axis=1, initial=0.0))
    level_open = np.clip(
        settings.calibration_margin * largest,
        settings.level_open,
        settings.calibration_cap * settings.level_open,
    )
    return level_sigma, level_open


def score_grid(grid: SensorGrid, baseline: Baseline, settings: DetectorSettings | None = None) -> ScoredGrid:
    """Score every reading and collect the events of every univariate detector."""
    settings = settings or DetectorSettings()
    if list(grid.sensor_ids) != list(baseline.sensor_ids):
        raise ValueError("the grid and the baseline must list the same sensors in the same order")
    values = grid.values
    present = np.isfinite(values)
    z, widen, residual = standardize(grid, baseline, settings)

    spike_z = (_local_residual(residual) / baseline.spike_sigma[:, None]).astype(np.float32)
    spike_z[~(present & _steady(grid.regime))] = np.nan

    events: list[Event] = []
    flagged = np.zeros(values.shape, dtype=bool)
    events += _spikes(grid, baseline, spike_z, widen, settings, flagged)
    level_found, level_baseline = _level_changes(grid, baseline, z, widen, settings, flagged)
    events += level_found
    events += _stuck(grid, baseline, present, settings, flagged)
    events += _gaps(grid, present, settings, flagged)
    events.sort(key=lambda e: (e.start_us, e.sensor_id, e.kind))
    return ScoredGrid(z=z, spike_z=spike_z, flagged=flagged, events=events, level_baseline=level_baseline)


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
        hit = np.abs(spike_z) > baseline.spike_limit[:, None] * widen
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
                float(baseline.spike_limit[row] * widen[row, peak]),
                {
                    "detector": "reading minus the median of its 5-reading neighbourhood",
                    "value": float(grid.values[row, peak]),
                    "robust_sigma": float(baseline.spike_sigma[row]),
                    "threshold_z": float(baseline.spike_limit[row] * widen[row, peak]),
                },
            )
        )
    return events


def _level_changes(grid, baseline, z, widen, settings, flagged) -> tuple[list[Event], np.ndarray]:
    """Level shifts and drifts (``levels``), and the adaptive baseline each reading was judged against."""
    widen_row = np.nanmax(widen, axis=1) if widen.size else np.ones(z.shape[0])
    open_at = baseline.level_open * widen_row
    close_at = np.maximum(
        settings.level_close * widen_row, open_at * settings.level_close / settings.level_open
    )
    max_open = max(1, int(settings.level_max_open_s * 1e6 // grid.interval_us))
    found, judged_against = level_events(
        z,
        grid.regime < 0,
        baseline.level_sigma,
        open_at,
        close_at,
        settings.level_window,
        settings.level_tau,
        max_open,
    )
    merged = _merge_level_events(found, settings.merge_gap)
    events = []
    for change in merged:
        row, a, b = change.row, change.onset, change.stop
        if b - a < settings.min_level_readings:
            continue  # one or two readings: a spike (its own detector), not a level
        segment = z[row, a:b] - judged_against[row, a:b]
        finite = np.isfinite(segment)
        # How far the level moved in sigmas of single readings, not of the windowed mean: its size on a trend.
        moved = windowed_mean(segment[None, :], min(settings.level_window, b - a))[0]
        flagged[row, a:b] = True
        evidence = {
            "detector": "windowed mean of the robust z-score against an adaptive baseline, with hysteresis",
            "direction": "up" if change.sign > 0 else "down",
            "alarm_ts_us": int(grid.time_us(change.alarm)),
            "mean_z": float(np.nanmean(segment)) if finite.any() else None,
            "peak_sigmas": round(change.peak, 2),
            "peak_shift_z": round(float(np.nanmax(np.abs(moved))), 2) if np.isfinite(moved).any() else None,
            "open_limit": round(float(open_at[row]), 2),
            "baseline_level": {
                name: (None if not np.isfinite(c) else float(c))
                for name, c in zip(grid.regime_names, baseline.center[row], strict=False)
            },
            "robust_sigma": _sigma_in_regime(baseline, row, grid.regime[row, change.alarm]),
            "time_constant_s": _time_constant_s(baseline.alpha[row], grid.interval_us),
            "warm_up": bool(baseline.from_judged_data or (widen[row, change.alarm] > 1)),
            "rebaselined": change.rebaselined,
        }
        events.append(
            _event(
                grid,
                row,
                _shape_of(segment),
                a,
                b,
                change.peak,
                float(open_at[row]),
                evidence,
            )
        )
    return events, judged_against


def _merge_level_events(found: list[LevelEvent], gap: int) -> list[LevelEvent]:
    """Events of one sensor and direction that nearly touch are one deviation (it dipped under the close
    band for a reading or two)."""
    found = sorted(found, key=lambda c: (c.row, c.onset))
    merged: list[LevelEvent] = []
    for change in found:
        last = merged[-1] if merged else None
        if last and last.row == change.row and last.sign == change.sign and change.onset - last.stop <= gap:
            merged[-1] = LevelEvent(
                last.row,
                last.onset,
                last.alarm,
                max(last.stop, change.stop),
                last.sign,
                max(last.peak, change.peak),
                last.rebaselined or change.rebaselined,
            )
        else:
            merged.append(change)
    return merged


def _sigma_in_regime(baseline: Baseline, row: int, regime: int) -> float:
    return float(baseline.sigma[row, max(0, int(regime))])


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
    # A quantized sensor repeats its value whenever the quantity holds still: a repeat is no fault there.
    keep = (length >= needed) & (baseline.resolution[rows] == 0)
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


def _longest_identical_run(values: np.ndarray) -> np.ndarray:
    same = np.zeros(values.shape, dtype=bool)
    same[:, 1:] = values[:, 1:] == values[:, :-1]
    rows, first, stop = runs(same)
    longest = np.ones(values.shape[0], dtype=np.int64)
    np.maximum.at(longest, rows, stop - first + 1)
    return longest
