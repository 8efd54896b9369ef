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
    target = np.take_along_axis(levels, np.clip(regime, 0, None).astype(np.intp), axis=1)
    target = np.where(regime >= 0, target, np.nan)
    out = target.copy()
    for a in np.unique(alpha[alpha < 1]):
        rows = np.nonzero(alpha == a)[0]
        out[rows] = _lagged(target[rows], values[rows], regime[rows] < 0, float(a))
    return out


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
    for row in np.nonzero(changes_regime(regime))[0]:
        best = (
            _spread(
                values[row]
                - expected(levels[row : row + 1], regime[row : row + 1], values[row : row + 1], np.ones(1))[0]
            ),
            1.0,
            levels[row],
        )
        for tau in TIME_CONSTANTS_S[1:]:
            a = alpha_of(tau, interval_s)
            if a > 0.999:
                continue
            fitted = _fit_levels(values[row], regime[row], n_regimes, a, min_history)
            if fitted is None:
                continue
            spread = _spread(
                values[row]
                - expected(fitted[None], regime[row : row + 1], values[row : row + 1], np.array([a]))[0]
            )
            if spread < 0.95 * best[0]:  # a lag must explain clearly more than none (or a shorter one)
                best = (spread, a, fitted)
        alpha[row], levels[row] = best[1], best[2]
    return levels, alpha


def _fit_levels(x: np.ndarray, regime: np.ndarray, n_regimes: int, a: float, min_history: int):
    """Per-regime levels under lag ``a``: the lagged reading is linear in the levels, so least squares."""
    excluded = regime < 0
    present = np.isfinite(x)
    seen = [r for r in range(n_regimes) if np.sum((regime == r) & present) >= min_history]
    if not seen:
        return None
    # Column r: the expected reading if level r were 1 and every other 0 (lag and restarts included).
    silent = np.where(present, 0.0, np.nan)[None]  # the restarts must see where the sensor read
    columns = [_lagged((regime == r).astype(np.float64)[None], silent, excluded[None], a)[0] for r in seen]
    offset = _lagged(np.zeros((1, len(x))), x[None], excluded[None], a)[0]  # restarts from the readings
    design = np.stack(columns, axis=1)
    use = present & ~_anchored(excluded[None], present[None])[0] & np.isfinite(offset)
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


def _lagged(target: np.ndarray, values: np.ndarray, excluded: np.ndarray, a: float) -> np.ndarray:
    """First-order lag of ``target`` (rows of one alpha), restarted from the readings after excluded spans.

    The lag starts settled on the first target. Inside an excluded span the expectation is the reading; after
    it, e[t] = L[t] + (1 - a)^(t - t0) * (x[t0] - L[t0]) with L the unrestarted lag and t0 the span's last
    reading: the exact solution of the lag started from x[t0]."""
    n_rows, n_times = target.shape
    filled = _ffill(target)
    first = np.where(np.isfinite(filled[:, :1]), filled[:, :1], 0.0)
    filled = np.where(np.isfinite(filled), filled, first)
    lag, _ = lfilter([a], [1.0, a - 1.0], filled, axis=1, zi=(1.0 - a) * first)
    if not excluded.any():
        return np.where(np.isfinite(target), lag, np.nan)
    index = np.arange(n_times)
    excluded = _anchored(excluded, np.isfinite(values))
    reading = np.where(excluded, values, np.nan)
    last_excluded = np.maximum.accumulate(np.where(excluded, index, -1), axis=1)
    has = last_excluded >= 0
    t0 = np.clip(last_excluded, 0, None)
    start = np.take_along_axis(reading, t0, axis=1)
    gap = np.take_along_axis(lag, t0, axis=1)
    decay = (1.0 - a) ** (index[None, :] - t0)
    restarted = lag + np.where(has & np.isfinite(start), decay * (start - gap), 0.0)
    out = np.where(excluded, reading, restarted)
    return np.where(excluded | np.isfinite(target), out, np.nan)


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


def _spread(residual: np.ndarray) -> float:
    r = residual[np.isfinite(residual)]
    if len(r) == 0:
        return np.inf
    return float(MAD_TO_SIGMA * np.median(np.abs(r - np.median(r))))
