"""SPC of a factory day's quality measurements (marts.fct_quality_measurements), per characteristic,
machine and product.

A chart point is a batch: the mean of the samples one step took of it (its rational subgroup). Charting every
sample would set the limits from the small within-batch spread and fire on every ordinary batch-to-batch
difference; mixing products would fire on every product change (they have their own targets). The limits of a
series come from its last ``baseline_points`` batches before the day. A series with too little history (a new
machine, characteristic or product) takes its first ``min_baseline`` batches of the day as the baseline and is
judged from the next one on, flagged as warm-up. Cp/Cpk of the day come from its individual samples.
"""

from __future__ import annotations

import json

import duckdb
import numpy as np

from orchestration.anomalies.spc import RULES, cp_cpk, individuals_chart, judge_series

VIOLATION_COLUMNS = (
    "production_date date, characteristic varchar, machine_id varchar, rule varchar, "
    "rule_description varchar, "
    "measurement_id varchar, measured_ts timestamptz, measured_value double, points varchar, center double, "
    "lcl double, ucl double, warm_up boolean, product_id varchar"
)
CHART_COLUMNS = (
    "production_date date, characteristic varchar, machine_id varchar, measurements integer, center double, "
    "sigma double, lcl double, ucl double, mr_ucl double, baseline_points integer, warm_up boolean, "
    "cp double, cpk double, lsl double, usl double, violations integer, product_id varchar"
)


def spc_day(
    conn: duckdb.DuckDBPyConnection, day: str, baseline_points: int = 50, min_baseline: int = 20
) -> tuple[list[tuple], list[tuple]]:
    """(violation rows, chart rows) of the day."""
    rows = conn.execute(
        """
        with batches as (
            select
                characteristic, machine_id, coalesce(product_id, '') as product_id,
                arg_min(measurement_id, (measured_ts, measurement_id)) as measurement_id,
                min(measured_ts) as measured_ts, avg(measured_value) as measured_value,
                any_value(lsl) as lsl, any_value(usl) as usl, production_date = $day::date as today,
                list(measured_value order by measured_ts) as samples
            from marts.fct_quality_measurements
            where production_date <= $day::date and measured_value is not null
            group by characteristic, machine_id, coalesce(product_id, ''), case_id, activity, production_date
        ),
        judged as (select * from batches where today),
        history as (
            select * from batches
            where not today
              and (characteristic, machine_id, product_id)
                  in (select characteristic, machine_id, product_id from judged)
            qualify row_number() over (
                partition by characteristic, machine_id, product_id order by measured_ts desc
            ) <= $n
        )
        select characteristic, machine_id, measurement_id, measured_ts, measured_value, lsl, usl, today,
               samples, product_id
        from (select * from history union all select * from judged)
        order by characteristic, machine_id, product_id, measured_ts, measurement_id
        """,
        {"day": day, "n": baseline_points},
    ).fetchall()
    series: dict[tuple[str, str, str], list[tuple]] = {}
    for row in rows:
        series.setdefault((row[0], row[1], row[9]), []).append(row)
    violations, charts = [], []
    for (characteristic, machine, product), points in series.items():
        before = [p for p in points if not p[7]]
        today = [p for p in points if p[7]]
        warm_up = len(before) < min_baseline
        if warm_up:  # the day's first batches set the limits: up to min_baseline, at most half the day
            first = min(min_baseline, max(2, len(today) // 2))
            before, today = today[:first], today[first:]
        if len(before) < 2 or not today:
            continue
        chart = individuals_chart(np.array([p[4] for p in before]))
        values = np.array([p[4] for p in today])
        fired = judge_series(values, chart)
        for hit in fired:
            p = today[hit.index]
            violations.append(
                (
                    day,
                    characteristic,
                    machine,
                    hit.rule,
                    RULES[hit.rule],
                    p[2],
                    p[3],
                    p[4],
                    json.dumps([today[i][2] for i in hit.points]),
                    chart.center,
                    chart.lcl,
                    chart.ucl,
                    warm_up,
                    product or None,
                )
            )
        lsl, usl = today[-1][5], today[-1][6]
        cp, cpk = cp_cpk(np.array([v for p in today for v in p[8]]), lsl, usl)
        charts.append(
            (
                day,
                characteristic,
                machine,
                len(today),
                chart.center,
                chart.sigma,
                chart.lcl,
                chart.ucl,
                chart.mr_ucl,
                chart.baseline_points,
                warm_up,
                cp,
                cpk,
                lsl,
                usl,
                len(fired),
                product or None,
            )
        )
    return violations, charts


def write_spc(
    conn: duckdb.DuckDBPyConnection, day: str, violations: list[tuple], charts: list[tuple]
) -> None:
    """Replace the day's rows of analytics.spc_violations and analytics.spc_charts (idempotent reruns)."""
    conn.execute("create schema if not exists analytics")
    for table, columns, rows in (
        ("spc_violations", VIOLATION_COLUMNS, violations),
        ("spc_charts", CHART_COLUMNS, charts),
    ):
        conn.execute(f"create table if not exists analytics.{table} ({columns})")
        conn.execute(f"delete from analytics.{table} where production_date = $day::date", {"day": day})
        if rows:
            marks = ", ".join("?" for _ in rows[0])
            conn.executemany(f"insert into analytics.{table} values ({marks})", rows)
