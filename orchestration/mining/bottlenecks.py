"""Where batches wait: processing versus waiting time per activity and per machine, ranked.

A step's waiting time is from the end of the case's previous step to its own start (queue plus setup); the
first step of a case has none in the log. The stage that limits throughput is the one batches queue
longest for on average: work piles up in front of the slowest stage.
"""

from __future__ import annotations

import pandas as pd

from orchestration.mining.case_steps import case_steps_sql


def _timing_sql(events: str, keys: str) -> str:
    return f"""
        with steps as ({case_steps_sql(events)}),
        timed as (
            select *, case when previous_end_ts is not null
                           then epoch(start_ts) - epoch(previous_end_ts) end as wait_s
            from steps
        ),
        per_key as (
            select {keys},
                   count(*) as executions,
                   avg(processing_s) as mean_processing_s,
                   median(processing_s) as median_processing_s,
                   avg(wait_s) as mean_wait_s,
                   median(wait_s) as median_wait_s,
                   quantile_cont(wait_s, 0.95) as p95_wait_s,
                   sum(processing_s) as total_processing_s,
                   coalesce(sum(wait_s), 0) as total_wait_s
            from timed group by {keys}
        )
        select row_number() over (order by mean_wait_s desc nulls last, {keys}) as rank, *,
               total_wait_s / nullif(total_wait_s + total_processing_s, 0) as wait_share
        from per_key order by rank
    """


def activity_bottlenecks(conn, events: str) -> pd.DataFrame:
    """One row per activity, ranked by mean waiting time; ``limits_throughput`` marks rank 1."""
    frame = conn.execute(_timing_sql(events, "activity")).df()
    frame["limits_throughput"] = frame["rank"] == 1
    return frame


def machine_bottlenecks(conn, events: str) -> pd.DataFrame:
    """One row per machine (and activity it performs), ranked by mean waiting time of its batches."""
    return conn.execute(_timing_sql(events, "machine_id, activity")).df()
