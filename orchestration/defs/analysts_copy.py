"""The analysts' copy of the warehouse, published at the end of every run that builds factory days."""

from pathlib import Path

import dagster as dg

from orchestration.analysts_copy import publish_analysts_copy
from orchestration.defs.resources import Warehouse

# Everything a run writes into the warehouse comes before the copy: the marts and the mining (upstream of the
# reports), the analytics and RCA (read by the reports).
WRITTEN_BEFORE = [
    ["reports", "daily_report"],
    ["reports", "shift_handovers"],
    ["process_mining", "variants"],
    ["marts", "fct_oee_step_day"],
]


def analysts_warehouse_copy(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    database = Path(warehouse.database)
    if not database.exists():  # reports of a day rendered before any marts: nothing to copy
        return dg.MaterializeResult(metadata={"copied": False})
    copy = publish_analysts_copy(database, warehouse.file_group)
    context.log.info(f"analysts' copy of the warehouse published: {copy}")
    return dg.MaterializeResult(metadata={"path": str(copy), "bytes": copy.stat().st_size, "copied": True})


def build_analysts_copy(factory_days: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    return dg.asset(
        key=["analysts", "warehouse_copy"],
        group_name="analysts",
        kinds={"duckdb"},
        deps=WRITTEN_BEFORE,
        partitions_def=factory_days,
        backfill_policy=dg.BackfillPolicy.single_run(),
        description="A checkpointed copy of the whole warehouse (<warehouse>.analysts.duckdb) that SQL "
        "users and BI tools open, so that an open session never keeps a run from writing. As fresh as the "
        "last run.",
    )(analysts_warehouse_copy)
