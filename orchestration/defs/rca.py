"""Root-cause analysis cases of each factory day, kept in the operational state file (not the warehouse)."""

from datetime import date

import dagster as dg

from orchestration.defs.resources import OperationalState, Warehouse
from orchestration.rca import open_cases


def rca_cases(context: dg.AssetExecutionContext, warehouse: Warehouse, state: OperationalState):
    opened = {}
    with warehouse.connect(read_only=True) as conn:
        for day in context.partition_keys:
            result = open_cases(conn, state.path, date.fromisoformat(day))
            opened[day] = {"cases": result.case_ids, "new": result.new_case_ids}
    return dg.MaterializeResult(metadata={"cases": dg.MetadataValue.json(opened)})


def build_rca(factory_days: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    return dg.asset(
        key=["rca", "cases"],
        group_name="rca",
        kinds={"duckdb"},
        deps=[
            ["marts", "fct_quality_yield"],
            ["marts", "fct_defect_pareto"],
            ["marts", "dim_batch"],
            ["analytics", "spc_violations"],
        ],
        partitions_def=factory_days,
        backfill_policy=dg.BackfillPolicy.single_run(),
        description="Quality signals (rework, scrap, SPC alarms, recurring defects) open RCA cases with "
        "ranked candidate factors in rca.cases of the state file; re-runs refresh the analysis, never a "
        "case's status or history.",
    )(rca_cases)
