"""When the factory's day is processed: half an hour after the factory day ends (06:30 with the default 06:00
first shift), in the factory's timezone."""

from datetime import timedelta

import dagster as dg

from orchestration.defs.factory_days import factory_clock
from orchestration.factory_calendar import factory_day_of

# Every asset and every check, so the quality gate runs (and blocks) in the same run as the warehouse.
daily_factory_job = dg.define_asset_job(
    name="daily_factory_job",
    selection=dg.AssetSelection.all(),
    description="Extraction, quality gate, warehouse, process mining and reports for factory days.",
)


def previous_factory_day(scheduled_time) -> str:
    config = factory_clock()
    today = factory_day_of(scheduled_time, config.timezone, config.day_start_hour)
    return (today - timedelta(days=1)).isoformat()


@dg.schedule(
    name="daily_report_0630",
    job=daily_factory_job,
    cron_schedule=f"30 {factory_clock().day_start_hour} * * *",
    execution_timezone=factory_clock().timezone,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="06:30 factory time: the previous factory day, through the director's report.",
)
def daily_report_0630(context: dg.ScheduleEvaluationContext):
    day = previous_factory_day(context.scheduled_execution_time)
    return dg.RunRequest(run_key=day, partition_key=day)
