"""Process mining of each factory day and of the 7 and 30 days ending on it (windows keyed by their last day).

The day's inductive model and its conformance also fill the two daily tables the reports read.
"""

import dagster as dg

from orchestration.defs.resources import ReportShelf, Warehouse
from orchestration.mining.factory_days import mine_factory_days, reference_model
from orchestration.mining.window_results import WINDOW_TABLES
from orchestration.mining.window_run import MiningSettings
from orchestration.plant import Plant


class MiningConfig(dg.Config):
    """Every filter between the factory's events and the mined figures; each window's filters and what they
    removed are in the materialization's metadata (``filters``) and the models table's note. The defaults are
    for factory windows, not pm4py's: a day cuts batches at both ends, so only complete ones are mined
    (min_end_share), and conformance is bounded per window. For pm4py's figures on a whole log use the
    ``mine`` command (no filter by default), or set min_end_share null, noise_threshold 0 and max_variants
    null."""

    noise_threshold: float = 0.2  # inductive miner: share of infrequent behaviour left out of the model
    dependency_threshold: float = 0.5  # heuristics miner
    max_variants: int | None = 200  # replay only the most frequent variants (bounded conformance); null: all
    align_variants: int = 30  # alignments on the most frequent variants ...
    align_time_s: float = 5.0  # ... within this budget per model and window
    # Completeness: a case is mined when its first and last activities are each those of at least this
    # share of the window's cases (a batch cut by the window's ends looks like a new, shorter route);
    # null: off.
    min_end_share: float | None = 0.1
    top_variants: int | None = None  # discover and check on the most frequent variants only; null: all
    # every day carries each, whichever run mines it; 0: the whole log up to the day (its cost grows with it)
    window_days: list[int] = [1, 7, 30]
    reference_model_path: str | None = None  # PNML or BPMN of the designed route; None: from the scenario


_BATCH_DEPS = [["marts", "dim_batch"], ["marts", "dim_shift"]]
_DAILY = [["process_mining", "discovered_models"], ["process_mining", "conformance"]]
_DESCRIPTIONS = {
    "models": "Inductive, heuristics and reference Petri nets per window: size, PNML and picture paths.",
    "model_quality": "Fitness (token replay, alignments), precision, generalization, simplicity per model.",
    "deviations": "Most common deviations per model: skipped steps, extra steps, wrong order.",
    "deviating_cases": "Complete cases whose route does not fit a model, with the alignment's explanation.",
    "variants": "Top routes with cases, share and mean/median throughput time.",
    "dfg": "Directly-follows graph: edge frequency and mean/median/p95 waiting time.",
    "start_end_activities": "Cases per start and end activity.",
    "throughput": "Distribution of complete cases' throughput time.",
    "activity_bottlenecks": "Processing vs waiting time per activity, ranked; rank 1 limits throughput.",
    "machine_bottlenecks": "Processing vs waiting time per machine, ranked.",
    "rework_loops": "Loops back to a step already done, with rate per source execution, ranked.",
    "rework_rates": "Rework (sent-back and repeat) rates per activity, machine and shift.",
    "case_attribute_effects": "Batch attributes vs throughput time and rework: rank tests, effect size, "
    "p-value adjusted (Benjamini-Hochberg), and a summary row saying what is significant.",
    "process_maps": "Pictures of the process map: inductive net, frequency and performance DFG.",
}


def process_mining(
    context: dg.AssetExecutionContext,
    config: MiningConfig,
    plant: dg.ResourceParam[Plant],
    warehouse: Warehouse,
    reports: ReportShelf,
):
    settings = MiningSettings(
        noise_threshold=config.noise_threshold,
        dependency_threshold=config.dependency_threshold,
        max_variants=config.max_variants,
        align_variants=config.align_variants,
        align_time_s=config.align_time_s,
        min_end_share=config.min_end_share,
        top_variants=config.top_variants,
    )
    filters: dict[str, list[dict]] = {}
    # the statistics from the engine that built the marts (Spark's session, or None: DuckDB's, in the file)
    with warehouse.mining_statistics() as window_statistics, warehouse.connect() as conn:
        reference = reference_model(conn, plant.paths.scenario_path, config.reference_model_path)
        fitness = mine_factory_days(
            conn,
            list(context.partition_keys),
            config.window_days,
            settings,
            reference,
            pictures_dir=lambda day: reports.day_dir(day) / "process_mining",
            log=context.log.info,
            filters=filters,
            window_statistics=window_statistics,
        )
    for key in [*_DAILY, *(["process_mining", table] for table in WINDOW_TABLES)]:
        yield dg.MaterializeResult(
            asset_key=key,
            metadata={
                "log_fitness_by_day": dg.MetadataValue.json(fitness),
                "filters": dg.MetadataValue.json(filters),  # each filter and what it removed, per window
            },
        )


def build_process_mining(factory_days: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    specs = [
        dg.AssetSpec(
            _DAILY[0],
            group_name="process_mining",
            kinds={"pm4py", "duckdb"},
            deps=[["marts", "fct_process_events"]],
            description="Inductive-miner Petri net of the day's batch routes, its size and its picture.",
        ),
        dg.AssetSpec(
            _DAILY[1],
            group_name="process_mining",
            kinds={"pm4py", "duckdb"},
            deps=[["marts", "fct_process_events"]],
            description="Token-replay fitness and precision of the day's log against the discovered model.",
        ),
        *[
            dg.AssetSpec(
                ["process_mining", table],
                group_name="process_mining",
                kinds={"pm4py", "duckdb"},
                deps=[
                    ["marts", "fct_process_events"],
                    *(_BATCH_DEPS if table == "case_attribute_effects" else []),
                ],
                description=_DESCRIPTIONS[table] + " Per day and the 7 and 30 days ending on it.",
            )
            for table in WINDOW_TABLES
        ],
    ]
    return dg.multi_asset(
        name="process_mining",
        specs=specs,
        partitions_def=factory_days,
        backfill_policy=dg.BackfillPolicy.single_run(),
    )(process_mining)
