"""Conformance of a day's log to a discovered model: token-based replay fitness and precision.

The work is bounded: replay runs on the cases of the ``max_variants`` most frequent variants only (all of
them when the log has no more variants than that), and the result records what was used.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from orchestration.mining.discovery import DiscoveredModel
from orchestration.mining.event_log import (
    ACTIVITY,
    CASE,
    TIMESTAMP,
    rank_variants,
    trace_variants,
    usable_events,
)

DEFAULT_MAX_VARIANTS = 200


@dataclass(frozen=True)
class ConformanceResult:
    model_name: str
    cases: int  # in the log
    events: int
    variants: int
    variants_used: int  # replayed: the most frequent ones
    cases_used: int
    events_used: int
    log_fitness: float | None  # token-based replay fitness of the replayed log, in [0, 1]
    fitting_traces_share: float | None  # share of replayed traces that fit perfectly, in [0, 1]
    precision: float | None  # token-based (ETConformance) precision, in [0, 1]
    note: str


def _share(value: float | None) -> float | None:
    return None if value is None else float(value)


def check_conformance(
    event_log: pd.DataFrame,
    model: DiscoveredModel,
    max_variants: int = DEFAULT_MAX_VARIANTS,
) -> ConformanceResult:
    """Replay the log (its top ``max_variants`` variants) on the model; figures are None, with a reason in
    ``note``, when there is no case or no model instead of raising."""
    if max_variants < 1:
        raise ValueError(f"max_variants must be >= 1, got {max_variants}")
    log = usable_events(event_log)
    variants_of_case = trace_variants(log)
    ranked = rank_variants(variants_of_case)

    def unavailable(reason: str) -> ConformanceResult:
        return ConformanceResult(
            model_name=model.name,
            cases=len(variants_of_case),
            events=len(log),
            variants=len(ranked),
            variants_used=0,
            cases_used=0,
            events_used=0,
            log_fitness=None,
            fitting_traces_share=None,
            precision=None,
            note=reason,
        )

    if not variants_of_case:
        return unavailable("no complete case in the log: conformance not computed")
    if model.net is None:
        return unavailable(f"no model to replay on ({model.note})")

    kept = {variant for variant, _ in ranked[:max_variants]}
    if len(kept) < len(ranked):
        kept_cases = [case for case, variant in variants_of_case.items() if variant in kept]
        replayed = log[log[CASE].isin(kept_cases)]
    else:
        replayed = log
    cases_used = int(replayed[CASE].nunique())

    from pm4py.algo.evaluation.precision import algorithm as precision_evaluator
    from pm4py.algo.evaluation.replay_fitness import algorithm as replay_fitness
    from pm4py.util import constants

    parameters = {
        constants.PARAMETER_CONSTANT_ACTIVITY_KEY: ACTIVITY,
        constants.PARAMETER_CONSTANT_TIMESTAMP_KEY: TIMESTAMP,
        constants.PARAMETER_CONSTANT_CASEID_KEY: CASE,
        "show_progress_bar": False,
    }
    net, im, fm = model.net, model.initial_marking, model.final_marking
    # Same computations as pm4py.fitness_token_based_replay / pm4py.precision_token_based_replay, with the
    # progress bar off (it would otherwise flood the orchestrator's logs).
    fitness = replay_fitness.apply(
        replayed, net, im, fm, variant=replay_fitness.Variants.TOKEN_BASED, parameters=parameters
    )
    precision = precision_evaluator.apply(
        replayed, net, im, fm, variant=precision_evaluator.Variants.ETCONFORMANCE_TOKEN, parameters=parameters
    )
    fitting = fitness.get("percentage_of_fitting_traces")
    if len(kept) < len(ranked):
        scope = f"top {len(kept)} of {len(ranked)} variants ({cases_used} of {len(variants_of_case)} cases)"
    else:
        scope = f"all {len(ranked)} variants ({cases_used} cases)"
    return ConformanceResult(
        model_name=model.name,
        cases=len(variants_of_case),
        events=len(log),
        variants=len(ranked),
        variants_used=len(kept),
        cases_used=cases_used,
        events_used=len(replayed),
        log_fitness=_share(fitness.get("log_fitness")),
        fitting_traces_share=None if fitting is None else float(fitting) / 100.0,
        precision=_share(precision),
        note=f"token-based replay on {scope}",
    )
