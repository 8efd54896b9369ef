"""The steps of an event log counted once for the directly-follows graph and the route variants, at any size.

One sort of the events (case_steps.step_sequence_sql) gives every step its successor: a step with one is an
edge of the graph, with its wait; a case's last step stands for the case, with its route and throughput time.
They are counted per (edge, wait) and per (route, throughput time), so the means and the exact quantiles
come from the counted values and counts add up across buckets of cases.
"""

from __future__ import annotations

import pandas as pd

from orchestration.mining.buckets import BUCKET_EVENTS, case_buckets, temp_table
from orchestration.mining.case_steps import activity_code_type, route_activities, step_sequence_sql

WAIT_QUANTILES = (0.5, 0.95)
# Up to this many counted steps, summaries expand the counts back into rows and use DuckDB's own aggregates: a
# smaller query whose planning no longer outweighs the work (3-4x faster at 10k events); beyond, the ranks are
# read off running counts, which never holds a row per step.
EXPAND_STEPS = 1_000_000
THROUGHPUT_QUANTILES = (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 1.0)


def count_steps(
    conn, events: str, min_share: float | None, bucket_events: int = BUCKET_EVENTS
) -> pd.DataFrame:
    """count_step_rows as a frame."""
    return pd.DataFrame(count_step_rows(conn, events, min_share, bucket_events), columns=STEP_COLUMNS)


# The columns of count_step_rows' rows, in the order of _flow_and_variants_sql's union.
STEP_COLUMNS = [
    "part",
    "source",
    "target",
    "frequency",
    "mean_wait_s",
    "median_wait_s",
    "p95_wait_s",
    "variant",
    "is_complete",
    "is_total",
    "cases",
    "mean_throughput_s",
    "throughput_quantiles",
]


def count_step_rows(
    conn, events: str, min_share: float | None, bucket_events: int = BUCKET_EVENTS
) -> list[tuple]:
    """The edges (``part`` = edge: source, target, frequency, mean/median/p95 wait) and the variants
    (``part`` = variant: per route and completeness, and per completeness over all routes, ``is_total``:
    cases, mean throughput and its THROUGHPUT_QUANTILES) of ``events``. A complete case runs from a usual
    start (at least ``min_share`` of the cases) to a usual end; with ``min_share`` None or 0 every case is.

    The counts go to a temporary table, a bucket of whole cases at a time (see buckets) when the log holds
    more than ``bucket_events`` events; the result does not depend on the buckets."""
    code = activity_code_type(conn, events)
    total, overlapping = conn.execute(
        f"select count(*), coalesce(bool_or(start_ts <> end_ts), false) from {events}"
    ).fetchone()
    buckets = case_buckets(conn, events, bucket_events, total)
    expand = total <= EXPAND_STEPS
    if len(buckets) == 1:  # one query, no table: at 10k events the fixed costs are most of the time
        counts = f"counts as materialized ({_step_counts_sql(events, code, overlapping)})"
        return conn.execute(_flow_and_variants_sql("counts", min_share, code, expand, counts)).fetchall()
    columns = f"activity {code}, next_activity {code}, route varchar, seconds double, steps bigint"
    with temp_table(conn, "step_counts", columns) as counts:
        for bucket in buckets:
            conn.execute(f"insert into {counts} {_step_counts_sql(bucket, code, overlapping)}")
        return conn.execute(_flow_and_variants_sql(counts, min_share, code, expand)).fetchall()


def counted_steps(conn, counts: str) -> int:
    """The steps a table of counts stands for (its ``steps`` summed)."""
    (steps,) = conn.execute(f"select coalesce(sum(steps), 0) from {counts}").fetchone()
    return int(steps)


def _step_counts_sql(events: str, code: str, overlapping: bool = True) -> str:
    """The steps of ``events`` per edge and wait, and (a case's last step) per route and throughput time."""
    return f"""
        select activity, next_activity,
               case when next_activity is null then route end as route,
               case when next_activity is null then epoch(last_end_ts) - epoch(first_end_ts)
                    else greatest(epoch(next_start_ts) - epoch(end_ts), 0) end as seconds,
               count(*) as steps
        from ({step_sequence_sql(events, code, overlapping)})
        group by all
    """


def _flow_and_variants_sql(
    counts: str, min_share: float | None, code: str, expand: bool = False, prelude: str | None = None
) -> str:
    """The edges and the variants (per route and completeness, and per completeness over all routes:
    ``is_total``) from the step counts of ``counts``."""
    per_variant = weighted_summary_sql(
        "select * from flagged", ["route", "is_complete"], THROUGHPUT_QUANTILES, "cases", expand
    )
    per_completeness = weighted_summary_sql(
        "select * from flagged", ["is_complete"], THROUGHPUT_QUANTILES, "cases", expand
    )
    edges = weighted_summary_sql(
        f"""select activity::varchar as source, next_activity::varchar as target, seconds, steps
            from {counts} where next_activity is not null""",
        ["source", "target"],
        WAIT_QUANTILES,
        expand=expand,
    )
    # No threshold (None or 0): every case is complete, as pm4py sees the log; no case is left out.
    complete = (
        "true"
        if not min_share
        else """left(route, 1) in (select first_step from starts)
                       and right(route, 1) in (select last_step from finishes)"""
    )
    return f"""
        with {prelude + "," if prelude else ""} routes as materialized (
            select route, seconds, sum(steps) as cases from {counts} where next_activity is null group by all
        ),
        ends as materialized (
            select left(route, 1) as first_step, right(route, 1) as last_step,
                   -- a case still at its first activity (work in progress at the window's end) tells nothing
                   -- of where cases finish: only cases that moved on vote for the usual end activities
                   length(list_distinct(string_split(route, ''))) > 1 as moved_on, sum(cases) as cases
            from routes group by all
        ),
        starts as (
            select first_step from ends group by 1
            having sum(cases) >= {min_share or 0} * (select sum(cases) from ends)
        ),
        finishes as (
            select last_step from ends where moved_on group by 1
            having sum(cases) >= {min_share or 0} * (select sum(cases) from ends where moved_on)
        ),
        flagged as materialized (
            select route, seconds, cases, {complete} as is_complete
            from routes
        ),
        per_variant as ({per_variant}),
        per_completeness as ({per_completeness}),
        edges as ({edges})
        select 'edge' as part, source, target, frequency, mean_s as mean_wait_s,
               quantiles[1] as median_wait_s, quantiles[2] as p95_wait_s
        from edges
        union all by name
        select 'variant' as part, {route_activities("route", code)} as variant, is_complete,
               false as is_total, frequency as cases, mean_s as mean_throughput_s,
               quantiles as throughput_quantiles
        from per_variant
        union all by name
        select 'variant' as part, null as variant, is_complete, true as is_total,
               frequency as cases, mean_s as mean_throughput_s, quantiles as throughput_quantiles
        from per_completeness
    """


def weighted_summary_sql(
    source: str, groups: list[str], quantiles: tuple[float, ...], weight: str = "steps", expand: bool = False
) -> str:
    """Per group of ``source`` (rows of a ``seconds`` value counted ``weight`` times): frequency (all rows),
    total_s, mean_s and quantiles (a list, exactly as DuckDB's ``quantile_cont`` over the values repeated,
    NULLs left out). A value at rank r (from 0) is the least whose running count exceeds r. ``expand``: by
    repeating the rows and calling ``quantile_cont`` itself (see EXPAND_STEPS)."""
    by = ", ".join(groups)
    if expand:
        listed = ", ".join(repr(float(q)) for q in quantiles)
        return f"""
            select {by}, count(*)::bigint as frequency, sum(seconds) as total_s, avg(seconds) as mean_s,
                   quantile_cont(seconds, [{listed}]) as quantiles
            from (select {by}, seconds, unnest(range({weight}::bigint)) from ({source}))
            group by {by}
        """
    ranks = []
    for q in quantiles:
        position = f"(valued - 1)::double * {float(q)!r}"  # quantile_cont's, in double as it does
        low = f"min(seconds) filter (where running > floor({position}))"
        high = f"min(seconds) filter (where running > ceil({position}))"
        fraction = f"any_value({position}) - floor(any_value({position}))"
        ranks.append(f"{low} + ({high} - {low}) * ({fraction})")
    return f"""
        with merged as (
            select {by}, seconds, sum({weight}) as n from ({source}) group by all
        ),
        ranked as (
            select *, sum(n) over (partition by {by} order by seconds nulls last
                                   rows between unbounded preceding and current row) as running,
                   sum(n) filter (where seconds is not null) over (partition by {by}) as valued
            from merged
        )
        select {by}, sum(n)::bigint as frequency, sum(seconds * n) as total_s,
               sum(seconds * n) / any_value(valued) as mean_s,
               [{", ".join(ranks)}] as quantiles
        from ranked group by {by}
    """
