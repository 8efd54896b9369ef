"""Process mining of each factory day's event log: the discovered model, its picture and its conformance."""

import dagster as dg

from orchestration.defs.factory_days import factory_days
from orchestration.defs.resources import ReportShelf, Warehouse
from orchestration.mining import load_event_log, mine_event_log, write_results


class MiningConfig(dg.Config):
    noise_threshold: float = 0.2  # inductive miner: share of infrequent behaviour left out of the model
    max_variants: int = 200  # replay only the most frequent variants, so conformance stays bounded


@dg.multi_asset(
    name="process_mining",
    specs=[
        dg.AssetSpec(
            ["process_mining", "discovered_models"],
            group_name="process_mining",
            kinds={"pm4py", "duckdb"},
            deps=[["marts", "fct_process_events"]],
            description="Inductive-miner Petri net of the day's batch routes, its size and its picture.",
        ),
        dg.AssetSpec(
            ["process_mining", "conformance"],
            group_name="process_mining",
            kinds={"pm4py", "duckdb"},
            deps=[["marts", "fct_process_events"]],
            description="Token-replay fitness and precision of the day's log against the discovered model.",
        ),
    ],
    partitions_def=factory_days,
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def process_mining(
    context: dg.AssetExecutionContext, config: MiningConfig, warehouse: Warehouse, reports: ReportShelf
):
    fitness: dict[str, float | None] = {}
    with warehouse.connect() as conn:
        for day in context.partition_keys:
            run = mine_event_log(
                load_event_log(conn, day),
                day,
                picture_dir=reports.day_dir(day),
                noise_threshold=config.noise_threshold,
                max_variants=config.max_variants,
            )
            write_results(conn, day, run.rows)
            fitness[day] = run.conformance.log_fitness
            context.log.info(f"{day}: {run.model.note or 'model discovered'}; {run.conformance.note or ''}")
    for key in (["process_mining", "discovered_models"], ["process_mining", "conformance"]):
        yield dg.MaterializeResult(
            asset_key=key, metadata={"log_fitness_by_day": dg.MetadataValue.json(fitness)}
        )
