"""The code location: assembles the definitions from orchestration/defs. Nothing else lives here."""

import dagster as dg

from orchestration.defs import extraction, process_mining, raw_checks, reports, schedules, warehouse
from orchestration.defs.resources import build_resources

defs = dg.Definitions(
    assets=[
        extraction.simulated_factory,
        warehouse.warehouse_models,
        process_mining.process_mining,
        reports.daily_report,
    ],
    asset_checks=raw_checks.raw_table_checks,
    jobs=[schedules.daily_factory_job],
    schedules=[schedules.daily_report_0630],
    resources=build_resources(warehouse.dbt_project),
    # DuckDB takes one writer per file: the steps of a run execute one after the other, in process.
    executor=dg.in_process_executor,
)
