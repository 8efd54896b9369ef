"""How the work flows: the directly-follows graph with frequency and waiting times, start and end activities.

From the steps counted once (see step_counts, step_facts). Edge counts are pm4py's ``discover_dfg``
counts; an edge's waiting time is from the end of the source step to the start of the target step, the
time a batch sat between them (0 where a source overlaps its successor, as pm4py clamps it; see case_steps).
"""

from __future__ import annotations

import pandas as pd

from orchestration.mining.step_counts import count_steps

DFG_COLUMNS = ["source", "target", "frequency", "mean_wait_s", "median_wait_s", "p95_wait_s"]


def directly_follows(conn, events: str) -> pd.DataFrame:
    """One row per edge source -> target, most frequent first (variants.flow_and_variants gives the variants
    from the same pass)."""
    frame = count_steps(conn, events, min_share=0.0)
    return edges_in_order(frame[frame["part"] == "edge"])


def edges_in_order(dfg: pd.DataFrame) -> pd.DataFrame:
    ordered = dfg.sort_values(["frequency", "source", "target"], ascending=[False, True, True], kind="stable")
    return ordered[DFG_COLUMNS].astype({"frequency": "int64"}).reset_index(drop=True)


def start_end_activities(conn, facts: str) -> pd.DataFrame:
    """How many cases start, resp. end, with each activity: columns kind (start | end), activity, cases;
    from the step facts table ``facts`` (see step_facts)."""
    return conn.execute(
        f"""
        with steps as (select * from {facts} where fact = 'flags'),
        bounds as (
            select 'start' as kind, activity, steps from steps where is_first
            union all
            select 'end' as kind, activity, steps from steps where is_last
        )
        select kind, activity, sum(steps)::bigint as cases from bounds
        group by kind, activity order by kind desc, cases desc, activity
        """
    ).df()
