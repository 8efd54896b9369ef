"""How the work flows: the directly-follows graph with frequency and waiting times, start and end activities.

One DuckDB query each over the event relation (see case_steps). Edge counts are pm4py's ``discover_dfg``
counts; an edge's waiting time is from the end of the source step to the start of the target step, the
time a batch sat between them (negative where a source overlaps its successor, as on real job shops).
"""

from __future__ import annotations

import pandas as pd

from orchestration.mining.case_steps import CASE_ORDER, activity_code_type, case_steps_sql

DFG_COLUMNS = ["source", "target", "frequency", "mean_wait_s", "median_wait_s", "p95_wait_s"]


def directly_follows(conn, events: str) -> pd.DataFrame:
    """One row per edge source -> target, most frequent first."""
    code = activity_code_type(conn, events)
    return conn.execute(
        f"""
        with steps as (  -- only the columns an edge needs: this is the query that must scale
            select activity::{code} as activity, end_ts,
                   lead(activity::{code}) over case_order as next_activity,
                   lead(start_ts) over case_order as next_start_ts
            from {events}
            window case_order as ({CASE_ORDER})
        ),
        edges as (
            select activity as source, next_activity as target,
                   epoch(next_start_ts) - epoch(end_ts) as wait_s
            from steps where next_activity is not null
        ),
        per_edge as (
            select source::varchar as source, target::varchar as target, count(*) as frequency,
                   avg(wait_s) as mean_wait_s, quantile_cont(wait_s, [0.5, 0.95]) as waits
            from edges group by all
        )
        select source, target, frequency, mean_wait_s, waits[1] as median_wait_s, waits[2] as p95_wait_s
        from per_edge order by frequency desc, source, target
        """
    ).df()


def start_end_activities(conn, events: str) -> pd.DataFrame:
    """How many cases start, resp. end, with each activity: columns kind (start | end), activity, cases."""
    return conn.execute(
        f"""
        with steps as ({case_steps_sql(events)}),
        bounds as (
            select 'start' as kind, activity from steps where previous_activity is null
            union all
            select 'end' as kind, activity from steps where next_activity is null
        )
        select kind, activity, count(*) as cases from bounds
        group by kind, activity order by kind desc, cases desc, activity
        """
    ).df()
