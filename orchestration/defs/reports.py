"""The daily factory report, rendered from the marts and process-mining tables for each factory day."""

import dataclasses

import dagster as dg

from orchestration.defs.factory_days import factory_days
from orchestration.defs.resources import ReportShelf, Warehouse
from orchestration.reporting import load_daily_report, render_daily_report
from orchestration.reporting.quality_page import render_quality_page


@dg.asset(
    key=["reports", "daily_report"],
    group_name="reports",
    kinds={"html"},
    deps=[
        ["marts", "fct_oee_factory_day"],
        ["marts", "fct_oee_machine_day"],
        ["marts", "fct_kpi_coverage"],
        ["process_mining", "discovered_models"],
        ["process_mining", "conformance"],
    ],
    partitions_def=factory_days,
    backfill_policy=dg.BackfillPolicy.single_run(),
    description="The operations director's daily report: KPIs, losses, process model (HTML + JSON twin).",
)
def daily_report(context: dg.AssetExecutionContext, warehouse: Warehouse, reports: ReportShelf):
    paths = {}
    with warehouse.connect(read_only=True) as conn:
        for day in context.partition_keys:
            report = load_daily_report(conn, day)
            quality_page = render_quality_page(reports.day_dir(day), day, report.held_back)
            report = dataclasses.replace(report, quality_page=quality_page.name if quality_page else None)
            paths[day] = str(render_daily_report(report, reports.day_dir(day)))
            if report.missing:
                context.log.warning(f"{day} report is missing: {', '.join(report.missing)}")
    return dg.MaterializeResult(metadata={"reports": dg.MetadataValue.json(paths)})
