"""The code location: assembles the definitions from orchestration/defs. Nothing else lives here."""

import dagster as dg

from orchestration.defs import (
    anomalies,
    arrivals,
    distribution,
    extraction,
    isolation,
    live_sensors,
    process_mining,
    raw_checks,
    rca,
    reports,
    schedules,
    warehouse,
)
from orchestration.defs.resources import build_resources
from orchestration.settings import load_settings

# The source: the plant's export when GIGAFACTORY_SOURCE names a mapping, else the simulated factory.
plant_export = load_settings().source_mapping is not None

defs = dg.Definitions(
    assets=[
        extraction.plant_export if plant_export else extraction.simulated_factory,
        warehouse.warehouse_models,
        process_mining.process_mining,
        anomalies.sensor_anomalies,
        anomalies.spc_violations,
        rca.rca_cases,
        reports.daily_report,
        reports.shift_handovers,
        distribution.deliveries,
    ],
    asset_checks=raw_checks.raw_table_checks,
    jobs=[
        schedules.daily_factory_job,
        live_sensors.live_sensor_job,
        reports.daily_report_job,
        reports.shift_handover_job,
    ],
    schedules=[schedules.daily_report_0630, schedules.shift_handover_at_shift_end],
    sensors=[
        live_sensors.live_sensor_minutes,
        isolation.isolate_blocked_days,
        schedules.report_despite_blocked_day,
    ]
    + ([arrivals.plant_export_arrivals] if plant_export else []),
    resources=build_resources(warehouse.dbt_project),
    # DuckDB takes one writer per file: the steps of a run execute one after the other, in process.
    executor=dg.in_process_executor,
)
