"""Process mining of one window of factory days (a day, or the 7 or 30 days ending on it), minus the write.

Frequency and performance statistics come from DuckDB over the event relation; pm4py gets only the variant
log of the complete cases, for discovery, replay and alignments. Every result is a frame for one table of
window_results, keyed there by the window's last day and its length.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from orchestration.mining.bottlenecks import activity_bottlenecks, machine_bottlenecks
from orchestration.mining.case_attributes import case_attribute_effects
from orchestration.mining.discovery import (
    ALGORITHM,
    HEURISTICS,
    DiscoveredModel,
    discover_process_model,
    write_pnml,
)
from orchestration.mining.event_log import variant_log
from orchestration.mining.flow import start_end_activities
from orchestration.mining.model_picture import (
    ModelPicture,
    process_map_dot_source,
    render_dot,
    render_model_picture,
)
from orchestration.mining.model_quality import (
    DEFAULT_ALIGN_TIME_S,
    DEFAULT_ALIGN_VARIANTS,
    DEFAULT_MAX_VARIANTS,
    ModelQuality,
    evaluate_model,
)
from orchestration.mining.rework import rework_loops, rework_rates
from orchestration.mining.step_facts import counted_step_facts
from orchestration.mining.variants import (
    DEFAULT_MIN_END_SHARE,
    RouteVariants,
    cases_of_variants,
    flow_and_variants,
    variant_label,
)

TOP_VARIANTS = 50


@dataclass(frozen=True)
class MiningSettings:
    """Every filter between the log and the figures. The defaults are the factory windows' (a day cuts batches
    at both ends, so only complete ones are mined, and replay is bounded per window); ``ANALYST`` is pm4py's
    (the whole log, the miner's default threshold, nothing capped). What each removed is in
    WindowMining.filters."""

    noise_threshold: float = 0.2  # inductive miner (pm4py's default: 0.0)
    dependency_threshold: float = 0.5  # heuristics miner
    max_variants: int | None = DEFAULT_MAX_VARIANTS  # token replay, precision, generalization; None: all
    align_variants: int = DEFAULT_ALIGN_VARIANTS
    align_time_s: float = DEFAULT_ALIGN_TIME_S  # per model and window
    min_end_share: float | None = DEFAULT_MIN_END_SHARE  # usual start / end of a complete case; None: off
    top_variants: int | None = None  # discover and check on the most frequent variants only; None: all
    variants_listed: int | None = TOP_VARIANTS  # rows of the variants table; None: every variant
    pictures: bool = True


ANALYST = MiningSettings(
    noise_threshold=0.0, max_variants=None, min_end_share=None, top_variants=None, variants_listed=None
)
FILTER_COLUMNS = [
    "filter",
    "setting",
    "cases_removed",
    "events_removed",
    "cases_share",
    "events_share",
    "note",
]


@dataclass(frozen=True)
class WindowStatistics:
    """A window's frequency and performance statistics: the directly-follows graph with waits, the variants
    and their throughput, and the step facts' tables (start and end activities, bottlenecks, rework). DuckDB's
    (``duckdb_statistics``) or another engine's with the same meaning (mining.spark_statistics)."""

    dfg: pd.DataFrame
    variants: RouteVariants
    step_tables: dict[str, pd.DataFrame]


def duckdb_statistics(conn, events: str, min_share: float | None) -> WindowStatistics:
    """The statistics of the event relation ``events`` in DuckDB."""
    dfg, variants = flow_and_variants(conn, events, min_share)  # one sort of the events
    with counted_step_facts(conn, events) as facts:  # and one more for timing and rework
        step_tables = {
            "start_end_activities": start_end_activities(conn, facts),
            "activity_bottlenecks": activity_bottlenecks(conn, facts),
            "machine_bottlenecks": machine_bottlenecks(conn, facts),
            "rework_loops": rework_loops(conn, facts),
            "rework_rates": rework_rates(conn, facts),
        }
    return WindowStatistics(dfg, variants, step_tables)


@dataclass
class WindowMining:
    models: dict[str, DiscoveredModel]  # inductive, heuristics, reference (when given)
    quality: dict[str, ModelQuality]
    pictures: dict[str, ModelPicture]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # window_results table -> rows
    filters: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=FILTER_COLUMNS))


def mine_window(
    conn,
    events: str,
    picture_dir: Path | str | None,
    stem: str,
    reference: DiscoveredModel | None = None,
    settings: MiningSettings = MiningSettings(),
    batches: str | None = None,
    statistics: WindowStatistics | None = None,
) -> WindowMining:
    """Everything about the window's event relation ``events``; files go to ``picture_dir`` as ``stem_*``.
    ``batches``: the window's batches with their attributes (see case_attributes); None: there are none.
    ``statistics``: the window's statistics computed by another engine over the same events (the Spark
    warehouse's); None: computed here, in DuckDB. pm4py reads their variant log either way."""
    if statistics is None:
        statistics = duckdb_statistics(conn, events, settings.min_end_share)
    dfg, variants, step_tables = statistics.dfg, statistics.variants, statistics.step_tables
    ends = step_tables["start_end_activities"]
    counts = variants.counts(settings.top_variants)
    log = variant_log(counts)
    models = {
        "inductive": discover_process_model(
            log, noise_threshold=settings.noise_threshold, algorithm=ALGORITHM
        ),
        "heuristics": discover_process_model(
            log, algorithm=HEURISTICS, dependency_threshold=settings.dependency_threshold
        ),
    }
    if reference is not None:
        models["reference"] = reference
    left_out = variants.all_cases - variants.cases
    note = "; ".join(
        filter(
            None,
            [
                f"{variants.cases} of {variants.all_cases} cases run from a usual start to a usual end "
                f"(mined); {left_out} cut by the window's boundaries are left out"
                if left_out
                else None,
                f"discovered on the top {len(counts)} of {len(variants.table)} variants"
                if len(counts) < len(variants.table)
                else None,
            ],
        )
    )
    quality = {
        role: evaluate_model(
            counts, model, settings.max_variants, settings.align_variants, settings.align_time_s
        )
        for role, model in models.items()
    }

    pictures: dict[str, ModelPicture] = {}
    pnml: dict[str, str | None] = {}
    if picture_dir is not None:
        out = Path(picture_dir)
        for role, model in models.items():
            path = write_pnml(model, out / f"{stem}_{role}.pnml")
            pnml[role] = None if path is None else str(path)
        if settings.pictures:
            pictures["inductive"] = render_model_picture(models["inductive"], out, f"{stem}_inductive")
            if len(dfg):
                starts = ends[ends["kind"] == "start"].set_index("activity")["cases"].to_dict()
                finishes = ends[ends["kind"] == "end"].set_index("activity")["cases"].to_dict()
                for kind, column in (("frequency", "frequency"), ("performance", "mean_wait_s")):
                    graph = {
                        (s, t): float(v)
                        for s, t, v in zip(dfg["source"], dfg["target"], dfg[column], strict=True)
                    }
                    try:
                        source = process_map_dot_source(
                            graph, starts, finishes, performance=kind == "performance"
                        )
                        pictures[f"dfg_{kind}"] = render_dot(source, out, f"{stem}_dfg_{kind}", ("svg",))
                    except Exception as exc:  # a picture is never worth failing the run
                        pictures[f"dfg_{kind}"] = ModelPicture(None, None, None, f"no picture: {exc}")

    tables = {
        "models": pd.DataFrame(
            [
                {
                    "role": role,
                    "algorithm": m.algorithm,
                    "model_name": m.name,
                    "threshold": m.noise_threshold,
                    "places": m.places,
                    "transitions": m.transitions,
                    "silent_transitions": m.silent_transitions,
                    "arcs": m.arcs,
                    "pnml_path": pnml.get(role),
                    "picture_svg_path": _path(pictures.get(role), "svg"),
                    "picture_png_path": _path(pictures.get(role), "png"),
                    "note": "; ".join(filter(None, [note if role != "reference" else None, m.note])),
                }
                for role, m in models.items()
            ]
        ),
        "model_quality": pd.DataFrame(
            [
                {
                    "role": role,
                    "model_name": q.model_name,
                    "cases": q.cases,
                    "variants": q.variants,
                    "variants_replayed": q.variants_replayed,
                    "cases_replayed": q.cases_replayed,
                    "token_fitness": q.token_fitness,
                    "fitting_cases_share": q.fitting_cases_share,
                    "alignment_fitness": q.alignment_fitness,
                    "variants_aligned": q.variants_aligned,
                    "cases_aligned": q.cases_aligned,
                    "precision": q.precision,
                    "generalization": q.generalization,
                    "simplicity": q.simplicity,
                    "note": q.note,
                }
                for role, q in quality.items()
            ]
        ),
        "deviations": _deviations(quality),
        "deviating_cases": _deviating_cases(conn, events, quality),
        "variants": _top_variants(variants.table, settings.variants_listed),
        "dfg": dfg,
        "throughput": variants.throughput,
        **step_tables,
        "case_attribute_effects": case_attribute_effects(conn, batches),
        "process_maps": pd.DataFrame(
            [
                {"picture": name, "svg_path": _path(p, "svg"), "png_path": _path(p, "png"), "note": p.note}
                for name, p in pictures.items()
            ],
            columns=["picture", "svg_path", "png_path", "note"],
        ),
    }
    return WindowMining(models, quality, pictures, tables, _filters(settings, variants, counts, quality))


def _filters(settings: MiningSettings, variants, counts, quality: dict[str, ModelQuality]) -> pd.DataFrame:
    """Every filter with its setting and what it removed from the window's cases and events (the share of
    all of them); a setting that removed nothing is listed too, so the figures always say what was applied."""
    total_cases, total_events = variants.all_cases, variants.all_events
    kept_cases = sum(n for _, n in counts)
    kept_events = sum(n * len(v) for v, n in counts)
    inductive = quality.get("inductive")
    replayed = [] if inductive is None else [(v.variant, v.cases) for v in inductive.by_variant]
    aligned = (
        []
        if inductive is None
        else [(v.variant, v.cases) for v in inductive.by_variant if v.alignment_fitness is not None]
    )

    def row(name, setting, cases, events, note):
        return {
            "filter": name,
            "setting": None if setting is None else str(setting),
            "cases_removed": cases,
            "events_removed": events,
            "cases_share": cases / total_cases if total_cases and cases is not None else None,
            "events_share": events / total_events if total_events and events is not None else None,
            "note": note,
        }

    def left(subset):  # cases and events of the mined variants not in ``subset``
        return kept_cases - sum(n for _, n in subset), kept_events - sum(n * len(v) for v, n in subset)

    replay_left = left(replayed) if inductive is not None and inductive.variants_replayed else (None, None)
    align_left = left(aligned) if inductive is not None and inductive.variants_replayed else (None, None)
    rows = [
        row(
            "completeness (min_end_share)",
            settings.min_end_share,
            total_cases - variants.cases,
            total_events - variants.events,
            "cases not running from a usual start to a usual end are left out of every figure but the DFG"
            if settings.min_end_share
            else "off: every case is mined",
        ),
        row(
            "top variants (top_variants)",
            settings.top_variants,
            variants.cases - kept_cases,
            variants.events - kept_events,
            "discovery and conformance on the most frequent variants only"
            if settings.top_variants
            else "off: every variant is mined",
        ),
        row(
            "noise threshold (noise_threshold)",
            settings.noise_threshold,
            None,
            None,
            "inductive miner: infrequent behaviour left out of the model, not out of the log",
        ),
        row(
            "replay cap (max_variants)",
            settings.max_variants,
            *replay_left,
            "token replay, precision and generalization on the most frequent variants only"
            if settings.max_variants
            else "off: every variant is replayed",
        ),
        row(
            "alignment cap (align_variants, align_time_s)",
            f"{settings.align_variants}, {settings.align_time_s:g} s",
            *align_left,
            "alignments on the most frequent variants within the time budget",
        ),
    ]
    return pd.DataFrame(rows, columns=FILTER_COLUMNS).astype(
        {"cases_removed": "Int64", "events_removed": "Int64"}
    )


def _path(picture: ModelPicture | None, fmt: str) -> str | None:
    if picture is None:
        return None
    path = picture.svg_path if fmt == "svg" else picture.png_path
    return None if path is None else str(path)


def _top_variants(table: pd.DataFrame, listed: int | None = TOP_VARIANTS) -> pd.DataFrame:
    top = (table if listed is None else table.head(listed)).copy()
    top.insert(0, "rank", range(1, len(top) + 1))
    top["steps"] = [len(v) for v in top["variant"]]
    top["variant"] = [variant_label(v) for v in top["variant"]]
    return top


def _deviations(quality: dict[str, ModelQuality]) -> pd.DataFrame:
    """The most common deviations per model: kind, activity and the cases (of aligned variants) showing it."""
    rows: dict[tuple[str, str, str], list[int]] = {}
    for role, q in quality.items():
        for v in q.by_variant:
            for kind, activity in v.deviations:
                entry = rows.setdefault((role, kind, activity), [0, 0])
                entry[0] += v.cases
                entry[1] += 1
    frame = pd.DataFrame(
        [(role, kind, activity, cases, n) for (role, kind, activity), (cases, n) in rows.items()],
        columns=["role", "kind", "activity", "cases", "variants"],
    )
    return frame.sort_values(["role", "cases", "kind", "activity"], ascending=[True, False, True, True])


def _deviating_cases(conn, events: str, quality: dict[str, ModelQuality]) -> pd.DataFrame:
    """Every complete case whose variant does not fit a model, with what the alignment says about it."""
    deviating = [
        {
            "role": role,
            "variant": variant_label(v.variant),
            "token_fitness": v.token_fitness,
            "alignment_fitness": v.alignment_fitness,
            "deviations": "; ".join(f"{kind} {activity}" for kind, activity in v.deviations) or None,
        }
        for role, q in quality.items()
        for v in q.by_variant
        if not v.fits or (v.alignment_fitness is not None and v.alignment_fitness < 1.0)
    ]
    columns = ["role", "case_id", "variant", "token_fitness", "alignment_fitness", "deviations"]
    if not deviating:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame(deviating)
    cases = cases_of_variants(conn, events, sorted(set(frame["variant"])))
    joined = frame.merge(cases, on="variant")  # the variants come from complete cases only
    return joined.sort_values(["role", "case_id"], kind="stable")[columns].reset_index(drop=True)
