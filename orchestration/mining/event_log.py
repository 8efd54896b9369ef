"""A factory day's process events as a pm4py event log (a pandas DataFrame with pm4py's column names).

Timestamps stay timezone-aware UTC from DuckDB to pm4py: they are converted, never re-parsed from strings,
because pm4py's own date parsing relabels offsets.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

import pandas as pd

from orchestration.factory_calendar import as_date

CASE = "case:concept:name"
ACTIVITY = "concept:name"
TIMESTAMP = "time:timestamp"
START_TIMESTAMP = "start_timestamp"
RESOURCE = "org:resource"
MACHINE = "machine_id"

EVENT_LOG_COLUMNS = [CASE, ACTIVITY, TIMESTAMP, START_TIMESTAMP, RESOURCE, MACHINE]

_EVENTS_SQL = """
select
    case_id as "case:concept:name",
    activity as "concept:name",
    end_ts as "time:timestamp",
    start_ts as "start_timestamp",
    resource as "org:resource",
    machine_id
from marts.fct_process_events
where production_date = ?::date
order by case_id, end_ts, activity, event_id
"""


def to_utc(values: pd.Series) -> pd.Series:
    """Timezone-aware UTC datetimes from DuckDB's TIMESTAMPTZ (any session zone) or naive UTC values."""
    series = pd.to_datetime(values)  # already datetimes: no string parsing happens here
    if series.dt.tz is None:
        return series.dt.tz_localize("UTC")
    return series.dt.tz_convert("UTC")


def empty_event_log() -> pd.DataFrame:
    return pd.DataFrame(
        {
            CASE: pd.Series(dtype="str"),
            ACTIVITY: pd.Series(dtype="str"),
            TIMESTAMP: pd.Series(dtype="datetime64[us, UTC]"),
            START_TIMESTAMP: pd.Series(dtype="datetime64[us, UTC]"),
            RESOURCE: pd.Series(dtype="str"),
            MACHINE: pd.Series(dtype="str"),
        }
    )


def load_event_log(conn, production_date: date | str) -> pd.DataFrame:
    """The day's events from ``marts.fct_process_events``, sorted by case, timestamp (end) and activity."""
    day = as_date(production_date)
    frame = conn.execute(_EVENTS_SQL, [day]).df()
    if frame.empty:
        return empty_event_log()
    frame[TIMESTAMP] = to_utc(frame[TIMESTAMP])
    frame[START_TIMESTAMP] = to_utc(frame[START_TIMESTAMP])
    for column in (CASE, ACTIVITY, RESOURCE, MACHINE):
        frame[column] = frame[column].astype("str")
    return frame[EVENT_LOG_COLUMNS].reset_index(drop=True)


def usable_events(event_log: pd.DataFrame) -> pd.DataFrame:
    """Events with a case, an activity and a timestamp, in case and time order (stable)."""
    if event_log is None or len(event_log) == 0:
        return event_log.iloc[0:0] if event_log is not None else empty_event_log()
    usable = event_log.dropna(subset=[CASE, ACTIVITY, TIMESTAMP])
    return usable.sort_values([CASE, TIMESTAMP], kind="stable")


def complete_cases(event_log: pd.DataFrame, min_share: float = 0.1) -> tuple[pd.DataFrame, str | None]:
    """The cases seen from start to end within the log, and a note on what was left out.

    A factory day cuts batches at both ends: some started the day before, some are still in the line. Mining
    those fragments would make every step look skippable. A case counts as complete when its first activity
    is a frequent start activity and its last a frequent end activity (each at least ``min_share`` of the
    cases), so no route is assumed and logs with several legitimate ends keep them all.
    """
    usable = usable_events(event_log)
    if len(usable) == 0:
        return usable, None
    by_case = usable.groupby(CASE, sort=False)[ACTIVITY]
    first, last = by_case.first(), by_case.last()
    starts = first.value_counts(normalize=True).loc[lambda share: share >= min_share].index
    ends = last.value_counts(normalize=True).loc[lambda share: share >= min_share].index
    complete = first.index[first.isin(starts) & last.isin(ends)]
    if len(complete) in (0, len(first)):
        return usable, None
    kept = usable[usable[CASE].isin(complete)]
    return kept, (
        f"{len(complete)} of {len(first)} cases run from a usual start ({', '.join(sorted(starts))}) "
        f"to a usual end ({', '.join(sorted(ends))}) and are mined; "
        f"{len(first) - len(complete)} cut by the day's boundaries are left out"
    )


def trace_variants(event_log: pd.DataFrame) -> dict[str, tuple[str, ...]]:
    """Case id -> its variant (the tuple of its activities in time order)."""
    usable = usable_events(event_log)
    activities: dict[str, list[str]] = {}
    for case, activity in zip(usable[CASE].tolist(), usable[ACTIVITY].tolist(), strict=True):
        activities.setdefault(case, []).append(activity)
    return {case: tuple(trace) for case, trace in activities.items()}


def variant_counts(event_log: pd.DataFrame) -> list[tuple[tuple[str, ...], int]]:
    """(variant, number of cases), most frequent first; ties broken by the variant itself (deterministic)."""
    return rank_variants(trace_variants(event_log))


def rank_variants(variants_of_case: dict[str, tuple[str, ...]]) -> list[tuple[tuple[str, ...], int]]:
    counts = Counter(variants_of_case.values())
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def variant_log(variants: list[tuple[tuple[str, ...], int]]):
    """A pm4py EventLog holding each variant's trace ``count`` times (the same object: no copies).

    Discovery, token replay and precision then see exactly the cases of the log, at the cost of one trace
    per variant: pm4py replays each distinct trace once."""
    from pm4py.objects.log.obj import Event, EventLog, Trace

    traces: list = []
    for variant, count in variants:
        traces.extend([Trace([Event({ACTIVITY: activity}) for activity in variant])] * count)
    return EventLog(traces)
