"""Multivariate detection for the sensors of one machine: PCA Hotelling T² and Q (squared prediction error).

Many faults show only in the relation between signals (the current rises but the flow does not). The model
is a PCA of the sensors' standardized residuals (``detectors.score_grid``'s z: machine-state levels and lags
already out) over the baseline readings. T2 measures how far a reading moves along the usual directions
of variation, Q how far it leaves them. Limits are the baseline's own empirical quantiles, so they hold
whatever the distribution.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from orchestration.anomalies.levels import windowed_mean


@dataclass
class MachineModel:
    mean: np.ndarray  # (sensors,)
    components: np.ndarray  # (sensors, kept)
    variances: np.ndarray  # (kept,)
    t2_limit: float
    q_limit: float
    baseline_readings: int


def fit_machine_model(
    z_reference: np.ndarray, explained: float = 0.9, quantile: float = 0.999, min_readings: int = 50
) -> MachineModel | None:
    """PCA of the reference residuals (sensors, times); None when too few complete readings to fit one."""
    complete = np.isfinite(z_reference).all(axis=0)
    x = z_reference[:, complete].T.astype(np.float64)
    if x.shape[0] < max(min_readings, 5 * x.shape[1]) or x.shape[1] < 2:
        return None
    mean = x.mean(axis=0)
    centered = x - mean
    covariance = np.cov(centered, rowvar=False)
    variances, vectors = np.linalg.eigh(covariance)
    order = np.argsort(variances)[::-1]
    variances, vectors = np.clip(variances[order], 1e-12, None), vectors[:, order]
    share = np.cumsum(variances) / variances.sum()
    kept = int(min(np.searchsorted(share, explained) + 1, x.shape[1] - 1))
    model = MachineModel(mean, vectors[:, :kept], variances[:kept], np.inf, np.inf, x.shape[0])
    t2, q = _statistics(model, x)
    model.t2_limit = float(np.quantile(t2, quantile))
    model.q_limit = float(np.quantile(q, quantile))
    return model


def score_machine(model: MachineModel, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """T² and Q of every reading (sensors, times); NaN where a sensor's residual is missing."""
    complete = np.isfinite(z).all(axis=0)
    t2 = np.full(z.shape[1], np.nan)
    q = np.full(z.shape[1], np.nan)
    if complete.any():
        t2[complete], q[complete] = _statistics(model, z[:, complete].T.astype(np.float64))
    return t2, q


def alarm_windows(
    model: MachineModel, t2: np.ndarray, q: np.ndarray, window: int = 10, close_share: float = 0.5, widen=1.0
) -> list[tuple[int, int, float]]:
    """(first, stop, score) of the windows in which the machine left its usual relations.

    The statistic is the larger ratio of T² or Q to its limit, averaged over the last ``window`` readings (a
    single reading beyond a 99.9 % limit is expected once in a thousand). A window opens when that mean passes
    the limit and closes when it falls under ``close_share`` of it (hysteresis: the alarm clears when
    the fault ends, and does not chatter around the limit); it starts at the most likely change point in the
    window that raised it. The score is the largest single-reading ratio inside.
    """
    with np.errstate(invalid="ignore"):
        ratio = np.fmax(t2 / model.t2_limit, q / model.q_limit)
    smoothed = windowed_mean(ratio[None, :], window)[0]
    high = np.nan_to_num(smoothed, nan=0.0) > widen
    calm = np.nan_to_num(smoothed, nan=np.inf) < close_share * widen
    windows = []
    at, n = 0, len(ratio)
    while at < n:
        over = np.nonzero(high[at:])[0]
        if not len(over):
            break
        alarm = at + int(over[0])
        before = np.nonzero(calm[at:alarm])[0]
        calm_end = at + int(before[-1]) + 1 if len(before) else at
        # The window's mean left the calm band at calm_end; the fault began where single readings did.
        beyond = np.nonzero(
            np.nan_to_num(ratio[max(at, calm_end - window + 1) : alarm + 1], nan=0.0) > widen
        )[0]
        first = max(at, calm_end - window + 1) + int(beyond[0]) if len(beyond) else calm_end
        after = np.nonzero(calm[alarm:])[0]
        stop = alarm + int(after[0]) if len(after) else n
        windows.append((int(first), int(stop), float(np.nanmax(ratio[first:stop]))))
        at = stop
    return windows


def contributions(model: MachineModel, z_column: np.ndarray) -> np.ndarray:
    """Each sensor's share of the reading's Q: which signal broke the usual relation."""
    centered = z_column - model.mean
    residual = centered - model.components @ (model.components.T @ centered)
    total = float(residual @ residual) or 1.0
    return residual**2 / total


def _statistics(model: MachineModel, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    centered = x - model.mean
    scores = centered @ model.components
    t2 = np.sum(scores**2 / model.variances, axis=1)
    residual = centered - scores @ model.components.T
    q = np.sum(residual**2, axis=1)
    return t2, q
