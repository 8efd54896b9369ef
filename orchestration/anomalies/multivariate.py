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

from orchestration.anomalies.runs import merge_close, runs


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
    model: MachineModel, t2: np.ndarray, q: np.ndarray, min_readings: int = 3, merge_gap: int = 2, widen=1.0
) -> list[tuple[int, int, float]]:
    """(first, stop, score) of runs of at least ``min_readings`` readings beyond the T² or Q limit.

    The score is the largest ratio of a statistic to its limit in the window.
    """
    with np.errstate(invalid="ignore"):
        ratio = np.fmax(t2 / model.t2_limit, q / model.q_limit)
        beyond = ratio > widen
    _, first, stop = merge_close(*runs(beyond[None, :]), max_gap=merge_gap)
    windows = []
    for a, b in zip(first, stop, strict=True):
        if np.sum(beyond[a:b]) >= min_readings:
            windows.append((int(a), int(b), float(np.nanmax(ratio[a:b]))))
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
