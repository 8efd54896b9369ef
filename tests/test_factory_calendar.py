"""The factory calendar: day and shift windows in UTC across both DST changes (Europe/Berlin, 2026)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from orchestration.factory_calendar import FactoryCalendar, ShiftSlot

BERLIN = FactoryCalendar(
    "Europe/Berlin",
    6,
    (ShiftSlot("early", time(6), 8), ShiftSlot("late", time(14), 8), ShiftSlot("night", time(22), 8)),
)
SPRING = date(2026, 3, 29)  # 02:00 local -> 03:00
AUTUMN = date(2026, 10, 25)  # 03:00 local -> 02:00


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def hours(window: tuple[datetime, datetime]) -> float:
    return (window[1] - window[0]).total_seconds() / 3600


def test_an_ordinary_day_runs_from_the_first_shift_for_24_hours():
    assert BERLIN.day_window(date(2026, 6, 1)) == (utc(2026, 6, 1, 4), utc(2026, 6, 2, 4))
    assert BERLIN.day_window("2026-01-10") == (utc(2026, 1, 10, 5), utc(2026, 1, 11, 5))


def test_factory_days_across_dst_last_23_and_25_hours_and_tile_the_timeline():
    # the DST change falls in the night after the named day's start: days 28.3. and 24.10. carry it
    assert hours(BERLIN.day_window(date(2026, 3, 28))) == 23
    assert hours(BERLIN.day_window(date(2026, 10, 24))) == 25
    assert BERLIN.day_window(SPRING) == (utc(2026, 3, 29, 4), utc(2026, 3, 30, 4))
    for first in (date(2026, 3, 27), date(2026, 10, 23)):
        days = [date.fromordinal(first.toordinal() + i) for i in range(4)]
        windows = [BERLIN.day_window(d) for d in days]
        assert all(a[1] == b[0] for a, b in zip(windows, windows[1:], strict=False))


def test_day_of_at_the_boundaries():
    start, end = BERLIN.day_window(date(2026, 10, 24))
    assert BERLIN.day_of(start) == date(2026, 10, 24)
    assert BERLIN.day_of(end - timedelta(seconds=1)) == date(2026, 10, 24)
    assert BERLIN.day_of(end) == date(2026, 10, 25)
    # 05:59 local belongs to the previous factory day
    assert BERLIN.day_of(utc(2026, 6, 2, 3, 59)) == date(2026, 6, 1)
    assert BERLIN.day_of(utc(2026, 6, 2, 4, 0)) == date(2026, 6, 2)


def test_a_night_shift_across_dst_lasts_7_or_9_real_hours():
    assert hours(BERLIN.shift_window(date(2026, 3, 28), "night")) == 7
    assert hours(BERLIN.shift_window(date(2026, 10, 24), "night")) == 9
    assert BERLIN.shift_window(date(2026, 10, 24), "night") == (utc(2026, 10, 24, 20), utc(2026, 10, 25, 5))
    assert hours(BERLIN.shift_window(date(2026, 10, 24), "early")) == 8
    # the three shifts of a DST day cover its day window without gap
    windows = [BERLIN.shift_window(date(2026, 3, 28), s.name) for s in BERLIN.shifts]
    assert windows[0][0] == BERLIN.day_window(date(2026, 3, 28))[0]
    assert windows[-1][1] == BERLIN.day_window(date(2026, 3, 28))[1]
    assert all(a[1] == b[0] for a, b in zip(windows, windows[1:], strict=False))


def test_a_shift_starting_after_midnight_belongs_to_the_previous_factory_day():
    cal = FactoryCalendar(
        "Europe/Berlin", 22, (ShiftSlot("night", time(22), 8), ShiftSlot("early", time(6), 16))
    )
    assert cal.shift_window(date(2026, 6, 1), "early") == (utc(2026, 6, 2, 4), utc(2026, 6, 2, 20))


def test_shift_ending_at_names_the_shift_and_its_factory_day():
    assert BERLIN.shift_end_times() == {"early": time(14), "late": time(22), "night": time(6)}
    # the night shift of 24.10. ends at 06:00 local on 25.10. (05:00 UTC after the change)
    assert BERLIN.shift_ending_at(utc(2026, 10, 25, 5)) == (date(2026, 10, 24), "night")
    assert BERLIN.shift_ending_at(utc(2026, 6, 1, 12)) == (date(2026, 6, 1), "early")
    assert BERLIN.shift_ending_at(utc(2026, 6, 1, 12, 30)) is None


def test_an_unknown_shift_is_named_with_the_known_ones():
    with pytest.raises(ValueError, match=r"'swing'.*early.*late.*night"):
        BERLIN.shift_window(SPRING, "swing")
