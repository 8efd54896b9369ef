"""The factory's calendar as Dagster sees it: one partition per factory day, in the factory's timezone.

The calendar belongs to the source: the simulated factory's scenario, or the plant export's mapping
(``GIGAFACTORY_SOURCE``), whose ``factory`` section names the plant's timezone and first-shift hour.
"""

from datetime import date, datetime
from functools import cache

import dagster as dg

from orchestration.connectors import load_mapping
from orchestration.factory_calendar import FactoryClock, factory_day_window
from orchestration.settings import load_settings
from orchestration.simulator import load_scenario


@cache
def factory_clock() -> FactoryClock:
    settings = load_settings()
    if settings.source_mapping is not None:
        mapping = load_mapping(settings.source_mapping)
        return FactoryClock(mapping.factory_timezone, mapping.day_start_hour)
    config = load_scenario(settings.scenario_path)
    return FactoryClock(config.timezone, config.day_start_hour)


def day_window(day: str) -> tuple[datetime, datetime]:
    clock = factory_clock()
    return factory_day_window(date.fromisoformat(day), clock.timezone, clock.day_start_hour)


# Partition "2026-11-09" is the factory day that starts at the first shift of 9 November, local time.
factory_days = dg.DailyPartitionsDefinition(
    start_date=load_settings().partitions_start,
    timezone=factory_clock().timezone,
    hour_offset=factory_clock().day_start_hour,
)
