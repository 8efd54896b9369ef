"""Process mining of each factory day and of the 7 and 30 days ending on it (windows keyed by their last day).

The day's inductive model and its conformance also fill the two daily tables the reports read.
"""

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import dagster as dg

from orchestration.defs.factory_days import factory_days
from orchestration.defs.resources import ReportShelf, SimulatedFactory, Warehouse
from orchestration.factory_calendar import as_date
from orchestration.mining import write_results
from orchestration.mining.case_attributes import window_batches_sql
from orchestration.mining.case_steps import mart_events_sql
from orchestration.mining.conformance import ConformanceResult
from orchestration.mining.reference_model import designed_route_model, supplied_model
from orchestration.mining.results import to_rows
from orchestration.mining.window_results import WINDOW_TABLES, write_window
from orchestration.mining.window_run import MiningSettings, mine_window
from orchestration.simulator.config import load_scenario


class MiningConfig(dg.Config):
    noise_threshold: float = 0.2  # inductive miner: share of infrequent behaviour left out of the model
    dependency_threshold: float = 0.5  # heuristics miner
    max_variants: int = 200  # replay only the most frequent variants, so conformance stays bounded
    align_variants: int = 30  # alignments on the most frequent variants ...
    align_time_s: float = 5.0  # ... within this budget per model and window
    window_days: list[int] = [1, 7, 30]
    # Rolling windows (longer than a day) cost up to half a minute each on a job shop: a run mines them for
    # its newest day only, so the daily schedule has them every day and a backfill ends with them.
    rolling_windows_every_day: bool = False
    reference_model_path: str | None = None  # PNML or BPMN of the designed route; None: from the scenario


def _reference(config: MiningConfig, factory: SimulatedFactory, conn):
    """The supplied model, else the scenario's designed route when the mart's activities are its steps."""
    if config.reference_model_path:
        return supplied_model(config.reference_model_path)
    scenario = load_scenario(Path(factory.scenario_path))
    activities = {
        row[0] for row in conn.execute("select distinct activity from marts.fct_process_events").fetchall()
    }
    return designed_route_model(scenario) if activities and activities <= set(scenario.route) else None


def _has_batch_dimension(conn) -> bool:
    """marts.dim_batch and dim_shift exist (they are built by dbt beside the event log)."""
    found = conn.execute(
        "select count(*) from information_schema.tables where table_schema = 'marts' "
        "and table_name in ('dim_batch', 'dim_shift')"
    ).fetchall()[0][0]
    return found == 2


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


@dg.multi_asset(
    name="process_mining",
    specs=[
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
    ],
    partitions_def=factory_days,
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def process_mining(
    context: dg.AssetExecutionContext,
    config: MiningConfig,
    warehouse: Warehouse,
    reports: ReportShelf,
    factory: SimulatedFactory,
):
    settings = MiningSettings(
        noise_threshold=config.noise_threshold,
        dependency_threshold=config.dependency_threshold,
        max_variants=config.max_variants,
        align_variants=config.align_variants,
        align_time_s=config.align_time_s,
    )
    fitness: dict[str, float | None] = {}
    with warehouse.connect() as conn:
        reference = _reference(config, factory, conn)  # built once, shared by every window
        with_batches = _has_batch_dimension(conn)
        newest = max(context.partition_keys)
        for day in context.partition_keys:
            end = as_date(day)
            windows = sorted(set(config.window_days))
            if day != newest and not config.rolling_windows_every_day:
                windows = [days for days in windows if days == 1]
            for days in windows:
                first = end - timedelta(days=days - 1)
                events = f"({mart_events_sql(first, end)})"
                batches = f"({window_batches_sql(first, end)})" if with_batches else None
                mined = mine_window(
                    conn,
                    events,
                    reports.day_dir(day) / "process_mining",
                    f"{days}d",
                    reference,
                    settings,
                    batches,
                )
                write_window(conn, end, days, mined.tables)
                if days == 1:
                    model, quality = mined.models["inductive"], mined.quality["inductive"]
                    conformance = ConformanceResult(
                        model_name=quality.model_name,
                        cases=quality.cases,
                        events=model.events,
                        variants=quality.variants,
                        variants_used=quality.variants_replayed,
                        cases_used=quality.cases_replayed,
                        events_used=model.events,
                        log_fitness=quality.token_fitness,
                        fitting_traces_share=quality.fitting_cases_share,
                        precision=quality.precision,
                        note=quality.note,
                    )
                    note = mined.tables["models"].set_index("role").loc["inductive", "note"]
                    write_results(
                        conn,
                        day,
                        to_rows(day, replace(model, note=note), conformance, mined.pictures.get("inductive")),
                    )
                    fitness[day] = quality.token_fitness
                context.log.info(f"{day} ({days} d): " + "; ".join(q.note for q in mined.quality.values()))
    for key in [*_DAILY, *(["process_mining", table] for table in WINDOW_TABLES)]:
        yield dg.MaterializeResult(
            asset_key=key, metadata={"log_fitness_by_day": dg.MetadataValue.json(fitness)}
        )
