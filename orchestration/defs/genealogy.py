"""The simulated plant's per-cell genealogy: each landed factory day resolved into OCEL 2.0 objects and events
(orchestration/genealogy), written to the lake's ``genealogy`` layer that dbt's ``ocel`` schema reads.

Only a simulated plant has it: a plant export carries batches, not cells (its OCEL file, when it has one, is
read by the connectors), and its ``ocel`` schema stays empty.
"""

import dagster as dg

from orchestration.defs.resources import Lake, SimulatedFactory
from orchestration.genealogy.landed import expand_landed_day
from orchestration.lake.tables import GENEALOGY_TABLES
from orchestration.lake.writer import write_partition


def cell_genealogy(context: dg.AssetExecutionContext, factory: SimulatedFactory, lake: Lake):
    config = factory.config()
    rows = dict.fromkeys(GENEALOGY_TABLES, 0)
    for day in sorted(context.partition_keys):  # each day continues its batches from the days before
        tables = expand_landed_day(config, lake.path, day)
        for table, data in tables.items():
            rows[table] += write_partition(lake.path, table, day, data, layer="genealogy")
        context.log.info(f"factory day {day}: " + ", ".join(f"{t} {d.num_rows:,}" for t, d in tables.items()))
    for table, count in rows.items():
        yield dg.MaterializeResult(
            asset_key=["genealogy", table],
            metadata={"rows": count, "factory_days": len(context.partition_keys)},
        )


def build_genealogy(factory_days: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    specs = [
        dg.AssetSpec(
            ["genealogy", table],
            group_name="genealogy",
            kinds={"parquet"},
            deps=[["raw", "production_events"], ["raw", "machines"]],
            description=f"OCEL 2.0 `{table}` rows of one factory day of the simulated plant, per cell "
            "(docs/genealogy.md).",
        )
        for table in GENEALOGY_TABLES
    ]
    return dg.multi_asset(
        name="cell_genealogy",
        specs=specs,
        partitions_def=factory_days,
        backfill_policy=dg.BackfillPolicy.single_run(),
    )(cell_genealogy)
