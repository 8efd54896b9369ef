"""How well a model and a log agree: the four quality dimensions users know from pm4py, and the deviations.

Computed on the variant log (each variant once, weighted by its cases), which gives pm4py's figures for the
whole log: token-based replay fitness, ETConformance precision and generalization on the ``max_variants``
most frequent variants; alignments (the optimal explanation of each deviation) on the ``align_variants``
most frequent ones within ``align_time_s``; simplicity (arc degree) from the net alone. What was covered is
recorded with the figures.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from orchestration.mining.discovery import DiscoveredModel
from orchestration.mining.event_log import ACTIVITY, variant_log

DEFAULT_MAX_VARIANTS = 200
DEFAULT_ALIGN_VARIANTS = 50
DEFAULT_ALIGN_TIME_S = 10.0
SKIPPED, EXTRA, WRONG_ORDER = "skipped_step", "extra_step", "wrong_order"


@dataclass(frozen=True)
class VariantConformance:
    variant: tuple[str, ...]
    cases: int
    token_fitness: float
    fits: bool  # token replay fits without a missing or remaining token
    alignment_fitness: float | None  # None: not aligned (beyond the top variants, or out of time)
    deviations: tuple[tuple[str, str], ...]  # (kind, activity) from the alignment


@dataclass(frozen=True)
class ModelQuality:
    model_name: str
    cases: int
    variants: int
    variants_replayed: int
    cases_replayed: int
    token_fitness: float | None
    fitting_cases_share: float | None
    precision: float | None
    generalization: float | None
    simplicity: float | None
    variants_aligned: int
    cases_aligned: int
    alignment_fitness: float | None
    note: str
    by_variant: list[VariantConformance] = field(default_factory=list, repr=False)


def classify_moves(alignment) -> tuple[tuple[str, str], ...]:
    """Deviations of one alignment: a step only in the log is extra, one only in the model was skipped, and
    one that is both (done, but elsewhere) is in the wrong order."""
    extra = [log for log, model in alignment if model == ">>" and log != ">>"]
    skipped = [model for log, model in alignment if log == ">>" and model is not None]
    moved = set(extra) & set(skipped)
    found = {(WRONG_ORDER, a) for a in moved}
    found |= {(EXTRA, a) for a in extra if a not in moved}
    found |= {(SKIPPED, a) for a in skipped if a not in moved}
    return tuple(sorted(found))


def evaluate_model(
    variants: list[tuple[tuple[str, ...], int]],
    model: DiscoveredModel,
    max_variants: int | None = DEFAULT_MAX_VARIANTS,
    align_variants: int = DEFAULT_ALIGN_VARIANTS,
    align_time_s: float = DEFAULT_ALIGN_TIME_S,
    precision: bool = True,
) -> ModelQuality:
    """Check ``variants`` (most frequent first, with their cases) against ``model``; ``precision=False``
    skips ETConformance, the costliest figure on logs of long cases; ``max_variants`` None replays all."""
    if max_variants is not None and max_variants < 1:
        raise ValueError(f"max_variants must be >= 1, got {max_variants}")
    cases = sum(count for _, count in variants)
    empty = ModelQuality(model.name, cases, len(variants), 0, 0, None, None, None, None, None, 0, 0, None, "")
    if not variants:
        return _with_note(empty, "no complete case in the log: conformance not computed")
    if model.net is None:
        return _with_note(empty, f"no model to replay on ({model.note})")

    from pm4py.algo.conformance.alignments.petri_net import algorithm as alignments
    from pm4py.algo.conformance.tokenreplay import algorithm as token_replay
    from pm4py.algo.evaluation.generalization.variants import token_based as token_generalization
    from pm4py.algo.evaluation.precision import algorithm as precision_evaluator
    from pm4py.algo.evaluation.replay_fitness.variants import alignment_based
    from pm4py.algo.evaluation.replay_fitness.variants import token_replay as token_fitness
    from pm4py.algo.evaluation.simplicity import algorithm as simplicity_evaluator

    net, im, fm = model.net, model.initial_marking, model.final_marking
    quiet = {"show_progress_bar": False, "activity_key": ACTIVITY}
    replayed = variants[:max_variants]
    log = variant_log(replayed)
    replay = token_replay.apply(log, net, im, fm, parameters=quiet)
    fitness = token_fitness.evaluate(replay)
    etc_precision = (
        precision_evaluator.apply(
            log, net, im, fm, variant=precision_evaluator.Variants.ETCONFORMANCE_TOKEN, parameters=quiet
        )
        if precision
        else None
    )
    # pm4py's generalization replays the log again; the replay above is the same, so it is reused.
    generalization = token_generalization.get_generalization(net, replay)
    simplicity = simplicity_evaluator.apply(net)

    # Alignments one variant at a time, most frequent first, until the time budget is spent.
    aligned: dict[tuple[str, ...], dict] = {}
    started = time.monotonic()
    for variant, _ in replayed[:align_variants]:
        left = align_time_s - (time.monotonic() - started)
        if left <= 0:
            break
        result = alignments.apply(
            variant_log([(variant, 1)])[0],
            net,
            im,
            fm,
            parameters={**quiet, "max_align_time_trace": left},
        )
        if result is not None and result.get("alignment") is not None:
            aligned[variant] = result
    weighted = [aligned[v] for v, n in replayed if v in aligned for _ in range(n)]
    alignment_fitness = alignment_based.evaluate(weighted)["log_fitness"] if weighted else None

    by_variant: list[VariantConformance] = []
    index = 0
    for variant, count in replayed:
        trace_replay = replay[index]
        index += count
        alignment = aligned.get(variant)
        by_variant.append(
            VariantConformance(
                variant=variant,
                cases=count,
                token_fitness=float(trace_replay["trace_fitness"]),
                fits=bool(trace_replay["trace_is_fit"]),
                alignment_fitness=None if alignment is None else float(alignment["fitness"]),
                deviations=() if alignment is None else classify_moves(alignment["alignment"]),
            )
        )
    cases_replayed = sum(n for _, n in replayed)
    cases_aligned = sum(n for v, n in replayed if v in aligned)
    scope = (
        f"all {len(variants)} variants ({cases} cases)"
        if len(replayed) == len(variants)
        else f"top {len(replayed)} of {len(variants)} variants ({cases_replayed} of {cases} cases)"
    )
    note = f"token-based replay on {scope}; alignments on {len(aligned)} variants ({cases_aligned} cases)"
    if len(aligned) < min(align_variants, len(replayed)):
        note += f", the rest beyond the {align_time_s:g} s budget"
    return ModelQuality(
        model_name=model.name,
        cases=cases,
        variants=len(variants),
        variants_replayed=len(replayed),
        cases_replayed=cases_replayed,
        token_fitness=float(fitness["log_fitness"]),
        fitting_cases_share=float(fitness["percentage_of_fitting_traces"]) / 100.0,
        precision=None if etc_precision is None else float(etc_precision),
        generalization=float(generalization),
        simplicity=float(simplicity),
        variants_aligned=len(aligned),
        cases_aligned=cases_aligned,
        alignment_fitness=None if alignment_fitness is None else float(alignment_fitness),
        note=note,
        by_variant=by_variant,
    )


def _with_note(quality: ModelQuality, note: str) -> ModelQuality:
    from dataclasses import replace

    return replace(quality, note=note)
