"""All detectors together: fit on reference readings, then score judged readings, machine by machine."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from orchestration.anomalies.detectors import (
    Baseline,
    DetectorSettings,
    Event,
    ScoredGrid,
    SensorGrid,
    fit_baseline,
    score_grid,
    standardize,
)
from orchestration.anomalies.levels import adaptive_baseline
from orchestration.anomalies.multivariate import (
    MachineModel,
    alarm_windows,
    contributions,
    fit_machine_model,
    score_machine,
)


@dataclass
class Detectors:
    baseline: Baseline
    machine_models: dict[str, tuple[list[int], MachineModel]]  # machine -> (sensor rows, PCA model)


def fit_detectors(
    reference: SensorGrid,
    judged: SensorGrid | None = None,
    from_judged_data: bool = False,
    settings: DetectorSettings | None = None,
) -> Detectors:
    """Fit on the reference; a (sensor, regime) the reference never saw is learnt from the ``judged`` readings
    themselves (robust level and spread) and judged with warm-up thresholds."""
    settings = settings or DetectorSettings()
    baseline = fit_baseline(reference, from_judged_data=from_judged_data, settings=settings)
    if judged is not None:
        unseen = ~np.isfinite(baseline.center)
        if unseen.any():
            own = fit_baseline(judged, min_history=10, settings=settings)
            fill = unseen & np.isfinite(own.center)
            baseline.center[fill] = own.center[fill]
            baseline.sigma[fill] = own.sigma[fill]
            baseline.warm_up = fill
    z_reference, _, _ = standardize(reference, baseline)
    # The machine model sees what the level detector judges: the residual off the slowly adapting baseline.
    z_reference = z_reference - adaptive_baseline(z_reference, settings.level_tau)
    models = {}
    for machine, rows in _sensors_by_machine(reference.machine_ids).items():
        if len(rows) >= 2:
            model = fit_machine_model(z_reference[rows])
            if model is not None:
                models[machine] = (rows, model)
    return Detectors(baseline, models)


def detect(grid: SensorGrid, detectors: Detectors, settings: DetectorSettings | None = None) -> ScoredGrid:
    """Univariate events of every sensor plus multivariate events of every machine with a model."""
    settings = settings or DetectorSettings()
    scored = score_grid(grid, detectors.baseline, settings)
    z = scored.z - scored.level_baseline
    for machine, (rows, model) in detectors.machine_models.items():
        t2, q = score_machine(model, z[rows])
        widen = settings.warm_up_factor if detectors.baseline.from_judged_data else 1.0
        for a, b, ratio in alarm_windows(model, t2, q, window=settings.level_window, widen=widen):
            column = np.nanmean(z[rows, a:b], axis=1)
            share = contributions(model, np.nan_to_num(column))
            # Named after the signal furthest off its own baseline; the Q shares say who broke the relation.
            top = rows[int(np.nanargmax(np.abs(column)))] if np.isfinite(column).any() else rows[0]
            scored.flagged[rows, a:b] = True
            scored.events.append(
                Event(
                    grid.sensor_ids[top],
                    machine,
                    "multivariate",
                    int(grid.time_us(a)),
                    int(grid.time_us(b)),
                    "critical" if ratio >= 3 else "warning",
                    round(ratio, 3),
                    {
                        "detector": "PCA Hotelling T2 and Q of the machine's standardized residuals",
                        "limit_ratio": ratio,
                        "t2_limit": model.t2_limit,
                        "q_limit": model.q_limit,
                        "q_share_by_sensor": {
                            grid.sensor_ids[r]: round(float(s), 3) for r, s in zip(rows, share, strict=True)
                        },
                    },
                )
            )
    scored.events.sort(key=lambda e: (e.start_us, e.sensor_id, e.kind))
    return scored


def _sensors_by_machine(machine_ids: list[str]) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = {}
    for row, machine in enumerate(machine_ids):
        groups.setdefault(machine, []).append(row)
    return groups
