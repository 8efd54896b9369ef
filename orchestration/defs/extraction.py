"""Extraction: land the raw MES tables of each factory day as Parquet in the lake."""

import dagster as dg

from orchestration.defs.factory_days import factory_days
from orchestration.defs.resources import Lake, SimulatedFactory
from orchestration.lake.tables import RAW_TABLES
from orchestration.lake.writer import write_partition


@dg.multi_asset(
    name="simulated_factory",
    specs=[
        dg.AssetSpec(
            ["raw", table],
            group_name="extraction",
            kinds={"parquet"},
            description=f"Raw MES table `{table}` of one factory day, landed as Parquet.",
        )
        for table in RAW_TABLES
    ],
    partitions_def=factory_days,
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def simulated_factory(context: dg.AssetExecutionContext, factory: SimulatedFactory, lake: Lake):
    rows: dict[str, int] = dict.fromkeys(RAW_TABLES, 0)
    for day in context.partition_keys:
        for table, data in factory.simulate(day).items():
            write_partition(lake.path, table, day, data)
            rows[table] += data.num_rows
        context.log.info(f"factory day {day} landed")
    for table in RAW_TABLES:
        yield dg.MaterializeResult(
            asset_key=["raw", table],
            metadata={"rows": rows[table], "factory_days": len(context.partition_keys)},
        )
