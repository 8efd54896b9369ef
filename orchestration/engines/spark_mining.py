"""The daily mining's statistics on Spark: a session over the marts' Parquet that the mining asset calls per
window (mining.factory_days' ``window_statistics``), so that the statistics are Spark's, figure for figure the
DuckDB statistics' meaning (mining.spark_statistics), and pm4py reads the variant log that comes back.

The session reads ``marts.fct_process_events`` where dbt-spark wrote it (``<spark-warehouse>/marts.db/``), by
path: it needs no metastore, so it never contends with dbt's (profiles.yml). It is local (``local[cores]``, as
the profile's session method); on a cluster the same code would take the cluster's session. pyspark is
imported when a run starts the session, never when the code location loads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from orchestration.factory_calendar import as_date
from orchestration.mining.case_steps import mart_events_sql
from orchestration.mining.window_run import WindowStatistics

EVENTS_VIEW = "fct_process_events"  # the session's view of marts.fct_process_events
EVENTS_MART = ("marts.db", "fct_process_events")  # its folder under the Spark warehouse


@contextmanager
def spark_window_statistics(
    spark_warehouse: Path, cores: int = 2, partitions: int = 2
) -> Iterator[Callable[[date | str, date | str, float | None], WindowStatistics]]:
    """A function (first day, last day, min_end_share) -> the window's statistics, computed in a local Spark
    session that reads the marts' Parquet; the session stops on exit. Two shuffle partitions: a plant's
    day of batch-level events is a few MB (GIGAFACTORY_SPARK_PARTITIONS sizes dbt's, docs/scale-out.md)."""
    from orchestration.engines.spark_session import local_spark
    from orchestration.mining.spark_statistics import mine_statistics
    from orchestration.mining.variants import RouteVariants

    folder = spark_warehouse.joinpath(*EVENTS_MART)
    days = sorted(p.name.split("=", 1)[1] for p in folder.glob("production_date=*") if p.is_dir())
    computed: dict[tuple, WindowStatistics] = {}
    spark = local_spark(spark_warehouse, cores=cores, partitions=partitions)
    try:
        spark.read.parquet(str(folder)).createOrReplaceTempView(EVENTS_VIEW)

        def statistics(first: date | str, last: date | str, min_share: float | None) -> WindowStatistics:
            # Windows holding the same days hold the same events (a plant's first days: the 7- and 30-day
            # windows are the day's own): computed once. Each Spark action costs seconds, whatever its size.
            held = tuple(d for d in days if as_date(first) <= as_date(d) <= as_date(last))
            if (held, min_share) not in computed:
                computed[(held, min_share)] = _statistics(first, last, min_share)
            return computed[(held, min_share)]

        def _statistics(first: date | str, last: date | str, min_share: float | None) -> WindowStatistics:
            spark.sql(mart_events_sql(first, last, EVENTS_VIEW)).createOrReplaceTempView("window_events")
            mined = mine_statistics(spark, "window_events", min_share)
            tables = dict(mined.tables)
            dfg, variant_table, throughput = (
                tables.pop("dfg"),
                tables.pop("variants"),
                tables.pop("throughput"),
            )
            cases = int(variant_table["cases"].sum())
            events = int(sum(n * len(v) for v, n in mined.variants))
            variants = RouteVariants(
                variant_table, cases, mined.all_cases, throughput, events, mined.all_events
            )
            return WindowStatistics(dfg, variants, tables)

        yield statistics
    finally:
        spark.catalog.dropTempView(EVENTS_VIEW)
        spark.stop()
