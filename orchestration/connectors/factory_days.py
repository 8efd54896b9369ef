"""Loaded events cut into factory days, the unit the lake and every daily partition work in.

An event belongs to the factory day in which it starts (a step running past the day's end stays in the day it
started, as the raw-table checks expect). Day boundaries come from ``orchestration.factory_calendar`` only.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.factory_calendar import FactoryCalendar


def split_by_factory_day(events: pa.Table, calendar: FactoryCalendar) -> dict[str, pa.Table]:
    """ISO factory day -> that day's events (rows in their original order), days in calendar order."""
    if events.num_rows == 0:
        return {}
    starts = pc.cast(events["start_ts"], pa.timestamp("us", tz="UTC"))
    # A first guess of each event's day, vectorised; the calendar's own windows then decide every row.
    local = pd.Series(starts.to_pandas()).dt.tz_convert(calendar.timezone) - pd.Timedelta(
        hours=calendar.day_start_hour
    )
    candidates = sorted({stamp.date() for stamp in local})
    days: dict[str, pa.Table] = {}
    assigned = 0
    for day in _with_neighbours(candidates):
        window_start, window_end = calendar.day_window(day)
        inside = pc.and_(
            pc.greater_equal(starts, pa.scalar(window_start, pa.timestamp("us", tz="UTC"))),
            pc.less(starts, pa.scalar(window_end, pa.timestamp("us", tz="UTC"))),
        )
        count = pc.sum(inside).as_py() or 0
        if count:
            days[day.isoformat()] = events.filter(inside)
            assigned += count
    if assigned != events.num_rows:  # the windows tile time: only a broken calendar gets here
        raise ValueError(f"{events.num_rows - assigned} events fall outside every factory day window")
    return days


def _with_neighbours(days: list[date]) -> list[date]:
    # DST days are 23 or 25 hours long: look one day either side of each guess so no event is missed.
    return sorted({day + timedelta(days=shift) for day in days for shift in (-1, 0, 1)})
