"""When the factory's reports go out, in the factory's timezone, from the plant's calendar:

- ``daily_report_<HHMM>``: half an hour after the factory day ends (06:30 with a 06:00 first shift), the whole
  graph for the day that ended, its reports last, after the day's blocking checks passed;
- ``report_despite_blocked_day``: when a blocking check stops that run, the reports still go out, marked
  INCOMPLETE and naming the checks that failed;
- ``shift_handover_at_shift_end``: at each shift end of the plant's shift pattern, that shift's handover.
"""

from datetime import datetime, timedelta

import dagster as dg

from orchestration.defs.reports import BLOCKED_CHECKS_TAG
from orchestration.factory_calendar import FactoryCalendar
from orchestration.plant import Plant

PARTITION_TAG = "dagster/partition"


def daily_factory_job():
    """Every asset and every check, so the quality gate runs (and blocks) in the same run as the warehouse."""
    return dg.define_asset_job(
        name="daily_factory_job",
        selection=dg.AssetSelection.all(),
        description="Extraction, quality gate, warehouse, process mining and reports for factory days.",
    )


def previous_factory_day(calendar: FactoryCalendar, scheduled_time: datetime) -> str:
    return (calendar.day_of(scheduled_time) - timedelta(days=1)).isoformat()


def failed_blocking_checks(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """Names of the blocking checks that failed in a run, from its event log."""
    records = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION, limit=10_000
    ).records
    failed = []
    for record in records:
        evaluation = record.event_log_entry.dagster_event.event_specific_data
        if not evaluation.passed and evaluation.blocking and evaluation.check_name not in failed:
            failed.append(evaluation.check_name)
    return failed


def report_request(run: dg.DagsterRun, failed_checks: list[str]) -> dg.RunRequest | dg.SkipReason:
    """The report run for a single-day run a blocking check stopped; range runs are split first
    (isolate_blocked_days), and a run that failed for another reason gets none."""
    if not failed_checks:  # not the data's fault: a complete report must not become an INCOMPLETE one
        return dg.SkipReason(f"run {run.run_id} failed for a reason other than a blocking check")
    day = run.tags.get(PARTITION_TAG)
    if not day:
        return dg.SkipReason(f"run {run.run_id} covers a range: its days are reported once split")
    return dg.RunRequest(
        run_key=f"{run.run_id}:reports",
        partition_key=day,
        tags={BLOCKED_CHECKS_TAG: ",".join(failed_checks), "gigafactory/reports_after": run.run_id},
    )


def handover_crons(calendar: FactoryCalendar) -> list[str]:
    """One cron line per shift end of the pattern (local wall clock)."""
    ends = sorted({(end.hour, end.minute) for end in calendar.shift_end_times().values()})
    return [f"{minute} {hour} * * *" for hour, minute in ends]


def build_schedules(
    plant: Plant,
    daily_job,
    daily_report_job,
    shift_handover_job: dg.JobDefinition,
) -> tuple[list, list]:
    """(schedules, sensors) on the plant's clock."""
    calendar = plant.calendar
    hour = calendar.day_start_hour

    @dg.schedule(
        name=f"daily_report_{hour:02d}30",
        job=daily_job,
        cron_schedule=f"30 {hour} * * *",
        execution_timezone=calendar.timezone,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"{hour:02d}:30 factory time: the previous factory day, through the director's report.",
    )
    def daily_report_schedule(context: dg.ScheduleEvaluationContext):
        day = previous_factory_day(calendar, context.scheduled_execution_time)
        return dg.RunRequest(run_key=day, partition_key=day)

    @dg.run_failure_sensor(
        name="report_despite_blocked_day",
        monitored_jobs=[daily_job],
        request_job=daily_report_job,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="When a blocking check stops a day's run, its reports still go out, marked INCOMPLETE "
        "with the checks that blocked it. A run that failed for another reason (the warehouse in use, "
        "memory, a bug) blocks no day and leaves the reports as they are: a person looks at the run.",
    )
    def report_despite_blocked_day(context: dg.RunFailureSensorContext):
        run = context.dagster_run
        return report_request(run, failed_blocking_checks(context.instance, run.run_id))

    @dg.schedule(
        name="shift_handover_at_shift_end",
        job=shift_handover_job,
        cron_schedule=handover_crons(calendar),
        execution_timezone=calendar.timezone,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="At each shift end of the plant's shift pattern: that shift's handover.",
    )
    def shift_handover_at_shift_end(context: dg.ScheduleEvaluationContext):
        ended = calendar.shift_ending_at(context.scheduled_execution_time)
        if ended is None:
            return dg.SkipReason(f"no shift ends at {context.scheduled_execution_time}")
        day, shift = ended
        config = {"day": day.isoformat(), "shift": shift}
        return dg.RunRequest(
            run_key=f"{day.isoformat()}:{shift}",
            run_config={"ops": {"render_one_shift_handover": {"config": config}}},
            tags={"gigafactory/shift": shift, "gigafactory/day": day.isoformat()},
        )

    return [daily_report_schedule, shift_handover_at_shift_end], [report_despite_blocked_day]
