"""The mining statistics of a window on Apache Spark: the same tables as the DuckDB statistics, in Spark SQL.

DuckDB counts a case's steps once (step_counts, step_facts) and reads the directly-follows graph, the variants
and their throughput, the bottlenecks and the rework off those counts, a bucket of cases at a time. On Spark
the buckets are the partitions: the events are repartitioned by case, so every window over a case runs where
the case is, and the statistics are aggregations over those steps, which Spark spreads over its executors. The
meaning is the same, figure for figure (spark_check compares them with DuckDB's):

- a case's steps in CASE_ORDER (start, end, tie-breaker) for the graph, its route by VARIANT_ORDER (end, tie-
  breaker), as pm4py reads an interval log (see case_steps);
- an edge's wait from the source's end to the target's start, clamped at 0; a case's throughput time from its
  first to its last end; quantiles as DuckDB's quantile_cont (Spark's ``percentile``: exact, interpolated);
- a complete case runs from a usual start to a usual end (``min_share`` of the cases, the ends voted by the
  cases that moved on; variants.DEFAULT_MIN_END_SHARE);
- the step facts: processing and waiting time per activity and machine, a step repeating an activity of its
  case, a step sending its case back (its next activity is one the case already did, this one included).

pm4py stays on the variant log (``SparkMining.variants``): the few rows of variants and counts come back to
the driver, as they do from DuckDB. Nothing here imports pyspark at module level: the code location loads
without it; the caller hands in the SparkSession.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from orchestration.mining.case_steps import CASE_ORDER, VARIANT_ORDER
from orchestration.mining.step_counts import THROUGHPUT_QUANTILES, WAIT_QUANTILES
from orchestration.mining.variants import DEFAULT_MIN_END_SHARE

# Spark's own names of the steps' views in the session, per call
_STEPS = "mining_steps"


@dataclass(frozen=True)
class SparkMining:
    """The window's statistics as frames with the DuckDB statistics' columns (window_run's tables)."""

    tables: dict[str, pd.DataFrame]
    all_cases: int = 0  # in the window, cut ones included (variants.RouteVariants.all_cases)
    all_events: int = 0  # their events

    @property
    def variants(self) -> list[tuple[tuple[str, ...], int]]:
        """The complete cases' variants with their cases, most frequent first: pm4py's variant log."""
        table = self.tables["variants"]
        return [(tuple(v), int(n)) for v, n in zip(table["variant"], table["cases"], strict=True)]


def _seconds(ts: str) -> str:
    """Seconds since 1970 of an instant in DuckDB's arithmetic, to the last bit (macro epoch_seconds)."""
    return f"((unix_micros({ts}) div 1000) / 1e3 + pmod(unix_micros({ts}), 1000) * 1e-6)"


def _quantiles(column: str, quantiles: tuple[float, ...]) -> str:
    listed = ", ".join(repr(float(q)) for q in quantiles)
    return f"percentile({column}, array({listed}))"


def mine_statistics(spark, events: str, min_share: float | None = DEFAULT_MIN_END_SHARE) -> SparkMining:
    """The statistics of the relation ``events`` (a table or view of the Spark session with the columns of
    case_steps.EVENT_COLUMNS)."""
    partitions = int(spark.conf.get("spark.sql.shuffle.partitions"))
    steps = spark.sql(
        f"""
        select case_id, activity, machine_id, shift_id, start_ts, end_ts,
               {_seconds("end_ts")} - {_seconds("start_ts")} as processing_s,
               row_number() over case_order = 1 as is_first,
               lead(activity) over case_order as next_activity,
               lead(start_ts) over case_order as next_start_ts,
               lag(end_ts) over case_order as previous_end_ts,
               coalesce(collect_list(activity) over before, array()) as done_before,
               transform(
                   array_sort(collect_list(struct({VARIANT_ORDER}, activity)) over whole_case),
                   step -> step.activity
               ) as route,
               min(end_ts) over whole_case as first_end_ts,
               max(end_ts) over whole_case as last_end_ts
        from (select /*+ REPARTITION({partitions}, case_id) */ case_id, activity, machine_id, shift_id,
                     start_ts, end_ts, event_seq from {events})
        window case_order as ({CASE_ORDER}),
               before as ({CASE_ORDER} rows between unbounded preceding and 1 preceding),
               whole_case as (partition by case_id)
        """
    )
    steps.cache().createOrReplaceTempView(_STEPS)
    try:
        tables = {"dfg": _dfg(spark)}
        variants, all_cases, all_events = _variants(spark, min_share)
        tables.update(variants)
        tables.update(_step_facts(spark))
        return SparkMining(tables, all_cases, all_events)
    finally:
        spark.catalog.dropTempView(_STEPS)
        steps.unpersist()


def _frame(spark, sql: str) -> pd.DataFrame:
    rows = spark.sql(sql).collect()
    columns = spark.sql(sql).columns if not rows else list(rows[0].asDict())
    return pd.DataFrame([r.asDict() for r in rows], columns=columns)


def _dfg(spark) -> pd.DataFrame:
    frame = _frame(
        spark,
        f"""
        select source, target, frequency, mean_wait_s, quantiles[0] as median_wait_s,
               quantiles[1] as p95_wait_s
        from (
            select activity as source, next_activity as target, count(*) as frequency,
                   avg(wait_s) as mean_wait_s, {_quantiles("wait_s", WAIT_QUANTILES)} as quantiles
            from (select activity, next_activity,
                         greatest({_seconds("next_start_ts")} - {_seconds("end_ts")}, 0) as wait_s
                  from {_STEPS} where next_activity is not null)
            group by activity, next_activity
        )
        order by frequency desc, source, target
        """,
    )
    return frame.astype({"frequency": "int64"})


def _variants(spark, min_share: float | None) -> tuple[dict[str, pd.DataFrame], int, int]:
    """The complete cases' variants (variant, cases, share, mean and median throughput) and their
    throughput-time distribution (statistic: cases, mean, q000 .. q100), as variants.RouteVariants; and the
    window's cases and events, cut ones included."""
    share = float(min_share or 0)
    complete = (
        "true"
        if not min_share
        else "route[0] in (select first_step from starts) and element_at(route, -1) in (select last_step "
        "from finishes)"
    )
    spark.sql(
        f"""
        with cases as (
            select route, {_seconds("last_end_ts")} - {_seconds("first_end_ts")} as throughput_s
            from {_STEPS} where next_activity is null
        ),
        ends as (
            select route[0] as first_step, element_at(route, -1) as last_step,
                   size(array_distinct(route)) > 1 as moved_on, count(*) as cases
            from cases group by 1, 2, 3
        ),
        starts as (
            select first_step from ends group by first_step
            having sum(cases) >= {share!r} * (select sum(cases) from ends)
        ),
        finishes as (
            select last_step from ends where moved_on group by last_step
            having sum(cases) >= {share!r} * (select sum(cases) from ends where moved_on)
        )
        select route, throughput_s, {complete} as is_complete from cases
        """
    ).createOrReplaceTempView("mining_cases")
    try:
        quantiles = _quantiles("throughput_s", THROUGHPUT_QUANTILES)
        median = THROUGHPUT_QUANTILES.index(0.5)
        per_variant = _frame(
            spark,
            f"""
            select route as variant, count(*) as cases, avg(throughput_s) as mean_throughput_s,
                   {quantiles}[{median}] as median_throughput_s
            from mining_cases where is_complete group by route
            """,
        )
        total = spark.sql(
            f"""select count_if(is_complete) as cases,
                       avg(if(is_complete, throughput_s, null)) as mean,
                       {_quantiles("if(is_complete, throughput_s, null)", THROUGHPUT_QUANTILES)} as quantiles,
                       count(*) as all_cases, coalesce(sum(size(route)), 0) as all_events
                from mining_cases"""
        ).collect()[0]
    finally:
        spark.catalog.dropTempView("mining_cases")
    per_variant["variant"] = [tuple(v) for v in per_variant["variant"]]
    per_variant = per_variant.sort_values(
        ["cases", "variant"], ascending=[False, True], key=None, kind="stable"
    ).reset_index(drop=True)
    cases = int(per_variant["cases"].sum())
    table = pd.DataFrame(
        {
            "variant": pd.Series(list(per_variant["variant"]), dtype=object),
            "cases": per_variant["cases"].astype("int64"),
            "share": (per_variant["cases"] / cases).astype("float64")
            if cases
            else pd.Series(dtype="float64"),
            "mean_throughput_s": per_variant["mean_throughput_s"].astype("float64"),
            "median_throughput_s": per_variant["median_throughput_s"].astype("float64"),
        }
    )
    names = ["cases", "mean", *(f"q{round(q * 100):03d}" for q in THROUGHPUT_QUANTILES)]
    listed = list(total["quantiles"]) if total["cases"] else [None] * len(THROUGHPUT_QUANTILES)
    values = [total["cases"], total["mean"] if total["cases"] else None, *listed]
    throughput = pd.DataFrame({"statistic": names, "throughput_s": pd.array(values, dtype="float64")})
    return {"variants": table, "throughput": throughput}, int(total["all_cases"]), int(total["all_events"])


def _step_facts(spark) -> dict[str, pd.DataFrame]:
    """Start and end activities, bottlenecks per activity and per machine, rework loops and rates."""
    spark.sql(
        f"""
        select activity, machine_id, shift_id, next_activity, processing_s,
               greatest({_seconds("start_ts")} - {_seconds("previous_end_ts")}, 0) as wait_s,
               is_first, next_activity is null as is_last,
               array_contains(done_before, activity) as is_repeat,
               next_activity is not null
                   and (array_contains(done_before, next_activity) or next_activity = activity)
                   as is_sent_back
        from {_STEPS}
        """
    ).createOrReplaceTempView("mining_facts")
    try:
        ends = _frame(
            spark,
            """
            select kind, activity, count(*) as cases from (
                select 'start' as kind, activity from mining_facts where is_first
                union all
                select 'end' as kind, activity from mining_facts where is_last
            ) group by kind, activity order by kind desc, cases desc, activity
            """,
        )
        activity = _frame(spark, _timing_sql(["activity"]))
        activity["limits_throughput"] = activity["rank"] == 1
        return {
            "start_end_activities": ends,
            "activity_bottlenecks": activity,
            "machine_bottlenecks": _frame(spark, _timing_sql(["machine_id", "activity"])),
            "rework_loops": _frame(
                spark,
                """
                with executions as (
                    select activity, count(*) as executions from mining_facts group by activity
                ),
                loops as (
                    select activity as source, next_activity as target, count(*) as loops
                    from mining_facts where is_sent_back group by activity, next_activity
                )
                select row_number() over (order by loops / executions desc, loops desc, source, target)
                           as rank,
                       source, target, loops, executions, loops / executions as rate
                from loops join executions on executions.activity = loops.source
                order by rank
                """,
            ),
            "rework_rates": _frame(
                spark,
                """
                with grains as (
                    select 'activity' as grain, activity as key, activity, is_sent_back, is_repeat
                    from mining_facts
                    union all
                    select 'machine', machine_id, activity, is_sent_back, is_repeat from mining_facts
                    union all
                    select 'shift', shift_id, activity, is_sent_back, is_repeat from mining_facts
                ),
                counted as (
                    select grain, key, activity, count(*) as executions,
                           count_if(is_sent_back) as sent_back, count_if(is_repeat) as repeats
                    from grains group by grain, key, activity
                )
                select grain, key, activity, executions, sent_back, sent_back / executions as sent_back_rate,
                       repeats, repeats / executions as repeat_rate
                from counted
                order by grain, sent_back_rate desc, key, activity
                """,
            ),
        }
    finally:
        spark.catalog.dropTempView("mining_facts")


def _timing_sql(keys: list[str]) -> str:
    """Processing and waiting time per ``keys``, ranked by mean wait (bottlenecks._timing_sql)."""
    by = ", ".join(keys)
    return f"""
        with per_key as (
            select {by}, count(*) as executions,
                   avg(processing_s) as mean_processing_s,
                   percentile(processing_s, 0.5) as median_processing_s,
                   avg(wait_s) as mean_wait_s,
                   {_quantiles("wait_s", WAIT_QUANTILES)} as wait_quantiles,
                   sum(processing_s) as total_processing_s,
                   coalesce(sum(wait_s), 0) as total_wait_s
            from mining_facts group by {by}
        )
        select row_number() over (order by mean_wait_s desc nulls last, {by}) as rank, {by}, executions,
               mean_processing_s, median_processing_s, mean_wait_s,
               wait_quantiles[0] as median_wait_s, wait_quantiles[1] as p95_wait_s,
               total_processing_s, total_wait_s,
               total_wait_s / nullif(total_wait_s + total_processing_s, 0) as wait_share
        from per_key order by rank
    """
