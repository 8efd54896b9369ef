"""Planted route deviations: batches that leave the designed route once (skip, repeat or swap a step).

A deviation is a detour: which station a batch goes to after passing a given station, used once. The plan is
a pure function of the scenario and the release day (its own random stream), so every day of a run and the
truth agree; scenarios without ``effects.route_deviations`` draw nothing and stay exactly as they were.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from orchestration.simulator.config import FactoryConfig
from orchestration.simulator.streams import stream


@dataclass(frozen=True)
class RouteDeviation:
    case_id: str
    kind: str  # skip | repeat | swap
    step: str  # the step skipped or repeated, or the first of the two swapped
    other_step: str | None  # swap: the step done before ``step``
    detour: tuple[tuple[int, int], ...]  # (station passed, station next), each used once

    @property
    def description(self) -> str:
        if self.kind == "swap":
            return f"{self.case_id} does {self.other_step} before {self.step}"
        return f"{self.case_id} {'skips' if self.kind == 'skip' else 'repeats'} {self.step}"


def deviating_steps(config: FactoryConfig) -> list[int]:
    """Route indices that may deviate: configured, or inner steps outside every rework loop."""
    order = list(config.route)
    spec = config.effects.route_deviations
    if spec is not None and spec.steps:
        return sorted(order.index(name) for name in spec.steps)
    in_loops: set[int] = set()
    for index, step in enumerate(config.route.values()):
        reworks = step.rework.probability > 0 or any(
            c.on_out_of_spec == "rework" for c in step.characteristics.values()
        )
        if reworks:
            in_loops.update(range(order.index(step.rework.to) if step.rework.to else index, index + 1))
    return [i for i in range(1, len(order) - 1) if i not in in_loops]


def plan_route_deviations(config: FactoryConfig, day: date, case_ids: list[str]) -> dict[str, RouteDeviation]:
    """Case id -> its deviation, for the batches released on ``day`` (in release order)."""
    spec = config.effects.route_deviations
    if spec is None or not case_ids:
        return {}
    order = list(config.route)
    candidates = deviating_steps(config)
    swappable = [i for i in candidates if i + 1 in candidates]
    rng = stream(config.seed, day, "route_deviations")
    chosen = rng.random(len(case_ids)) < spec.share
    kinds = rng.choice(spec.kinds, size=len(case_ids))
    picks = rng.random(len(case_ids))
    plan: dict[str, RouteDeviation] = {}
    for case_id, deviates, kind, pick in zip(case_ids, chosen, kinds, picks, strict=True):
        kind = str(kind)
        pool = swappable if kind == "swap" else candidates
        if not deviates or not pool:
            continue
        k = pool[int(pick * len(pool))]
        if kind == "skip":
            detour, other = ((k - 1, k + 1),), None
        elif kind == "repeat":
            detour, other = ((k, k),), None
        else:  # swap k and k+1: ... k-1, k+1, k, k+2 ...
            detour, other = ((k - 1, k + 1), (k + 1, k), (k, k + 2)), order[k + 1]
        plan[case_id] = RouteDeviation(case_id, kind, order[k], other, detour)
    return plan
