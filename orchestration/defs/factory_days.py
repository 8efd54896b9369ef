"""The factory's calendar as Dagster sees it: one partition per factory day, in the factory's timezone."""

import dagster as dg

from orchestration.plant import Plant


def factory_days(plant: Plant) -> dg.DailyPartitionsDefinition:
    """Partition "2026-11-09" is the factory day that starts at the first shift of 9 November, local time."""
    return dg.DailyPartitionsDefinition(
        start_date=plant.partitions_start,
        timezone=plant.calendar.timezone,
        hour_offset=plant.calendar.day_start_hour,
    )
