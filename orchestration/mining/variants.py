"""The routes batches really took (variants) and how long they took (throughput time), in DuckDB.

A variant is a case's activities in time order. Only complete cases count here (from a usual start to a
usual end): a batch cut by the window would look like a new, shorter route.
Throughput time is from a case's first end to its last end, as pm4py's case duration (see case_steps).
The completeness filter is off with ``min_share`` None or 0 (every case mined, as pm4py does).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from orchestration.mining.buckets import BUCKET_EVENTS, case_buckets, temp_table
from orchestration.mining.case_steps import activity_code_type, route_activities, step_sequence_sql
from orchestration.mining.flow import DFG_COLUMNS
from orchestration.mining.step_counts import THROUGHPUT_QUANTILES, count_step_rows

DEFAULT_MIN_END_SHARE = 0.1
VARIANT_SEPARATOR = " > "


@dataclass(frozen=True)
class RouteVariants:
    """Every variant of the complete cases with its cases and throughput, most frequent first."""

    table: pd.DataFrame  # variant (tuple), cases, share, mean/median throughput_s
    cases: int  # complete cases
    all_cases: int  # cases in the window, cut ones included
    throughput: (
        pd.DataFrame
    )  # the complete cases' throughput time: statistic (cases, mean, q000..q100), value
    events: int = 0  # of the complete cases
    all_events: int = 0  # in the window, cut cases' included

    def counts(self, top: int | None = None) -> list[tuple[tuple[str, ...], int]]:
        rows = self.table if top is None else self.table.head(top)
        return [(tuple(v), int(n)) for v, n in zip(rows["variant"], rows["cases"], strict=True)]


def route_variants(conn, events: str, min_share: float | None = DEFAULT_MIN_END_SHARE) -> RouteVariants:
    """The variants and the throughput-time distribution of the events (see flow_and_variants)."""
    return flow_and_variants(conn, events, min_share)[1]


def flow_and_variants(
    conn, events: str, min_share: float | None = DEFAULT_MIN_END_SHARE, bucket_events: int = BUCKET_EVENTS
) -> tuple[pd.DataFrame, RouteVariants]:
    """The directly-follows graph (as flow.directly_follows) and the route variants from one sort of the
    events (see step_counts.count_steps)."""
    rows = count_step_rows(conn, events, min_share, bucket_events)
    # Plain Python over the few result rows: pandas' per-call costs were a third of a 10k-event log's time.
    edges = sorted((r[1:7] for r in rows if r[0] == "edge"), key=lambda e: (-e[2], e[0], e[1]))
    dfg = pd.DataFrame(edges, columns=DFG_COLUMNS).astype({"frequency": "int64"})
    return dfg, _route_variants([r[7:] for r in rows if r[0] == "variant"])


def cases_of_variants(
    conn, events: str, labels: list[str], bucket_events: int = BUCKET_EVENTS
) -> pd.DataFrame:
    """The cases of ``events`` whose route is one of the variants ``labels`` (see variant_label): columns
    case_id, variant (its label); a bucket of cases at a time, as count_steps."""
    code = activity_code_type(conn, events)
    activities = route_activities("route", code)
    with temp_table(conn, "variant_cases", "case_id varchar, variant varchar") as found:
        for bucket in case_buckets(conn, events, bucket_events):
            conn.execute(
                f"""
                insert into {found}
                select case_id, variant from (
                    select case_id::varchar as case_id, array_to_string({activities}, $separator) as variant
                    from ({step_sequence_sql(bucket, code)})
                    where next_activity is null  -- a case's last step
                ) where variant in (select unnest($labels::varchar[]))
                """,
                {"labels": labels, "separator": VARIANT_SEPARATOR},
            )
        return conn.execute(f"select case_id, variant from {found} order by case_id").df()


def _route_variants(rows: list[tuple]) -> RouteVariants:
    """From count_step_rows' variant rows: (variant, is_complete, is_total, cases, mean, quantiles)."""
    per_variant = [r for r in rows if not r[2]]
    all_cases = sum(r[3] for r in per_variant)
    all_events = sum(r[3] * len(r[0]) for r in per_variant)
    median = THROUGHPUT_QUANTILES.index(0.5)
    complete = sorted(
        ((tuple(v), int(n), mean, q[median]) for v, done, _, n, mean, q in per_variant if done),
        key=lambda r: (-r[1], r[0]),
    )
    cases = sum(r[1] for r in complete)
    events = sum(n * len(v) for v, n, _, _ in complete)
    table = pd.DataFrame(
        {
            "variant": pd.Series([r[0] for r in complete], dtype=object),
            "cases": pd.Series([r[1] for r in complete], dtype="int64"),
            "share": pd.Series([r[1] / cases for r in complete], dtype="float64"),
            "mean_throughput_s": pd.Series([r[2] for r in complete], dtype="float64"),
            "median_throughput_s": pd.Series([r[3] for r in complete], dtype="float64"),
        }
    )
    total = next((r for r in rows if r[2] and r[1]), None)
    throughput = _distribution(
        None
        if total is None
        else {"cases": total[3], "mean_throughput_s": total[4], "throughput_quantiles": total[5]}
    )
    return RouteVariants(table, cases, all_cases, throughput, events, all_events)


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
