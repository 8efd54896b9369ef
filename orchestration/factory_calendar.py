"""Factory days and shifts: the only place that turns local plant time into UTC windows.

A factory day is named by its local calendar date and starts at the first shift (``day_start_hour``) in the
factory's timezone; it ends 24 local hours later (23 or 25 real hours across a DST change). Shifts follow the
local wall clock too: a night shift across a DST change lasts 7 or 9 real hours (wall clock).
The simulator, the connectors, the partitions, the schedules, the handovers and the detectors all use this
module; the Plant (orchestration/plant.py) resolves the one ``FactoryCalendar`` of a plant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class ShiftSlot:
    """One shift of the pattern, on the local wall clock."""

    name: str
    start: time
    hours: float


@dataclass(frozen=True)
class FactoryCalendar:
    timezone: str  # IANA name, e.g. Europe/Berlin
    day_start_hour: int  # local hour the factory day (its first shift) starts
    shifts: tuple[ShiftSlot, ...] = ()  # in order from the start of the factory day

    def day_window(self, day: date | str) -> tuple[datetime, datetime]:
        """UTC [start, end) of factory day ``day``."""
        day, zone = as_date(day), ZoneInfo(self.timezone)
        start_local = datetime.combine(day, time(self.day_start_hour), tzinfo=zone)
        end_local = datetime.combine(day + timedelta(days=1), time(self.day_start_hour), tzinfo=zone)
        return start_local.astimezone(UTC), end_local.astimezone(UTC)

    def day_of(self, instant: datetime) -> date:
        """The factory day an instant (timezone-aware) belongs to."""
        local = instant.astimezone(ZoneInfo(self.timezone))
        return (local - timedelta(hours=self.day_start_hour)).date()

    def shift(self, name: str) -> ShiftSlot:
        for slot in self.shifts:
            if slot.name == name:
                return slot
        raise ValueError(f"unknown shift {name!r}; the pattern has {[s.name for s in self.shifts]}")

    def shift_window(self, day: date | str, name: str) -> tuple[datetime, datetime]:
        """UTC [start, end) of shift ``name`` of factory day ``day``, by the local wall clock."""
        slot = self.shift(name)
        day = as_date(day)
        start_day = day + timedelta(days=1) if slot.start.hour < self.day_start_hour else day
        start_local = datetime.combine(start_day, slot.start)
        end_local = start_local + timedelta(hours=slot.hours)
        zone = ZoneInfo(self.timezone)
        return (
            start_local.replace(tzinfo=zone).astimezone(UTC),
            end_local.replace(tzinfo=zone).astimezone(UTC),
        )

    def shift_end_times(self) -> dict[str, time]:
        """Shift -> local wall-clock time it ends (the handover)."""
        return {
            slot.name: (datetime.combine(date(2000, 1, 1), slot.start) + timedelta(hours=slot.hours)).time()
            for slot in self.shifts
        }

    def shift_ending_at(self, instant: datetime) -> tuple[date, str] | None:
        """(factory day, shift) of the shift that ends at ``instant`` (timezone-aware), or None."""
        local = instant.astimezone(ZoneInfo(self.timezone))
        for name, end in self.shift_end_times().items():
            if (local.hour, local.minute) == (end.hour, end.minute):
                # the instant just before the end belongs to the shift, and to its factory day
                return self.day_of(instant - timedelta(seconds=1)), name
        return None


def as_date(value: date | str) -> date:
    """A factory day given as a ``date``, a datetime (pandas Timestamps included) or an ISO partition key."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))
