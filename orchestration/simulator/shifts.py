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


class RunCalendar:
    """The shift calendars of the consecutive days one simulation run spans, on the run's clock.

    The clock's zero is the start of the emitted day ``day``; earlier days sit at negative offsets, and the
    days the run goes on after it (to ``last_day``) at positive ones. Shift indices count on across days, so
    the first batch after any shift change gets its start-up check.
    """

    def __init__(self, config: FactoryConfig, first_day: date, day: date, last_day: date | None = None):
        last_day = last_day or day
        self.target = ShiftCalendar(config, day)
        self.days = [
            self.target if d == day else ShiftCalendar(config, d)
            for d in (first_day + timedelta(days=n) for n in range((last_day - first_day).days + 1))
        ]
        self.offsets_s = [(c.window_start - self.target.window_start).total_seconds() for c in self.days]
        self.length_s = self.target.length_s  # the emitted day
        self.end_s = self.offsets_s[-1] + self.days[-1].length_s  # the run's end
        self._shifts_per_day = len(config.shifts.pattern)

    def _locate(self, clock_s: float) -> tuple[int, float]:
        """(index of the day, seconds into that day) of a run-clock instant; before the first day: day 0."""
        index = max(0, bisect_right(self.offsets_s, clock_s) - 1)
        return index, clock_s - self.offsets_s[index]

    def shift_index_at(self, clock_s: float) -> int:
        index, local = self._locate(clock_s)
        return index * self._shifts_per_day + self.days[index].shift_index_at(local)

    def crew_at(self, clock_s: float) -> str:
        index, local = self._locate(clock_s)
        return self.days[index].crew_at(local)

    def bad_shift_spans(self, config: FactoryConfig, room_id: str) -> list[tuple[float, float, float]]:
        """(start_s, end_s, delta_c) of the planted bad shift in ``room_id`` on the run's days."""
        spans = []
        for calendar, offset in zip(self.days, self.offsets_s, strict=True):
            span = calendar.bad_shift_span(config, room_id)
            if span is not None:
                spans.append((span[0] + offset, span[1] + offset, span[2]))
        return spans
