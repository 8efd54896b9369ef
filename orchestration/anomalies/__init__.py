"""Anomaly detection on sensor readings and statistical process control on quality measurements.

Pure domain code (no Dagster): ``detectors`` scores a grid of readings against a robust baseline fitted on
earlier data, ``multivariate`` watches the sensors of one machine together, ``spc`` judges quality
characteristics with individuals / moving-range charts, ``evaluation`` scores detections against labels,
``plant`` applies it all to a factory day in the warehouse, and ``cli`` to any CSV export.
"""

from orchestration.anomalies.detectors import (
    Baseline,
    DetectorSettings,
    Event,
    SensorGrid,
    fit_baseline,
    score_grid,
)
from orchestration.anomalies.multivariate import MachineModel, fit_machine_model, score_machine
from orchestration.anomalies.spc import RULES, SpcPoint, cp_cpk, individuals_chart, judge_series

__all__ = [
    "RULES",
    "Baseline",
    "DetectorSettings",
    "Event",
    "MachineModel",
    "SensorGrid",
    "SpcPoint",
    "cp_cpk",
    "fit_baseline",
    "fit_machine_model",
    "individuals_chart",
    "judge_series",
    "score_grid",
    "score_machine",
]
