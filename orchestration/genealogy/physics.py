"""Quality per object: slurry viscosity, coating per coil segment, and the cell's grading from its upstream.

Values are drawn from random streams keyed by the batch (its release day and case id), not by the day being
expanded, so a coil's segments come out the same in every day that sees the coil. A cell's capacity and
internal resistance follow the areal loading of the two segments it was cut from: the limiting electrode
sets the capacity, and a thin coating raises the resistance, in exactly the cells made from it.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from orchestration.genealogy.model import COILS_PER_ELECTRODE, ELECTRODES, SEGMENTS_PER_COIL
from orchestration.simulator.config import Characteristic, FactoryConfig
from orchestration.simulator.streams import stream

RESISTANCE_EXPONENT = 1.5  # internal resistance ~ loading ** -1.5: less active material, higher resistance


def batch_day(case_id: str) -> date:
    """The release day in a batch id such as "B20261110-0003"."""
    stamp = case_id[1:9]
    return date(int(stamp[:4]), int(stamp[4:6]), int(stamp[6:8]))


def spec(config: FactoryConfig, product_id: str, name: str) -> Characteristic:
    """A characteristic as the product's grading targets set it (spec_overrides over the route step)."""
    char = next(step.characteristics[name] for step in config.route.values() if name in step.characteristics)
    overrides = config.products[product_id].spec_overrides.get(name)
    return char.model_copy(update=overrides) if overrides else char


def slurry_viscosity(config: FactoryConfig, case_id: str) -> dict[str, float]:
    """Viscosity (mPa.s) of the anode and cathode slurry of a batch."""
    char = spec(config, _any_product(config), "slurry_viscosity")
    rng = stream(config.seed, batch_day(case_id), f"genealogy:slurry:{case_id}")
    return {
        e: float(char.target + rng.normal(0.0, char.batch_sigma) + rng.normal(0.0, char.sigma))
        for e in ELECTRODES
    }


def coating(config: FactoryConfig, case_id: str) -> dict[str, np.ndarray]:
    """Coating thickness (um) and areal loading (mg/cm2) per electrode, coil and segment of a batch.

    Arrays are shaped (electrode, coil, segment), electrodes in ELECTRODES order. Each coil drifts a little
    (batch_sigma), segments scatter around it; loading follows thickness. The planted bad segment, if any,
    is shifted here, so everything downstream of it inherits the shift.
    """
    product = _any_product(config)
    thickness_spec, loading_spec = (
        spec(config, product, "coating_thickness"),
        spec(config, product, "areal_loading"),
    )
    rng = stream(config.seed, batch_day(case_id), f"genealogy:coating:{case_id}")
    shape = (len(ELECTRODES), COILS_PER_ELECTRODE, SEGMENTS_PER_COIL)
    coil_mean = thickness_spec.target + rng.normal(0.0, thickness_spec.batch_sigma, shape[:2])
    thickness = coil_mean[..., None] + rng.normal(0.0, thickness_spec.sigma / 2, shape)
    bad = config.genealogy.bad_segment
    if bad is not None and bad.coil.startswith(case_id + "-"):
        coils = [f"{case_id}-{e}{c + 1}" for e in ELECTRODES for c in range(COILS_PER_ELECTRODE)]
        if bad.coil not in coils or not bad.segment < SEGMENTS_PER_COIL:
            raise ValueError(
                f"genealogy.bad_segment: {bad.coil} segment {bad.segment} is not one of the coils {coils} "
                f"and segments 0..{SEGMENTS_PER_COIL - 1} of batch {case_id}"
            )
        where = divmod(coils.index(bad.coil), COILS_PER_ELECTRODE)
        thickness[where[0], where[1], bad.segment] += bad.thickness_shift_um
    loading = loading_spec.target * thickness / thickness_spec.target
    loading += rng.normal(0.0, loading_spec.sigma / 4, shape)
    return {
        "thickness_um": thickness,
        "loading_mg_cm2": loading,
        "loading_target": np.float64(loading_spec.target),
    }


def grade_cells(
    config: FactoryConfig,
    case_id: str,
    product_id: str,
    anode_loading: np.ndarray,
    cathode_loading: np.ndarray,
) -> dict[str, np.ndarray]:
    """Capacity (Ah), internal resistance (mOhm), OCV (V) and self-discharge (mV/day) of a batch's cells.

    ``*_loading`` are relative areal loadings (1.0 on target) of the segments each cell was cut from.
    """
    rng = stream(config.seed, batch_day(case_id), f"genealogy:grading:{case_id}")
    n = len(anode_loading)
    capacity, resistance = (
        spec(config, product_id, "capacity"),
        spec(config, product_id, "internal_resistance"),
    )
    ocv, self_discharge = spec(config, product_id, "ocv"), spec(config, product_id, "self_discharge_k")
    limiting = np.minimum(anode_loading, cathode_loading)
    batch_capacity = capacity.target + rng.normal(0.0, capacity.batch_sigma)
    batch_resistance = resistance.target + rng.normal(0.0, resistance.batch_sigma)
    return {
        "capacity_ah": batch_capacity * limiting + rng.normal(0.0, capacity.sigma * 0.6, n),
        "internal_resistance_mohm": batch_resistance * limiting**-RESISTANCE_EXPONENT
        + rng.normal(0.0, resistance.sigma * 0.6, n),
        "ocv_v": ocv.target + rng.normal(0.0, ocv.batch_sigma) + rng.normal(0.0, ocv.sigma, n),
        "self_discharge_mv_day": np.maximum(
            0.0, self_discharge.target + rng.normal(0.0, self_discharge.sigma, n)
        ),
    }


def grading_badness(config: FactoryConfig, product_id: str, graded: dict[str, np.ndarray]) -> np.ndarray:
    """How far each cell lies from its targets, in sigmas: the grader scraps the worst first."""
    capacity, resistance = (
        spec(config, product_id, "capacity"),
        spec(config, product_id, "internal_resistance"),
    )
    return np.maximum(
        np.abs(graded["capacity_ah"] - capacity.target) / capacity.sigma,
        np.abs(graded["internal_resistance_mohm"] - resistance.target) / resistance.sigma,
    )


def _any_product(config: FactoryConfig) -> str:
    # Electrode characteristics are the same for every product (spec_overrides only touch grading targets).
    return next(iter(config.products))
