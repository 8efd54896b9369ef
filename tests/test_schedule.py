"""The 06:30 schedule asks for the factory day that has just ended, in factory time."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from orchestration.definitions import defs
from orchestration.defs.factory_days import factory_clock, factory_days
from orchestration.defs.schedules import daily_report_0630

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("scheduled", "expected_day"),
    [
        (datetime(2026, 11, 10, 6, 30, tzinfo=BERLIN), "2026-11-09"),
        # the night of the spring DST change: the factory day 2026-03-28 lasted 23 hours
        (datetime(2026, 3, 29, 6, 30, tzinfo=BERLIN), "2026-03-28"),
        # the same instant seen in UTC
        (datetime(2026, 11, 10, 5, 30, tzinfo=ZoneInfo("UTC")), "2026-11-09"),
    ],
)
def test_schedule_requests_the_day_that_just_ended(scheduled, expected_day):
    assert factory_clock().timezone == "Europe/Berlin"
    context = dg.build_schedule_context(
        scheduled_execution_time=scheduled, repository_def=defs.get_repository_def()
    )
    run_requests = list(daily_report_0630.evaluate_tick(context).run_requests)
    assert [request.partition_key for request in run_requests] == [expected_day]
    assert expected_day in factory_days.get_partition_keys(current_time=scheduled)


def test_schedule_runs_at_0630_factory_time():
    assert daily_report_0630.cron_schedule == "30 6 * * *"
    assert daily_report_0630.execution_timezone == "Europe/Berlin"
