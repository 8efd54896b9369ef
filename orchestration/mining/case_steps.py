"""The event log as DuckDB SQL: a case's steps in order, the base of all flow statistics.

The statistics run in the warehouse, not in pandas, so they scale with it. They read any relation (table,
view or ``read_parquet(...)``) with the columns of ``EVENT_COLUMNS``; ``event_seq`` breaks ties between
steps of a case that end at the same instant (the mart's event id, a source file's row number), in the same
way pm4py breaks them by the frame's row order.

Interval logs follow pm4py's semantics (pm4py 2.7, ``df_statistics.get_dfg_graph`` and
``case_statistics.get_cases_description``, checked against it in tests/test_mining_real_logs.py): a case's
steps are ordered by start, then end, then row for the directly-follows graph, but a case's variant takes its
activities by end, then row, as pm4py's variants and miners do (the two differ only where steps overlap);
an edge's wait runs from the source's end to the target's start,
clamped at 0 where they overlap (pm4py's performance DFG with a start timestamp key); a case's throughput time
runs from its first end to its last end (pm4py's case duration). A log without start times has start = end,
for which all three are the plain end-ordered figures.
"""

from __future__ import annotations

from datetime import date

from orchestration.factory_calendar import as_date

EVENT_COLUMNS = ("case_id", "activity", "machine_id", "shift_id", "start_ts", "end_ts", "event_seq")

# A case's steps in time order: by start, then end (pm4py's sort of an interval log), then the tie-breaker.
CASE_ORDER = "partition by case_id order by start_ts, end_ts, event_seq"
# A case's variant: its activities by end, then the tie-breaker, as pm4py's get_variants and its miners read
# a formatted frame (sorted by case and timestamp, the end); the same as CASE_ORDER unless steps overlap.
VARIANT_ORDER = "end_ts, event_seq"


def activity_code_type(conn, events: str) -> str:
    """An ENUM type of the relation's activities, to sort and group by a one-byte code rather than a string
    (a third less time on 10M events); VARCHAR when there are none."""
    activities = [a for (a,) in conn.execute(f"select distinct activity from {events} order by 1").fetchall()]
    quoted = ", ".join("'" + a.replace("'", "''") + "'" for a in activities if a is not None)
    return f"enum({quoted})" if quoted else "varchar"


def step_sequence_sql(events: str, code: str, overlapping: bool = True) -> str:
    """Each step with the step after it, its case's route and its case's first and last end (over a frame of
    the whole case: pm4py's case duration). The route is one character per activity (see route_character),
    a few bytes, not a list.
    Activities as ``code`` (see activity_code_type). One sort-based window pass; step_counts.count_steps
    feeds it a bucket of cases at a time, so it stays within memory at any size. ``overlapping`` False (every
    step an instant, start = end): the variant order is the case order, one sort less."""
    character = route_character("activity", code)
    route = (
        f"string_agg({character}, '' order by {VARIANT_ORDER}) over (partition by case_id)"
        if overlapping
        else f"string_agg({character}, '') over whole_case"
    )
    return f"""
        select case_id, activity, end_ts, {route} as route,
               min(end_ts) over whole_case as first_end_ts,
               max(end_ts) over whole_case as last_end_ts,
               lead(activity) over case_order as next_activity,
               lead(start_ts) over case_order as next_start_ts
        from (select case_id, activity::{code} as activity, start_ts, end_ts, event_seq from {events})
        window case_order as ({CASE_ORDER}),
               whole_case as (case_order rows between unbounded preceding and unbounded following)
    """


def route_character(activity: str, code: str) -> str:
    """An activity as one character, its code in the ENUM ``code`` from a base character; route_activities
    reverses it. (A window aggregate runs in the window's order, so the characters follow the case's steps.)
    """
    return f"chr({_route_base(code)} + enum_code({activity})::integer)" if code.startswith("enum") else "'?'"


def route_activities(route: str, code: str) -> str:
    """The activities (VARCHAR[]) of a route of route_character's."""
    if not code.startswith("enum"):
        return "[]::varchar[]"
    base = _route_base(code)
    activity = f"enum_range(null::{code})[ord(c) - {base} + 1]"
    return f"list_transform(string_split({route}, ''), lambda c: {activity})::varchar[]"


def _route_base(code: str) -> int:
    """'A': one byte a step for up to 62 activities; beyond, CJK ideographs (3 bytes, none of them combining
    marks that would join their neighbour when the route is split into characters). Over-counting the
    activities (a name holding "', '") only picks the wider one."""
    return 65 if code.count("', '") + 1 <= 62 else 0x4E00


def mart_events_sql(
    first_day: date | str, last_day: date | str, mart: str = "marts.fct_process_events"
) -> str:
    """The mart's events of the factory days ``first_day`` .. ``last_day`` in the statistics' columns
    (``mart``: the relation holding marts.fct_process_events, e.g. a Spark session's view of its Parquet)."""
    first, last = as_date(first_day).isoformat(), as_date(last_day).isoformat()
    return f"""
        select case_id, activity, machine_id, shift_id, start_ts, end_ts, event_id as event_seq
        from {mart}
        where production_date between date '{first}' and date '{last}'
          and case_id is not null and activity is not null and end_ts is not null
    """
