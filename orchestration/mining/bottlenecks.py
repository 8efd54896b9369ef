"""Where batches wait: processing versus waiting time per activity and per machine, ranked.

A step's waiting time is from the end of the case's previous step to its own start (queue plus setup); the
first step of a case has none in the log. The stage that limits throughput is the one batches queue
longest for on average: work piles up in front of the slowest stage.
"""

from __future__ import annotations

import pandas as pd

from orchestration.mining.step_counts import EXPAND_STEPS, counted_steps, weighted_summary_sql


def _timing_sql(facts: str, keys: list[str], expand: bool) -> str:
    """Per ``keys``, from the step facts table ``facts`` (see step_facts)."""
    processing = f"select * from {facts} where fact = 'processing'"
    processing = weighted_summary_sql(processing, keys, (0.5,), expand=expand)
    waits = f"select * from {facts} where fact = 'wait'"
    waits = weighted_summary_sql(waits, keys, (0.5, 0.95), expand=expand)
    same_key = " and ".join(f"p.{k} is not distinct from w.{k}" for k in keys)
    return f"""
        with processing as ({processing}),
        waits as ({waits}),
        per_key as (
            select {", ".join(f"p.{k}" for k in keys)},
                   p.frequency as executions,
                   p.mean_s as mean_processing_s,
                   p.quantiles[1] as median_processing_s,
                   w.mean_s as mean_wait_s,
                   w.quantiles[1] as median_wait_s,
                   w.quantiles[2] as p95_wait_s,
                   p.total_s as total_processing_s,
                   coalesce(w.total_s, 0) as total_wait_s
            from processing p join waits w on {same_key}
        )
        select row_number() over (order by mean_wait_s desc nulls last, {", ".join(keys)}) as rank, *,
               total_wait_s / nullif(total_wait_s + total_processing_s, 0) as wait_share
        from per_key order by rank
    """


def activity_bottlenecks(conn, facts: str) -> pd.DataFrame:
    """One row per activity, ranked by mean waiting time; ``limits_throughput`` marks rank 1."""
    frame = conn.execute(_timing_sql(facts, ["activity"], _expand(conn, facts))).df()
    frame["limits_throughput"] = frame["rank"] == 1
    return frame


def machine_bottlenecks(conn, facts: str) -> pd.DataFrame:
    """One row per machine (and activity it performs), ranked by mean waiting time of its batches."""
    return conn.execute(_timing_sql(facts, ["machine_id", "activity"], _expand(conn, facts))).df()


def _expand(conn, facts: str) -> bool:
    return counted_steps(conn, f"(select steps from {facts} where fact = 'processing')") <= EXPAND_STEPS
