"""A blocked day stops only itself, in backfills launched from the UI too.

Range backfills run as one run (single-run policy: one dbt invocation, one DuckDB writer). When such a run
fails because a blocking check failed, this sensor launches the same selection again for each half of its
range; the halves that pass materialize, and the split goes on down to the blocked day, which stays blocked.
The command-line driver (orchestration/backfill.py) does the same within one process.
"""

import dagster as dg

from orchestration.partition_ranges import RANGE_END, RANGE_START, days_between, halves


def split_requests(run: dg.DagsterRun) -> list[dg.RunRequest]:
    """Run requests for the two halves of a failed range run, with its asset and check selection."""
    first, last = run.tags.get(RANGE_START), run.tags.get(RANGE_END)
    if not first or not last or first == last:
        return []
    requests = []
    for half in halves(days_between(first, last)):
        window = {RANGE_START: half[0], RANGE_END: half[-1]} if len(half) > 1 else {}
        requests.append(
            dg.RunRequest(
                run_key=f"{run.run_id}:{half[0]}..{half[-1]}",
                partition_key=half[0] if len(half) == 1 else None,
                tags={**window, "gigafactory/split_of": run.run_id},
                asset_selection=list(run.asset_selection) if run.asset_selection else None,
                asset_check_keys=list(run.asset_check_selection) if run.asset_check_selection else None,
            )
        )
    return requests


def isolate_blocked_days(context: dg.RunFailureSensorContext):
    errors = [
        event.step_failure_data.error.message if event.step_failure_data.error else ""
        for event in context.get_step_failure_events()
    ]
    if not any("blocking asset check" in error for error in errors):  # a person should look, not a retry loop
        return dg.SkipReason(f"run {context.dagster_run.run_id} failed for another reason")
    requests = split_requests(context.dagster_run)
    return requests or dg.SkipReason("a single day: it stays blocked")


def build_isolation(daily_job) -> dg.SensorDefinition:
    return dg.run_failure_sensor(
        name="isolate_blocked_days",
        request_job=daily_job,
        # a few queries on the run's events: looking every 10 s (not the default 30) resumes the good days
        # of a stopped range without a noticeable wait
        minimum_interval_seconds=10,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Re-runs each half of a range run a blocking check stopped: only the bad day stays "
        "blocked.",
    )(isolate_blocked_days)
