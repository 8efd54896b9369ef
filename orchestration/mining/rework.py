"""Rework: loops back to a step the batch already did, and repeated activities, with their rates.

A loop is a directly-follows edge source -> target whose target the case already did (target = source: the
step is repeated at once). Its rate is the share of the source's executions that sent the batch back, i.e.
the share of passes that failed the check. Rates by machine and by shift are those of the pass that was
sent back (the machine and shift whose work failed). Both read the step facts table (see step_facts).
"""

from __future__ import annotations

import pandas as pd


def rework_loops(conn, facts: str) -> pd.DataFrame:
    """One row per loop source -> target: loops, the source's executions and the rate, highest rate first."""
    return conn.execute(
        f"""
        with steps as (select * from {facts} where fact = 'flags'),
        executions as (select activity, sum(steps)::bigint as executions from steps group by activity),
        loops as (
            select activity as source, next_activity as target, sum(steps)::bigint as loops
            from steps where is_sent_back group by all
        )
        select row_number() over (order by loops / executions desc, loops desc, source, target) as rank,
               source, target, loops, executions, loops / executions as rate
        from loops join executions on executions.activity = loops.source
        order by rank
        """
    ).df()


def rework_rates(conn, facts: str) -> pd.DataFrame:
    """Rework rates by activity, by machine and by shift: columns grain (activity | machine | shift), key,
    activity, executions, sent_back (passes sent back), sent_back_rate, repeats (executions of an activity
    the case already did) and repeat_rate."""
    return conn.execute(
        f"""
        with steps as (select * from {facts} where fact = 'flags'),
        grains as (
            select 'activity' as grain, activity as key, activity, is_sent_back, is_repeat, steps from steps
            union all
            select 'machine', machine_id, activity, is_sent_back, is_repeat, steps from steps
            union all
            select 'shift', shift_id, activity, is_sent_back, is_repeat, steps from steps
        ),
        counted as (
            select grain, key, activity, sum(steps)::bigint as executions,
                   coalesce(sum(steps) filter (where is_sent_back), 0)::bigint as sent_back,
                   coalesce(sum(steps) filter (where is_repeat), 0)::bigint as repeats
            from grains group by all
        )
        select grain, key, activity, executions, sent_back, sent_back / executions as sent_back_rate,
               repeats, repeats / executions as repeat_rate
        from counted
        order by grain, sent_back_rate desc, key, activity
        """
    ).df()
