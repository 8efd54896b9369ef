"""Rework: loops back to a step the batch already did, and repeated activities, with their rates.

A loop is a directly-follows edge source -> target whose target the case already did (target = source: the
step is repeated at once). Its rate is the share of the source's executions that sent the batch back, i.e.
the share of passes that failed the check. Rates by machine and by shift are those of the pass that was
sent back (the machine and shift whose work failed).
"""

from __future__ import annotations

import pandas as pd

from orchestration.mining.case_steps import case_steps_sql


def _steps_with_loops(events: str) -> str:
    # A step is sent back when the case's next activity is one it already did before (or this one again).
    return f"""
        with steps as ({case_steps_sql(events)}),
        seen as (
            select *, list(activity) over (partition by case_id order by position
                                           rows between unbounded preceding and current row) as done
            from steps
        )
        select *, next_activity is not null and list_contains(done, next_activity) as is_sent_back
        from seen
    """


def rework_loops(conn, events: str) -> pd.DataFrame:
    """One row per loop source -> target: loops, the source's executions and the rate, highest rate first."""
    return conn.execute(
        f"""
        with steps as ({_steps_with_loops(events)}),
        executions as (select activity, count(*) as executions from steps group by activity),
        loops as (
            select activity as source, next_activity as target, count(*) as loops
            from steps where is_sent_back group by all
        )
        select row_number() over (order by loops / executions desc, loops desc, source, target) as rank,
               source, target, loops, executions, loops / executions as rate
        from loops join executions on executions.activity = loops.source
        order by rank
        """
    ).df()


def rework_rates(conn, events: str) -> pd.DataFrame:
    """Rework rates by activity, by machine and by shift: columns grain (activity | machine | shift), key,
    activity, executions, sent_back (passes sent back), sent_back_rate, repeats (executions of an activity
    the case already did) and repeat_rate."""
    return conn.execute(
        f"""
        with steps as ({_steps_with_loops(events)}),
        grains as (
            select 'activity' as grain, activity as key, activity, is_sent_back, is_repeat from steps
            union all
            select 'machine', machine_id, activity, is_sent_back, is_repeat from steps
            union all
            select 'shift', shift_id, activity, is_sent_back, is_repeat from steps
        )
        select grain, key, activity, count(*) as executions,
               count(*) filter (where is_sent_back) as sent_back,
               count(*) filter (where is_sent_back) / count(*) as sent_back_rate,
               count(*) filter (where is_repeat) as repeats,
               count(*) filter (where is_repeat) / count(*) as repeat_rate
        from grains group by all
        order by grain, sent_back_rate desc, key, activity
        """
    ).df()
