"""The factory's calendar as Dagster sees it: one partition per factory day, in the factory's timezone."""

from datetime import date, datetime
from functools import cache

import dagster as dg

from orchestration.factory_calendar import factory_day_window
from orchestration.settings import load_settings
from orchestration.simulator import load_scenario


@cache
def factory_config():
    return load_scenario(load_settings().scenario_path)


def day_window(day: str) -> tuple[datetime, datetime]:
    config = factory_config()
    return factory_day_window(date.fromisoformat(day), config.timezone, config.day_start_hour)


# Partition "2026-11-09" is the factory day that starts at the first shift of 9 November, local time.
factory_days = dg.DailyPartitionsDefinition(
    start_date=load_settings().partitions_start,
    timezone=factory_config().timezone,
    hour_offset=factory_config().day_start_hour,
)
