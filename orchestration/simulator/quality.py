"""The quality model: what a step's checks measure, and the scrap and rework that follow from it.

Per batch and step, each characteristic's process mean drifts a little (batch_sigma) and a few samples are
drawn around it. Out-of-spec is what causes the losses: for a scrap characteristic the share of cells outside
the limits is scrapped; a step fault (rework probability) shows as a sample mean outside the limits of the
step's rework check, and the batch goes back. A drifted process (the planted bad shift: a warm room) fails
its rework check the same way, whenever the sample mean of a rework characteristic lies outside the limits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from orchestration.simulator.config import Characteristic, FactoryConfig
from orchestration.simulator.route import Batch, Station


@dataclass(frozen=True)
class Measurement:
    characteristic: str
    unit: str
    value: float
    lsl: float
    usl: float
    measured_s: float


@dataclass(frozen=True)
class Inspection:
    scrap_qty: int
    rework: bool
    measurements: list[Measurement]


def out_of_spec_share(mean: float, sigma: float, lsl: float, usl: float) -> float:
    """Share of a normal population outside [lsl, usl]."""
    below = 0.5 * math.erfc((mean - lsl) / (sigma * math.sqrt(2)))
    above = 0.5 * math.erfc((usl - mean) / (sigma * math.sqrt(2)))
    return below + above


class QualityModel:
    """The checks of a run: ``warm`` holds the planted bad shift's (start_s, end_s, delta_c) spans per room on
    the run's clock, for the days its steps can have started on."""

    def __init__(
        self,
        config: FactoryConfig,
        rng: np.random.Generator,
        warm: dict[str, list[tuple[float, float, float]]] | None = None,
    ):
        self._products = config.products
        self._rng = rng
        bad = config.effects.bad_shift
        self._drift_per_c = bad.drift_per_c if bad is not None else {}
        self._warm = warm or {}

    def _drift(self, station: Station, name: str, start_s: float) -> float:
        """Shift of the process mean of ``name`` at ``start_s``: room temperature excess times sensitivity."""
        if name not in self._drift_per_c:
            return 0.0
        for start, end, delta_c in self._warm.get(station.step.room_id, []):
            if start <= start_s < end:
                return self._drift_per_c[name] * delta_c
        return 0.0

    def _spec(self, name: str, char: Characteristic, product_id: str) -> Characteristic:
        overrides = self._products[product_id].spec_overrides.get(name)
        return char.model_copy(update=overrides) if overrides else char

    def inspect(
        self, batch: Batch, station: Station, produced: int, start_s: float, end_s: float
    ) -> Inspection:
        rng = self._rng
        step = station.step
        rework = step.rework
        fault = (
            rework.probability > 0
            and batch.reworks < rework.max_per_batch
            and rng.random() < rework.probability
        )
        checks = [name for name, char in step.characteristics.items() if char.on_out_of_spec == "rework"]
        failing_check = checks[rng.integers(len(checks))] if fault and checks else None
        # With checks, the decision is the measurement's: a fault whose samples happen to land inside the
        # limits goes unnoticed, a drifted process whose samples land outside is caught.
        rework_now = fault and not checks

        reject_share = step.scrap_rate
        measurements = []
        for name, char in step.characteristics.items():
            spec = self._spec(name, char, batch.product_id)
            mean = spec.target + (rng.normal(0.0, spec.batch_sigma) if spec.batch_sigma else 0.0)
            mean += self._drift(station, name, start_s)
            if name == failing_check:
                # The fault moves the process mean beyond a limit, so the sample mean fails the check.
                side = 1.0 if rng.random() < 0.5 else -1.0
                centre, half_width = (spec.usl + spec.lsl) / 2, (spec.usl - spec.lsl) / 2
                mean = centre + side * (half_width + rng.uniform(1.0, 2.5) * spec.sigma)
            if spec.on_out_of_spec == "scrap":
                reject_share += out_of_spec_share(mean, spec.sigma, spec.lsl, spec.usl)
            values = rng.normal(mean, spec.sigma, spec.samples)
            if (
                spec.on_out_of_spec == "rework"
                and rework.max_per_batch > batch.reworks
                and not spec.lsl <= float(values.mean()) <= spec.usl
            ):
                rework_now = True  # the check fails: the step goes back to rework
            # Samples are spread over the step: in-line gauges measure while the batch runs.
            times = start_s + (np.arange(spec.samples) + 0.5) / spec.samples * (end_s - start_s)
            measurements.extend(
                Measurement(name, spec.unit, float(v), spec.lsl, spec.usl, float(t))
                for v, t in zip(values, times, strict=True)
            )
        scrap = int(rng.binomial(produced, min(1.0, reject_share))) if produced else 0
        return Inspection(scrap_qty=scrap, rework=rework_now, measurements=measurements)
