"""The routes batches really took (variants) and how long they took (throughput time), in DuckDB.

A variant is a case's activities in time order. Only complete cases count here (from a usual start to a
usual end): a batch cut by the window would look like a new, shorter route.
Throughput time is from the start of a case's first step to the end of its last.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from orchestration.mining.case_steps import activity_code_type, route_activities, step_sequence_sql
from orchestration.mining.flow import edges_in_order

DEFAULT_MIN_END_SHARE = 0.1
VARIANT_SEPARATOR = " > "
THROUGHPUT_QUANTILES = (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 1.0)


@dataclass(frozen=True)
class RouteVariants:
    """Every variant of the complete cases with its cases and throughput, most frequent first."""

    table: pd.DataFrame  # variant (tuple), cases, share, mean/median throughput_s
    cases: int  # complete cases
    all_cases: int  # cases in the window, cut ones included
    throughput: (
        pd.DataFrame
    )  # the complete cases' throughput time: statistic (cases, mean, q000..q100), value

    def counts(self, top: int | None = None) -> list[tuple[tuple[str, ...], int]]:
        rows = self.table if top is None else self.table.head(top)
        return [(tuple(v), int(n)) for v, n in zip(rows["variant"], rows["cases"], strict=True)]


def case_routes_sql(events: str, min_share: float = DEFAULT_MIN_END_SHARE) -> str:
    """One row per case: its variant (list of activities), throughput time and completeness (one pass over
    the events: the first and last activities are the variant's ends)."""
    return f"""
        with routes as (
            select case_id, list(activity order by end_ts, event_seq) as variant,
                   min(start_ts) as first_start_ts, max(end_ts) as last_end_ts
            from {events} group by case_id
        ),
        starts as (
            select variant[1] as activity from routes group by 1
            having count(*) >= {min_share} * (select count(*) from routes)
        ),
        -- a case still at its first activity (work in progress at the window's end) tells nothing of where
        -- cases finish: only cases that moved on vote for the usual end activities
        moved_on as (select * from routes where len(list_distinct(variant)) > 1),
        finishes as (
            select variant[-1] as activity from moved_on group by 1
            having count(*) >= {min_share} * (select count(*) from moved_on)
        )
        select case_id, variant, len(variant) as steps, first_start_ts, last_end_ts,
               epoch(last_end_ts) - epoch(first_start_ts) as throughput_s,
               variant[1] in (select activity from starts)
                   and variant[-1] in (select activity from finishes) as is_complete
        from routes
    """


def variants_sql(cases: str, min_share: float, code: str) -> str:
    """Per variant (and per completeness over all variants: ``is_total``) the cases and their throughput,
    from ``cases``: a query of one row per case, its route (case_steps.route_character's of ``code``) and
    throughput_s. Grouped by that short text, no case's route is ever held as a list (which would not
    spill to disk)."""
    quantiles = ", ".join(str(q) for q in THROUGHPUT_QUANTILES)
    return f"""
        with cases as materialized ({cases}),
        ends as materialized (
            select left(route, 1) as first_step, right(route, 1) as last_step,
                   -- a case still at its first activity (work in progress at the window's end) tells nothing
                   -- of where cases finish: only cases that moved on vote for the usual end activities
                   length(list_distinct(string_split(route, ''))) > 1 as moved_on, count(*) as cases
            from cases group by all
        ),
        starts as (
            select first_step from ends group by 1
            having sum(cases) >= {min_share} * (select sum(cases) from ends)
        ),
        finishes as (
            select last_step from ends where moved_on group by 1
            having sum(cases) >= {min_share} * (select sum(cases) from ends where moved_on)
        ),
        flagged as (
            select route, throughput_s,
                   left(route, 1) in (select first_step from starts)
                       and right(route, 1) in (select last_step from finishes) as is_complete
            from cases
        ),
        per_variant as (
            select route, is_complete, grouping(route) = 1 as is_total, count(*) as cases,
                   avg(throughput_s) as mean_throughput_s,
                   quantile_cont(throughput_s, [{quantiles}]) as throughput_quantiles
            from flagged group by grouping sets ((route, is_complete), (is_complete))
        )
        select {route_activities("route", code)} as variant, is_complete, is_total, cases,
               mean_throughput_s, throughput_quantiles
        from per_variant
    """


def route_variants(conn, events: str, min_share: float = DEFAULT_MIN_END_SHARE) -> RouteVariants:
    """The variants and the throughput-time distribution in one query over the events."""
    code = activity_code_type(conn, events)
    cases = f"""select route, epoch(end_ts) - epoch(first_start_ts) as throughput_s
                from ({step_sequence_sql(events, code)}) where next_activity is null"""  # a case's last step
    frame = conn.execute(variants_sql(cases, min_share, code)).df()
    return _route_variants(frame)


def flow_and_variants(
    conn, events: str, min_share: float = DEFAULT_MIN_END_SHARE
) -> tuple[pd.DataFrame, RouteVariants]:
    """The directly-follows graph (as flow.directly_follows) and the route variants from one sort of the
    events and one aggregation of its steps: each step either has a next one (an edge of the graph, with
    its wait) or is its case's last (a case of a route, with its throughput), so one GROUP BY serves both
    and nothing of the size of the events is materialized."""
    code = activity_code_type(conn, events)
    frame = conn.execute(
        f"""
        with steps as ({step_sequence_sql(events, code)}),
        groups as materialized (
            select activity, next_activity,
                   case when next_activity is null then route end as route, count(*) as frequency,
                   avg(epoch(next_start_ts) - epoch(end_ts)) as mean_wait_s,
                   quantile_cont(epoch(next_start_ts) - epoch(end_ts), [0.5, 0.95]) as waits,
                   list(epoch(end_ts) - epoch(first_start_ts)) filter (where next_activity is null)
                       as throughputs
            from steps group by all
        ),
        edges as (
            select activity::varchar as source, next_activity::varchar as target, frequency, mean_wait_s,
                   waits[1] as median_wait_s, waits[2] as p95_wait_s
            from groups where next_activity is not null
        ),
        variants as ({
            variants_sql(
                "select route, unnest(throughputs) as throughput_s from groups where route is not null",
                min_share,
                code,
            )
        })
        select 'edge' as part, * from edges
        union all by name
        select 'variant' as part, * from variants
        """
    ).df()
    is_edge = frame["part"] == "edge"
    return edges_in_order(frame[is_edge]), _route_variants(frame[~is_edge])


def _route_variants(frame: pd.DataFrame) -> RouteVariants:
    # Both flags are set on every row; the casts undo the NULLs of flow_and_variants' edge rows.
    frame = frame.astype({"is_total": bool, "is_complete": bool, "cases": "int64"})
    per_variant = frame[~frame["is_total"]]
    all_cases = int(per_variant["cases"].sum()) if len(per_variant) else 0
    complete = per_variant[per_variant["is_complete"]].copy()
    median = THROUGHPUT_QUANTILES.index(0.5)
    complete["median_throughput_s"] = [q[median] for q in complete["throughput_quantiles"]]
    complete = complete[["variant", "cases", "mean_throughput_s", "median_throughput_s"]]
    complete["variant"] = [tuple(v) for v in complete["variant"]]
    complete = complete.sort_values(["cases", "variant"], ascending=[False, True], kind="stable")
    cases = int(complete["cases"].sum()) if len(complete) else 0
    complete.insert(2, "share", complete["cases"] / cases if cases else complete["cases"])
    total = frame[frame["is_total"] & frame["is_complete"]]
    throughput = _distribution(total.iloc[0] if len(total) else None)
    return RouteVariants(complete.reset_index(drop=True), cases, all_cases, throughput)


def _distribution(total) -> pd.DataFrame:
    """One row per statistic (cases, mean, q000 .. q100) of the complete cases' throughput time."""
    values = [0 if total is None else total["cases"], None if total is None else total["mean_throughput_s"]]
    quantiles = [None] * len(THROUGHPUT_QUANTILES) if total is None else list(total["throughput_quantiles"])
    names = ["cases", "mean", *(f"q{round(q * 100):03d}" for q in THROUGHPUT_QUANTILES)]
    return pd.DataFrame(
        {"statistic": names, "throughput_s": pd.array([*values, *quantiles], dtype="float64")}
    )


def variant_label(variant: tuple[str, ...]) -> str:
    return VARIANT_SEPARATOR.join(variant)
