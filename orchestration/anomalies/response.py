"""A sensor's expected reading: the level of its machine's state, followed with a first-order lag.

A dryer's temperature does not jump when the dryer stops: it approaches the new level exponentially, with the
sensor's time constant. Judging it against the new level at once calls every state change a level shift;
waiting a fixed time blinds the detector for most of a busy day. So the expected reading is the per-state
level passed through the lag ``e[t] = e[t-1] + alpha * (level[t] - e[t-1])``, and both the levels and alpha
are learnt from the reference readings: the time constant is the candidate whose residuals are smallest.

Excluded context (regime -1: changeovers, planned maintenance) is not modelled: there the expectation follows
the readings, and after it the lag starts again from the last reading, which is exact for a linear lag.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

TIME_CONSTANTS_S = (0, 30, 60, 120, 300, 600, 900, 1200, 1800, 2700, 3600, 5400)
MAD_TO_SIGMA = 1.4826


def alpha_of(time_constant_s: float, interval_s: float) -> float:
    return 1.0 if time_constant_s <= 0 else float(-np.expm1(-interval_s / time_constant_s))


def expected(levels: np.ndarray, regime: np.ndarray, values: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Expected reading of every sensor (sensors, times) given its per-regime ``levels`` (sensors, regimes).

    NaN where the level of the regime is unknown or the regime is excluded and nothing was read."""
    target = _targets(levels, regime)
    out = target.copy()
    for a in np.unique(alpha[alpha < 1]):
        rows = np.nonzero(alpha == a)[0]
        out[rows] = _lagged(target[rows], values[rows], regime[rows] < 0, float(a))
    return out


def _targets(levels: np.ndarray, regime: np.ndarray) -> np.ndarray:
    target = np.take_along_axis(levels, np.clip(regime, 0, None).astype(np.intp), axis=1)
    return np.where(regime >= 0, target, np.nan)


def changes_regime(regime: np.ndarray) -> np.ndarray:
    """(sensors,) whether a sensor's regime ever changes in the window: only then is a lag identifiable."""
    judged = np.where(regime >= 0, regime, -1)
    return (np.diff(judged, axis=1) != 0).any(axis=1)


def fit_response(
    values: np.ndarray, regime: np.ndarray, n_regimes: int, interval_s: float, min_history: int = 20
) -> tuple[np.ndarray, np.ndarray]:
    """(levels (sensors, regimes), alpha (sensors,)) that best explain the reference readings.

    Without a lag a regime's level is its readings' median. For a sensor whose regime changes, each candidate
    time constant gets levels by a least-squares fit of the lagged regime indicators (refitted once without
    readings beyond 4 robust sigmas: planted faults and spikes); the candidate with the smallest robust
    residual spread wins."""
    n_sensors = values.shape[0]
    levels = np.full((n_sensors, n_regimes), np.nan)
    alpha = np.ones(n_sensors)
    judged = np.isfinite(values) & (regime >= 0)
    for r in range(n_regimes):
        picked = np.where(judged & (regime == r), values, np.nan)
        enough = np.isfinite(picked).sum(axis=1) >= min_history
        if enough.any():
            levels[enough, r] = np.nanmedian(picked[enough], axis=1)
    rows = np.nonzero(changes_regime(regime))[0]
    if not len(rows):
        return levels, alpha
    # Every changing sensor at once, candidate by candidate (one filter over all of them per time constant).
    x, states = values[rows], regime[rows]
    best_spread = _row_spreads(x - expected(levels[rows], states, x, np.ones(len(rows))))
    best_alpha, best_levels = np.ones(len(rows)), levels[rows].copy()
    restarts = _Restarts(states < 0, np.isfinite(x))  # the same for every candidate
    for tau in TIME_CONSTANTS_S[1:]:
        a = alpha_of(tau, interval_s)
        if a > 0.999:
            continue
        fitted = _fit_levels(x, states, n_regimes, a, min_history, restarts)
        ok = np.isfinite(fitted).any(axis=1)
        if not ok.any():
            continue
        spread = _row_spreads(x - _lagged(_targets(fitted, states), x, states < 0, a, restarts))
        spread[~ok] = np.inf  # no fit at this lag (inside excluded spans its residual would read 0)
        better = spread < 0.95 * best_spread  # a lag must explain clearly more than none (or a shorter one)
        best_spread = np.where(better, spread, best_spread)
        best_alpha[better], best_levels[better] = a, fitted[better]
    alpha[rows], levels[rows] = best_alpha, best_levels
    return levels, alpha


def _fit_levels(
    x: np.ndarray, regime: np.ndarray, n_regimes: int, a: float, min_history: int, restarts: _Restarts
) -> np.ndarray:
    """Per-regime levels under lag ``a`` of each sensor (rows), NaN where no fit: the lagged reading is
    linear in the levels, so least squares per sensor, on columns lagged for all sensors at once."""
    n_rows, n_times = x.shape
    excluded = regime < 0
    present = np.isfinite(x)
    # Column (row, r): the expected reading if level r were 1 and every other 0 (lag and restarts included);
    # the restarts must see where the sensor read.
    silent = np.where(present, 0.0, np.nan)
    columns = np.stack(
        [_lagged((regime == r).astype(np.float64), silent, excluded, a, restarts) for r in range(n_regimes)],
        axis=1,
    )
    offsets = _lagged(np.zeros((n_rows, n_times)), x, excluded, a, restarts)  # restarts from the readings
    usable = present & ~_anchored(excluded, present) & np.isfinite(offsets)
    out = np.full((n_rows, n_regimes), np.nan)
    for row in range(n_rows):
        fitted = _fit_row(
            x[row], regime[row], columns[row], offsets[row], usable[row], n_regimes, a, min_history
        )
        if fitted is not None:
            out[row] = fitted
    return out


def _fit_row(x, regime, columns, offset, use, n_regimes: int, a: float, min_history: int):
    present, use = np.isfinite(x), use.copy()
    seen = [r for r in range(n_regimes) if np.sum((regime == r) & present) >= min_history]
    if not seen:
        return None
    design = columns[seen].T
    for _ in range(2):
        if use.sum() < len(seen) + min_history:
            return None
        solution, *_ = np.linalg.lstsq(design[use], x[use] - offset[use], rcond=None)
        residual = x - offset - design @ solution
        sigma = _spread(np.where(use, residual, np.nan))
        use &= np.abs(residual) <= 4 * max(sigma, 1e-12)
    # A fast lag (more than half the way in one reading) settles within a visit, so its level must lie near
    # the regime's readings; one far beyond them all is the fit compensating for something else (readings
    # taken across a state change) and calls every later visit a fault: no fit at this lag. A slow lag may
    # rightly extrapolate: its brief visits never get near their level.
    if a < 0.5:
        out = np.full(n_regimes, np.nan)
        out[seen] = solution
        return out
    span = np.nanquantile(x[present], 0.98) - np.nanquantile(x[present], 0.02)
    for r, level in zip(seen, solution, strict=True):
        own = x[(regime == r) & present]
        low, high = np.quantile(own, [0.02, 0.98])
        margin = max(3 * sigma, 0.1 * span)
        if not low - margin <= level <= high + margin:
            return None
    out = np.full(n_regimes, np.nan)
    out[seen] = solution
    return out


def _lagged(
    target: np.ndarray, values: np.ndarray, excluded: np.ndarray, a: float, restarts: _Restarts | None = None
) -> np.ndarray:
    """First-order lag of ``target`` (rows of one alpha), restarted from the readings after excluded spans.

    The lag starts settled on the first target. Inside an excluded span the expectation is the reading; after
    it, e[t] = L[t] + (1 - a)^(t - t0) * (x[t0] - L[t0]) with L the unrestarted lag and t0 the span's last
    reading: the exact solution of the lag started from x[t0]. ``restarts``: where the rows restart, when
    known (the fit lags many targets over the same readings)."""
    filled = _ffill(target)
    first = np.where(np.isfinite(filled[:, :1]), filled[:, :1], 0.0)
    filled = np.where(np.isfinite(filled), filled, first)
    lag, _ = lfilter([a], [1.0, a - 1.0], filled, axis=1, zi=(1.0 - a) * first)
    out = np.where(np.isfinite(target), lag, np.nan)
    restarts = restarts or _Restarts(excluded, np.isfinite(values))
    rows = restarts.rows
    if len(rows):  # only rows with an excluded span restart
        reading = np.where(restarts.excluded, values[rows], np.nan)
        start = np.take_along_axis(reading, restarts.t0, axis=1)
        gap = np.take_along_axis(lag[rows], restarts.t0, axis=1)
        restarted = lag[rows] + np.where(
            restarts.has & np.isfinite(start), restarts.decay(a) * (start - gap), 0.0
        )
        out[rows] = np.where(
            restarts.excluded | np.isfinite(target[rows]),
            np.where(restarts.excluded, reading, restarted),
            np.nan,
        )
    return out


class _Restarts:
    """Where the lag of each row restarts: the rows with excluded spans, those spans (anchored to a reading),
    and for every instant the last excluded one before it (t0)."""

    def __init__(self, excluded: np.ndarray, present: np.ndarray):
        index = np.arange(excluded.shape[1])
        self.rows = np.nonzero(excluded.any(axis=1))[0]
        self.excluded = _anchored(excluded[self.rows], present[self.rows])
        last_excluded = np.maximum.accumulate(np.where(self.excluded, index, -1), axis=1)
        self.has = last_excluded >= 0
        self.t0 = np.clip(last_excluded, 0, None)
        self._steps = (index[None, :] - self.t0)[self.has]
        self._decay: tuple[float, np.ndarray] | None = None

    def decay(self, a: float) -> np.ndarray:
        """(1 - a)^(t - t0) after a span, 0 before any (a power is dear: one per lag, kept for the next)."""
        if self._decay is None or self._decay[0] != a:
            decay = np.zeros(self.t0.shape)
            decay[self.has] = (1.0 - a) ** self._steps
            self._decay = (a, decay)
        return self._decay[1]


def _anchored(excluded: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Excluded spans extended to the first reading after them when their last readings are missing: where the
    sensor was silent through the end of a changeover nothing says where its lag starts, until it reads."""
    index = np.arange(excluded.shape[1])
    last_excluded = np.maximum.accumulate(np.where(excluded, index, -1), axis=1)
    last_read = np.maximum.accumulate(np.where(present, index, -1), axis=1)
    unknown = (last_excluded >= 0) & (last_read < last_excluded)  # no reading since the span's last instant
    first_after = np.zeros_like(unknown)
    first_after[:, 1:] = present[:, 1:] & unknown[:, :-1]
    return excluded | unknown | first_after


def _ffill(a: np.ndarray) -> np.ndarray:
    present = np.isfinite(a)
    index = np.where(present, np.arange(a.shape[1]), 0)
    np.maximum.accumulate(index, axis=1, out=index)
    filled = np.take_along_axis(a, index, axis=1)
    return np.where(np.take_along_axis(present, index, axis=1), filled, np.nan)


def _row_spreads(residuals: np.ndarray) -> np.ndarray:
    return np.array([_spread(row) for row in residuals])


def _spread(residual: np.ndarray) -> float:
    r = residual[np.isfinite(residual)]
    if len(r) == 0:
        return np.inf
    return float(MAD_TO_SIGMA * np.median(np.abs(r - np.median(r))))
