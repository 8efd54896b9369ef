"""Live sensor readings into the daily warehouse: a sensor that rebuilds the sensor marts of the factory days
whose minutes the ingestion service (orchestration/ingestion) landed, without waiting for the daily run."""

import dagster as dg

from orchestration.defs.resources import Lake
from orchestration.ingestion import landed_minutes_since


def live_sensor_minutes(context: dg.SensorEvaluationContext, lake: Lake):
    days, cursor = landed_minutes_since(lake.path, context.cursor)
    context.update_cursor(cursor)
    if not days:
        return dg.SkipReason("no live minute landed since the last look")
    return [dg.RunRequest(run_key=f"{day}:{cursor}", partition_key=day) for day in days]


def build_live_sensors() -> tuple:
    # The telemetry models only: extraction is not rerun (that would re-land the day's simulated readings
    # beside the live ones); dbt's raw view reads every Parquet file of the day, the live minutes included.
    job = dg.define_asset_job(
        name="live_sensor_job",
        selection=dg.AssetSelection.assets(
            ["staging", "stg_mes__sensor_readings"], ["marts", "fct_sensor_hourly"]
        ),
        description="Rebuilds the sensor marts of factory days that live readings reached.",
    )
    sensor = dg.sensor(
        name="live_sensor_minutes",
        job=job,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Requests the sensor marts of every factory day in which a live minute (re)landed.",
    )(live_sensor_minutes)
    return job, sensor
