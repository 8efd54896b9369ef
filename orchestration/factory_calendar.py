"""Factory days and shifts: the only place that turns local plant time into UTC windows.

A factory day is named by its local calendar date and starts at the first shift (``day_start_hour``) in the
factory's timezone; it ends 24 local hours later (23 or 25 real hours across a DST change).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class FactoryClock:
    timezone: str
    day_start_hour: int  # local hour the factory day (its first shift) starts


def factory_day_window(day: date, tz: str, day_start_hour: int) -> tuple[datetime, datetime]:
    """UTC [start, end) of factory day ``day``."""
    zone = ZoneInfo(tz)
    start_local = datetime.combine(day, time(day_start_hour), tzinfo=zone)
    end_local = datetime.combine(day + timedelta(days=1), time(day_start_hour), tzinfo=zone)
    return start_local.astimezone(UTC), end_local.astimezone(UTC)


def factory_day_of(instant: datetime, tz: str, day_start_hour: int) -> date:
    """The factory day an instant (timezone-aware) belongs to."""
    local = instant.astimezone(ZoneInfo(tz))
    return (local - timedelta(hours=day_start_hour)).date()


def as_date(value: date | str) -> date:
    """A factory day given as a ``date``, a datetime (pandas Timestamps included) or an ISO partition key."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))
