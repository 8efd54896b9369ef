"""SPC of a factory day's quality measurements (marts.fct_quality_measurements), per
characteristic and machine.

The limits of a series come from its last ``baseline_points`` measurements before the day. A series with too
little history (a new machine or characteristic) takes its first ``min_baseline`` measurements of the day as
the baseline and is judged from the next one on, flagged as warm-up.
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
    "lcl double, ucl double, warm_up boolean"
)
CHART_COLUMNS = (
    "production_date date, characteristic varchar, machine_id varchar, measurements integer, center double, "
    "sigma double, lcl double, ucl double, mr_ucl double, baseline_points integer, warm_up boolean, "
    "cp double, cpk double, lsl double, usl double, violations integer"
)


def spc_day(
    conn: duckdb.DuckDBPyConnection, day: str, baseline_points: int = 50, min_baseline: int = 20
) -> tuple[list[tuple], list[tuple]]:
    """(violation rows, chart rows) of the day."""
    rows = conn.execute(
        """
        with judged as (
            select characteristic, machine_id, measurement_id, measured_ts, measured_value, lsl, usl,
                true as today
            from marts.fct_quality_measurements
            where production_date = $day::date and measured_value is not null
        ),
        history as (
            select characteristic, machine_id, measurement_id, measured_ts, measured_value, lsl, usl, false
            from marts.fct_quality_measurements
            where production_date < $day::date and measured_value is not null
              and (characteristic, machine_id) in (select characteristic, machine_id from judged)
            qualify row_number() over (
                partition by characteristic, machine_id order by measured_ts desc
            ) <= $n
        )
        select * from history union all select * from judged
        order by characteristic, machine_id, measured_ts, measurement_id
        """,
        {"day": day, "n": baseline_points},
    ).fetchall()
    series: dict[tuple[str, str], list[tuple]] = {}
    for row in rows:
        series.setdefault((row[0], row[1]), []).append(row)
    violations, charts = [], []
    for (characteristic, machine), points in series.items():
        before = [p for p in points if not p[7]]
        today = [p for p in points if p[7]]
        warm_up = len(before) < min_baseline
        if warm_up:
            before, today = today[:min_baseline], today[min_baseline:]
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
                )
            )
        lsl, usl = today[-1][5], today[-1][6]
        cp, cpk = cp_cpk(values, lsl, usl)
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
