"""SPC of a factory day's quality measurements (marts.fct_quality_measurements), per characteristic,
machine and product, and the day's SPC alarms: one per chart that is out of control.

A chart point is a batch's pass through the step: the mean of the samples it took (its rational subgroup).
Charting every sample would set the limits from the small within-batch spread and fire on every ordinary
batch-to-batch difference; mixing products would fire on every product change (they have their own targets).
A batch reworked at the step is two points, its first pass and its rework pass.

The limits of a series come from its last ``baseline_points`` batches before the day, leaving out the passes
its own check sent back to rework (known nonconforming: they are not the process's common-cause spread). A
series with too little history (a new machine, characteristic or product) takes its first ``min_baseline``
batches of the day as the baseline and is judged from the next one on, flagged as warm-up. Cp/Cpk of the day
come from its individual samples.

The Western Electric / Nelson firings are the chart's record (analytics.spc_violations). The alarm of a chart
(analytics.alarms, source ``spc``) comes from the alarm rules, with limits from a false-alarm budget for the
whole plant's day (spc.alarm_limits): on a healthy plant about ``FALSE_ALARMS_PER_DAY`` alarms a day, however
many charts it has. A pass its check sent back is contained (the batch went back; the rework signal watches
how often that happens) and raises no alarm by itself.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

import duckdb
import numpy as np

from orchestration.anomalies.alarms import Alarm, spc_subject, write_alarms
from orchestration.anomalies.spc import (
    RULES,
    AlarmLimits,
    Chart,
    SpcPoint,
    alarm_limits,
    cp_cpk,
    individuals_chart,
    judge_alarm_rules,
    judge_series,
)

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
# One false SPC alarm every two days on a healthy plant: the ISA-18.2 budget is a few alarms per operator
# and hour in all, and the sensors have their own share.
FALSE_ALARMS_PER_DAY = 0.5
HISTORY_DAYS = 90  # a series not run for this long warms up again
# Characteristics whose names do not read as words once the underscores are gone.
WORDS = {"ocv": "open-circuit voltage", "self_discharge_k": "self-discharge rate"}


@dataclass(frozen=True)
class Batch:
    """One chart point: the mean of the samples one pass of a batch through the step took."""

    measurement_id: str
    measured_ts: datetime
    value: float
    lsl: float | None
    usl: float | None
    samples: list[float]
    sent_back: bool  # its check sent the batch back to rework: contained


@dataclass(frozen=True)
class Series:
    characteristic: str
    machine_id: str
    product_id: str  # '' when the batch has no product
    unit: str | None
    baseline: list[Batch]
    judged: list[Batch]
    warm_up: bool


class SpcDay(NamedTuple):
    violations: list[tuple]
    charts: list[tuple]
    alarms: list[Alarm]


def chart_batches(conn: duckdb.DuckDBPyConnection, day: str, baseline_points: int) -> list[tuple]:
    """The day's batches and each series' last ``baseline_points`` uncontained batches before it."""
    return conn.execute(
        """
        with passes as (
            select case_id, activity, start_ts, end_ts,
                   lead(is_rework) over (partition by case_id order by start_ts, end_ts) as sent_back
            from marts.fct_process_events
            where production_date between $day::date - $history - 1 and $day::date + 1
        ),
        samples as (
            select m.*, passes.start_ts as pass_start, passes.sent_back
            from marts.fct_quality_measurements as m
            left join passes
              on  passes.case_id = m.case_id and passes.activity = m.activity
              and m.measured_ts >= passes.start_ts
              and (passes.end_ts is null or m.measured_ts <= passes.end_ts)
            where m.production_date between $day::date - $history and $day::date
              and m.measured_value is not null
        ),
        batches as (
            select
                characteristic, machine_id, coalesce(product_id, '') as product_id,
                arg_min(measurement_id, (measured_ts, measurement_id)) as measurement_id,
                min(measured_ts) as measured_ts, avg(measured_value) as measured_value,
                any_value(lsl) as lsl, any_value(usl) as usl, any_value(unit) as unit,
                production_date = $day::date as today,
                list(measured_value order by measured_ts) as samples,
                coalesce(bool_or(sent_back), false) as sent_back
            from samples
            group by characteristic, machine_id, coalesce(product_id, ''), case_id, activity, production_date,
                     pass_start
        ),
        judged as (select * from batches where today),
        history as (
            select * from batches
            where not today and not sent_back
              and (characteristic, machine_id, product_id)
                  in (select characteristic, machine_id, product_id from judged)
            qualify row_number() over (
                partition by characteristic, machine_id, product_id order by measured_ts desc
            ) <= $n
        )
        select characteristic, machine_id, product_id, unit, today, measurement_id, measured_ts,
               measured_value, lsl, usl, samples, sent_back
        from (select * from history union all select * from judged)
        order by characteristic, machine_id, product_id, measured_ts, measurement_id
        """,
        {"day": day, "n": baseline_points, "history": HISTORY_DAYS},
    ).fetchall()


def day_series(rows: list[tuple], min_baseline: int) -> list[Series]:
    """Chartable series of the day: a baseline of at least two points and something to judge."""
    grouped: dict[tuple[str, str, str], list[tuple]] = {}
    for row in rows:
        grouped.setdefault(row[:3], []).append(row)
    series = []
    for (characteristic, machine, product), points in grouped.items():
        batches = [(row[4], Batch(*row[5:])) for row in points]
        before = [b for today, b in batches if not today]
        today = [b for today, b in batches if today]
        warm_up = len(before) < min_baseline
        if warm_up:  # the day's first batches set the limits: up to min_baseline, at most half the day
            first = min(min_baseline, max(2, len(today) // 2))
            before, today = [b for b in today[:first] if not b.sent_back], today[first:]
        if len(before) >= 2 and today:
            series.append(Series(characteristic, machine, product, points[0][3], before, today, warm_up))
    return series


def spc_day(
    conn: duckdb.DuckDBPyConnection,
    day: str,
    baseline_points: int = 50,
    min_baseline: int = 20,
    timezone: str = "UTC",
    false_alarms_per_day: float = FALSE_ALARMS_PER_DAY,
) -> SpcDay:
    """(violation rows, chart rows, alarms) of the day; ``timezone`` is the factory's, for the sentences."""
    series = day_series(chart_batches(conn, day, baseline_points), min_baseline)
    # The budget is the plant's: spread over every point judged today, whatever the number of charts.
    false_alarm_per_point = false_alarms_per_day / max(1, sum(len(s.judged) for s in series))
    violations, charts, alarms = [], [], []
    for one in series:
        chart = individuals_chart(np.array([b.value for b in one.baseline]))
        fired = judge_series(np.array([b.value for b in one.judged]), chart)
        violations += violation_rows(day, one, chart, fired)
        charts.append(chart_row(day, one, chart, len(fired)))
        alarm = chart_alarm(one, chart, fired, false_alarm_per_point, timezone)
        if alarm is not None:
            alarms.append(alarm)
    return SpcDay(violations, charts, alarms)


def violation_rows(day: str, series: Series, chart: Chart, fired: list[SpcPoint]) -> list[tuple]:
    rows = []
    for hit in fired:
        batch = series.judged[hit.index]
        rows.append(
            (
                day,
                series.characteristic,
                series.machine_id,
                hit.rule,
                RULES[hit.rule],
                batch.measurement_id,
                batch.measured_ts,
                batch.value,
                json.dumps([series.judged[i].measurement_id for i in hit.points]),
                chart.center,
                chart.lcl,
                chart.ucl,
                series.warm_up,
                series.product_id or None,
            )
        )
    return rows


def chart_row(day: str, series: Series, chart: Chart, violations: int) -> tuple:
    lsl, usl = series.judged[-1].lsl, series.judged[-1].usl
    cp, cpk = cp_cpk(np.array([v for b in series.judged for v in b.samples]), lsl, usl)
    return (
        day,
        series.characteristic,
        series.machine_id,
        len(series.judged),
        chart.center,
        chart.sigma,
        chart.lcl,
        chart.ucl,
        chart.mr_ucl,
        chart.baseline_points,
        series.warm_up,
        cp,
        cpk,
        lsl,
        usl,
        violations,
        series.product_id or None,
    )


def out_of_control(series: Series, chart: Chart, limits: AlarmLimits) -> list[SpcPoint]:
    """Alarm-rule firings on the judged points its check did not send back (indices into series.judged)."""
    kept = [i for i, b in enumerate(series.judged) if not b.sent_back]
    if not kept:
        return []
    values = np.array([series.judged[i].value for i in kept])
    last = series.judged[-1]
    return [
        SpcPoint(p.rule, kept[p.index], tuple(kept[i] for i in p.points))
        for p in judge_alarm_rules(values, chart, limits, last.lsl, last.usl)
    ]


def chart_alarm(
    series: Series, chart: Chart, fired: list[SpcPoint], false_alarm_per_point: float, timezone: str
) -> Alarm | None:
    """The chart's one alarm of the day, or None when no alarm rule fired.

    Its members are the points any rule (alarm or Western Electric / Nelson) fired on or with, each point once
    with every rule it took part in. Priority: critical for a batch mean beyond its specification (product is
    at stake), high for a point beyond the alarm limit or a sustained shift, low for either on a chart still
    warming up (limits from the day's own first batches).
    """
    limits = alarm_limits(false_alarm_per_point, chart.baseline_points)
    evidence = out_of_control(series, chart, limits)
    if not evidence:
        return None
    rules_of: dict[int, set[str]] = {}
    for hit in [*fired, *evidence]:
        for index in hit.points:
            rules_of.setdefault(index, set()).add(hit.rule)
    sigma = chart.sigma if chart.sigma > 0 else np.finfo(float).tiny
    members = [
        {
            "measurement_id": series.judged[i].measurement_id,
            "measured_ts": series.judged[i].measured_ts.isoformat(),
            "value": series.judged[i].value,
            "sigmas": round((series.judged[i].value - chart.center) / sigma, 2),
            "rules": sorted(rules_of[i]),
            "sent_back": series.judged[i].sent_back,
        }
        for i in sorted(rules_of)
    ]
    out, beyond_spec = evidence_points(evidence)
    priority = "critical" if beyond_spec else ("low" if series.warm_up else "high")
    worst = max(out, key=lambda i: abs(series.judged[i].value - chart.center))
    return Alarm(
        source="spc",
        machine_id=series.machine_id,
        subject=spc_subject(series.characteristic, series.product_id or None),
        start_us=_epoch_us(series.judged[out[0]].measured_ts),
        end_us=_epoch_us(series.judged[out[-1]].measured_ts) + 1,
        priority=priority,
        sentence=sentence(series, chart, limits, evidence, timezone),
        score=abs(series.judged[worst].value - chart.center) / sigma,
        members=members,
    )


def evidence_points(evidence: list[SpcPoint]) -> tuple[list[int], list[int]]:
    """(the points out of control, those beyond specification), each once, in time order."""
    out = sorted({i for hit in evidence for i in hit.points})
    return out, sorted({hit.index for hit in evidence if hit.rule == "SPEC"})


def characteristic_in_words(characteristic: str) -> str:
    words = WORDS.get(characteristic, characteristic.replace("_", " "))
    return words[:1].upper() + words[1:]


def sentence(
    series: Series, chart: Chart, limits: AlarmLimits, evidence: list[SpcPoint], timezone: str
) -> str:
    """What a quality engineer reads: the characteristic with its unit, where, how far, why and since when."""
    out, beyond_spec = evidence_points(evidence)
    fired = {hit.rule for hit in evidence}
    reasons = [
        reason
        for rule, reason in (
            ("LIMIT", f"beyond the alarm limit of {limits.limit:.1f} sigma"),
            ("SHIFT", f"two of three beyond {limits.shift:.1f} sigma on one side"),
        )
        if rule in fired
    ]
    unit = f" {series.unit}" if series.unit else ""
    decimals = max(0, 1 - math.floor(math.log10(chart.sigma))) if chart.sigma > 0 else 3
    number = lambda x: f"{x:.{decimals}f}{unit}"  # noqa: E731
    value = max((series.judged[i].value for i in out), key=lambda v: abs(v - chart.center))
    deviation = value - chart.center
    since = series.judged[out[0]].measured_ts.astimezone(ZoneInfo(timezone))
    product = f" ({series.product_id})" if series.product_id else ""
    text = (
        f"{characteristic_in_words(series.characteristic)} on {series.machine_id}{product}: "
        f"{len(out)} batch{'es' if len(out) > 1 else ''} out of control"
        f"{' (' + ' or '.join(reasons) + ')' if reasons else ''} since {since:%H:%M} "
        f"({since:%a %d %b}, {timezone}), the furthest at {number(value)}, {number(abs(deviation))} "
        f"{'above' if deviation > 0 else 'below'} its centre line {number(chart.center)} "
        f"({abs(deviation) / chart.sigma if chart.sigma > 0 else math.inf:.1f} sigma)"
    )
    if beyond_spec:
        values = [series.judged[i].value for i in beyond_spec]
        last = series.judged[-1]
        sides = [
            f"{side} specification limit {number(limit)}"
            for side, limit, beyond in (
                ("lower", last.lsl, last.lsl is not None and min(values) < last.lsl),
                ("upper", last.usl, last.usl is not None and max(values) > last.usl),
            )
            if beyond
        ]
        text += f"; {len(beyond_spec)} beyond the {' and the '.join(sides)}"
    if series.warm_up:
        text += "; limits from the day's first batches (a new chart)"
    return text + "."


def _epoch_us(ts: datetime) -> int:
    return int(round(ts.timestamp() * 1e6))


def write_spc(
    conn: duckdb.DuckDBPyConnection,
    day: str,
    violations: list[tuple],
    charts: list[tuple],
    alarms: list[Alarm] | None = None,
) -> None:
    """Replace the day's rows of analytics.spc_violations and analytics.spc_charts (idempotent reruns), and
    the day's SPC alarms in analytics.alarms when given."""
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
    if alarms is not None:
        write_alarms(conn, day, "spc", alarms)
