"""The daily schedule asks for the factory day that has just ended, in factory time, at a time and under a
name that follow the plant's clock; the handovers tick at each shift end of its pattern."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from orchestration.definitions import build_definitions
from orchestration.defs.factory_days import factory_days
from orchestration.defs.schedules import build_schedules, previous_factory_day
from orchestration.factory_calendar import FactoryCalendar
from orchestration.plant import resolve_plant
from tests.conftest import assets_def

BERLIN = ZoneInfo("Europe/Berlin")
# The default plant (the simulated factory, Europe/Berlin, first shift at 06:00), its days over the whole year
# for the schedules' arithmetic (the spring's DST day too): the simulated plant itself starts in November.
_DEFAULT = resolve_plant()
PLANT = dataclasses.replace(
    _DEFAULT, paths=dataclasses.replace(_DEFAULT.paths, partitions_start="2026-01-01")
)


@pytest.fixture(scope="module")
def defs() -> dg.Definitions:
    return build_definitions(PLANT)


def _schedule(defs: dg.Definitions, name: str) -> dg.ScheduleDefinition:
    return next(s for s in defs.schedules if s.name == name)


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
def test_schedule_requests_the_day_that_just_ended(defs, scheduled, expected_day):
    assert PLANT.calendar.timezone == "Europe/Berlin"
    context = dg.build_schedule_context(
        scheduled_execution_time=scheduled, repository_def=defs.get_repository_def()
    )
    run_requests = list(_schedule(defs, "daily_report_0630").evaluate_tick(context).run_requests)
    assert [request.partition_key for request in run_requests] == [expected_day]
    assert expected_day in factory_days(PLANT).get_partition_keys(current_time=scheduled)


def test_schedule_runs_at_0630_factory_time(defs):
    schedule = _schedule(defs, "daily_report_0630")
    assert schedule.cron_schedule == "30 6 * * *"
    assert schedule.execution_timezone == "Europe/Berlin"


def test_a_plant_whose_day_starts_at_five_is_reported_at_0530_under_that_name():
    early = FactoryCalendar("America/Chicago", 5, PLANT.calendar.shifts)
    plant = dataclasses.replace(PLANT, calendar=early)
    job = dg.define_asset_job("daily_factory_job")
    schedules, _ = build_schedules(plant, job, dg.define_asset_job("daily_report_job"), job)
    daily = schedules[0]
    assert (daily.name, daily.cron_schedule, daily.execution_timezone) == (
        "daily_report_0530",
        "30 5 * * *",
        "America/Chicago",
    )
    # 05:30 in Chicago on 10 November: the factory day of the 9th has just ended
    assert previous_factory_day(early, datetime(2026, 11, 10, 11, 30, tzinfo=UTC)) == "2026-11-09"
    days = factory_days(plant)
    assert (days.timezone, days.hour_offset) == ("America/Chicago", 5)


def _ticks(schedule, first_utc: datetime, count: int) -> list[datetime]:
    """The schedule's next ``count`` tick times after ``first_utc``, as Dagster computes them."""
    from dagster._utils.schedules import cron_string_iterator

    ticks = []
    for cron in schedule.cron_schedule:
        iterator = cron_string_iterator(first_utc.timestamp(), cron, schedule.execution_timezone)
        ticks += [next(iterator) for _ in range(count)]
    return sorted(ticks)[:count]


@pytest.mark.parametrize(
    "first", [datetime(2026, 3, 27, 12, tzinfo=UTC), datetime(2026, 10, 23, 12, tzinfo=UTC)]
)
def test_shift_handover_ticks_at_each_shift_end_local_time_across_dst(defs, first):
    shift_handover_at_shift_end = _schedule(defs, "shift_handover_at_shift_end")
    ticks = _ticks(shift_handover_at_shift_end, first, 9)
    assert [t.astimezone(BERLIN).strftime("%H:%M") for t in ticks[:3]] == ["14:00", "22:00", "06:00"]
    assert {t.astimezone(BERLIN).hour for t in ticks} == {6, 14, 22}  # the wall clock, before and after DST
    assert len({t.utcoffset() for t in (t.astimezone(BERLIN) for t in ticks)}) == 2  # the change is inside
    requests = []
    for tick in ticks:
        context = dg.build_schedule_context(
            scheduled_execution_time=tick, repository_def=defs.get_repository_def()
        )
        requests += list(shift_handover_at_shift_end.evaluate_tick(context).run_requests)
    configs = [r.run_config["ops"]["render_one_shift_handover"]["config"] for r in requests]
    day = first.date().isoformat()
    assert configs[:3] == [
        {"day": day, "shift": "early"},
        {"day": day, "shift": "late"},
        {"day": day, "shift": "night"},
    ]
    assert len({r.run_key for r in requests}) == 9


@pytest.fixture(scope="module")
def blocked_run():
    """A real failed run of one factory day: a blocking check fails, the asset behind it is not reached."""
    days = factory_days(PLANT)

    @dg.asset(partitions_def=days, key=["raw", "toy_events"])
    def toy_events():
        return dg.MaterializeResult()

    @dg.asset_check(asset=toy_events, blocking=True, name="toy_events_meets_expectations")
    def toy_events_meets_expectations():
        return dg.AssetCheckResult(passed=False)

    @dg.asset(partitions_def=days, deps=[toy_events], key=["marts", "toy_mart"])
    def toy_mart():
        return dg.MaterializeResult()

    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        [toy_events, toy_events_meets_expectations, toy_mart],
        partition_key="2026-01-07",
        instance=instance,
        raise_on_error=False,
    )
    assert not result.success
    return instance, instance.get_run_by_id(result.run_id)


def test_a_blocked_day_still_gets_its_reports_naming_the_failed_check(blocked_run):
    from orchestration.defs.reports import BLOCKED_CHECKS_TAG
    from orchestration.defs.schedules import failed_blocking_checks, report_request

    instance, run = blocked_run
    failed = failed_blocking_checks(instance, run.run_id)
    assert failed == ["toy_events_meets_expectations"]
    request = report_request(run, failed)
    assert request.partition_key == "2026-01-07"
    assert request.tags[BLOCKED_CHECKS_TAG] == "toy_events_meets_expectations"
    # a range run carries no single partition: isolate_blocked_days splits it first
    range_run = dg.DagsterRun(
        job_name=run.job_name, run_id="range", tags={"dagster/asset_partition_range_start": "2026-01-01"}
    )
    assert isinstance(report_request(range_run, failed), dg.SkipReason)
    # a run that failed for another reason (the warehouse in use, a bug) blocks nothing and reports nothing
    assert isinstance(report_request(run, []), dg.SkipReason)


def test_the_report_asset_marks_every_role_incomplete_when_a_check_blocked(defs, tmp_path):
    """The report job launched by the sensor: the reports go out, INCOMPLETE, naming the blocking check."""
    from orchestration.defs.reports import BLOCKED_CHECKS_TAG
    from orchestration.defs.resources import OperationalState, ReportShelf, Warehouse
    from tests.test_reporting import build_warehouse

    warehouse = tmp_path / "warehouse.duckdb"
    build_warehouse(warehouse, None)
    result = dg.materialize(
        [assets_def(defs, "reports", "daily_report")],
        partition_key="2026-01-07",
        resources={
            "plant": PLANT,
            "warehouse": Warehouse(database=str(warehouse)),
            "reports": ReportShelf(reports_dir=str(tmp_path / "reports")),
            "state": OperationalState(path=str(tmp_path / "state.duckdb")),
        },
        tags={BLOCKED_CHECKS_TAG: "production_events_meets_expectations"},
    )
    assert result.success
    for role in ("director", "production", "quality", "maintenance", "finance"):
        html = (tmp_path / "reports" / "2026-01-07" / "daily" / f"{role}.html").read_text()
        assert "INCOMPLETE" in html and "blocking check production_events_meets_expectations failed" in html
    metadata = result.asset_materializations_for_node("reports__daily_report")[0].metadata
    assert "production_events_meets_expectations" in str(metadata["incomplete"].value)
