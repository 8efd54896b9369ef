"""The shift calendar of a factory day: shifts, rotating crews, and local plant time on the simulation clock.

The simulation clock counts real seconds from the start of the factory day, so a DST day simply lasts 23 or
25 hours; shift boundaries are local wall-clock times converted once, here.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from orchestration.factory_calendar import FactoryCalendar, ShiftSlot
from orchestration.simulator.config import WEEKDAYS, FactoryConfig


def scenario_calendar(config: FactoryConfig) -> FactoryCalendar:
    """The factory calendar of a scenario: its timezone, first-shift hour and shift pattern."""
    slots = tuple(
        ShiftSlot(name, time.fromisoformat(shift.start), float(shift.hours))
        for name, shift in config.shifts.pattern.items()
    )
    return FactoryCalendar(config.timezone, config.day_start_hour, slots)


@dataclass(frozen=True)
class CrewedShift:
    """A shift of one simulated day: its crew, and its span on the simulation clock."""

    name: str
    crew_id: str
    staffed_headcount: int
    start_s: float  # on the simulation clock
    end_s: float


class ShiftCalendar:
    def __init__(self, config: FactoryConfig, day: date):
        self.day = day
        self._zone = ZoneInfo(config.timezone)
        self._day_start_hour = config.day_start_hour
        self.calendar = scenario_calendar(config)
        self.window_start, self.window_end = self.calendar.day_window(day)
        self.length_s = (self.window_end - self.window_start).total_seconds()
        self._start_offset_s = self.window_start.astimezone(self._zone).utcoffset() / timedelta(seconds=1)
        self.shifts = self._shifts(config)
        self._starts = [slot.start_s for slot in self.shifts]

    def _shifts(self, config: FactoryConfig) -> list[CrewedShift]:
        crews = config.shifts.crews
        # Forward rotation (early -> late -> night -> off, with four crews): every rotation_days each crew
        # moves on by one shift, so the crews of a day are distinct and each gets a rest between shifts.
        offset = self.day.toordinal() // config.shifts.rotation_days
        slots = []
        for position, (name, shift) in enumerate(config.shifts.pattern.items()):
            start, end = self.calendar.shift_window(self.day, name)
            slots.append(
                CrewedShift(
                    name=name,
                    crew_id=crews[(position - offset) % len(crews)],
                    staffed_headcount=shift.staffed_headcount,
                    start_s=(start - self.window_start).total_seconds(),
                    end_s=min((end - self.window_start).total_seconds(), self.length_s),
                )
            )
        return slots

    def _local(self, minutes: float) -> datetime:
        """Naive local wall time (minutes after midnight); before the day start it is the next date."""
        on = self.day if minutes >= self._day_start_hour * 60 else self.day + timedelta(days=1)
        return datetime.combine(on, time()) + timedelta(minutes=minutes)

    def _clock_at_local(self, local: datetime) -> float:
        return (local.replace(tzinfo=self._zone) - self.window_start).total_seconds()

    def clock_at_minutes(self, minutes: float) -> float:
        """Simulation-clock seconds of a local wall time (minutes after midnight) within this factory day."""
        return self._clock_at_local(self._local(minutes % 1440))

    def bad_shift_span(self, config: FactoryConfig, room_id: str) -> tuple[float, float, float] | None:
        """(start_s, end_s, delta_c) of the planted bad shift in ``room_id`` on this day, or None."""
        bad = config.effects.bad_shift
        if bad is None or bad.room != room_id or WEEKDAYS[self.day.weekday()] != bad.weekday:
            return None
        slot = next(s for s in self.shifts if s.name == bad.shift)
        return slot.start_s, slot.end_s, bad.delta_c

    def shift_index_at(self, clock_s: float) -> int:
        """Index of the shift on at ``clock_s``; -1 before the day (the warm-up: the previous night shift)."""
        return bisect_right(self._starts, clock_s) - 1

    def crew_at(self, clock_s: float) -> str:
        return self.shifts[max(0, self.shift_index_at(clock_s))].crew_id

    def local_hour_of_day(self, clock_s):
        """Local wall-clock hour, 0-24, at ``clock_s``: for daily cycles (room climate). On a DST day the
        hours after the change are the clock's, as the detectors' hour-of-day baseline reads them."""
        clock_s = np.asarray(clock_s, dtype=np.float64)
        if clock_s.size == 0:
            return clock_s
        step = 900.0  # UTC offsets change on a quarter hour: sample the zone's offset at each one spanned
        first = int(np.floor(clock_s.min() / step))
        count = int(np.floor(clock_s.max() / step)) - first + 1
        offsets = np.array(
            [
                (self.window_start + timedelta(seconds=(first + k) * step)).astimezone(self._zone).utcoffset()
                / timedelta(seconds=1)
                for k in range(count)
            ]
        )
        change_s = offsets[np.floor(clock_s / step).astype(np.int64) - first] - self._start_offset_s
        return (self._day_start_hour + (clock_s + change_s) / 3600.0) % 24.0


class PlantClock:
    """The simulated plant's one clock: seconds since the start of its first factory day (``first_day``).

    Every day of the plant's life sits at its offset on this clock (DST days are 23 or 25 hours long), so a
    state carried from one day into the next keeps its instants exactly: no day re-bases them. Shift numbers
    count on across days (the day's ordinal times the shifts per day, plus the shift), so the first batch
    after any shift change gets its start-up check, whichever day the run resumed on.
    """

    def __init__(self, config: FactoryConfig):
        self._config = config
        self.first_day: date = config.release.first_day
        self.origin = ShiftCalendar(config, self.first_day).window_start
        self._days: dict[date, ShiftCalendar] = {}
        self._shifts_per_day = len(config.shifts.pattern)

    def day(self, day: date) -> ShiftCalendar:
        if day not in self._days:
            self._days[day] = ShiftCalendar(self._config, day)
        return self._days[day]

    def offset_s(self, day: date) -> float:
        """Where factory day ``day`` starts on the plant's clock."""
        return (self.day(day).window_start - self.origin).total_seconds()

    def _locate(self, clock_s: float) -> tuple[ShiftCalendar, float]:
        """(the factory day, seconds into it) of a plant-clock instant."""
        day = self.first_day + timedelta(days=int(clock_s // 86400))
        while self.offset_s(day) > clock_s:
            day -= timedelta(days=1)
        while self.offset_s(day + timedelta(days=1)) <= clock_s:
            day += timedelta(days=1)
        return self.day(day), clock_s - self.offset_s(day)

    def shift_number_at(self, clock_s: float) -> int:
        calendar, local = self._locate(clock_s)
        return calendar.day.toordinal() * self._shifts_per_day + calendar.shift_index_at(local)

    def crew_at(self, clock_s: float) -> str:
        calendar, local = self._locate(clock_s)
        return calendar.crew_at(local)

    def bad_shift_spans(self, room_id: str, days: list[date]) -> list[tuple[float, float, float]]:
        """(start_s, end_s, delta_c) of the planted bad shift in ``room_id`` on ``days`` (plant clock)."""
        spans = []
        for day in days:
            span = self.day(day).bad_shift_span(self._config, room_id)
            if span is not None:
                offset = self.offset_s(day)
                spans.append((span[0] + offset, span[1] + offset, span[2]))
        return spans
