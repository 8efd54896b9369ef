"""The code location: definitions built from one resolved Plant when Dagster loads them, never at import.

``defs`` is what ``dagster dev`` and the workspace load (``@dg.definitions``: called on load). The
command-line drivers (backfill, checks) and the tests call ``build_definitions`` with a plant of their own.
"""

import dagster as dg

from orchestration.dbt_runner import export_dbt_environment
from orchestration.defs.alerting import build_alerting
from orchestration.defs.analysts_copy import build_analysts_copy
from orchestration.defs.anomalies import build_analytics
from orchestration.defs.arrivals import build_arrivals
from orchestration.defs.distribution import build_distribution
from orchestration.defs.extraction import build_extraction
from orchestration.defs.factory_days import factory_days
from orchestration.defs.genealogy import build_genealogy
from orchestration.defs.isolation import build_isolation
from orchestration.defs.live_sensors import build_live_sensors
from orchestration.defs.process_mining import build_process_mining
from orchestration.defs.raw_checks import build_raw_checks
from orchestration.defs.rca import build_rca
from orchestration.defs.reports import build_reports
from orchestration.defs.resources import build_resources
from orchestration.defs.schedules import build_schedules, daily_factory_job
from orchestration.defs.warehouse import build_dbt_project, build_warehouse
from orchestration.plant import Plant, resolve_plant


def build_definitions(plant: Plant) -> dg.Definitions:
    export_dbt_environment(
        plant.paths
    )  # dbt's profile reads the warehouse and lake paths from the environment
    days = factory_days(plant)
    dbt_project = build_dbt_project()
    report_assets, report_jobs = build_reports(days)
    daily_job = daily_factory_job()
    live_job, live_sensor = build_live_sensors()
    schedules, schedule_sensors = build_schedules(plant, daily_job, *report_jobs)
    alert_asset, alert_sensor = build_alerting(days)
    sensors = [live_sensor, build_isolation(daily_job), alert_sensor, *schedule_sensors]
    if not plant.simulated:  # a plant export: land the days a new or changed file brings
        sensors.append(build_arrivals(daily_job))
    genealogy = [build_genealogy(days)] if plant.simulated else []  # a plant export has no cells
    return dg.Definitions(
        assets=[
            build_extraction(plant, days),
            *genealogy,
            build_warehouse(dbt_project, days),
            build_process_mining(days),
            *build_analytics(days),
            build_rca(days),
            alert_asset,
            *report_assets,
            build_distribution(days),
            build_analysts_copy(days),
        ],
        asset_checks=build_raw_checks(plant, days),
        jobs=[daily_job, live_job, *report_jobs],
        schedules=schedules,
        sensors=sensors,
        resources=build_resources(plant, dbt_project),
        # DuckDB takes one writer per file: the steps of a run execute one after the other, in process.
        executor=dg.in_process_executor,
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions(resolve_plant())
