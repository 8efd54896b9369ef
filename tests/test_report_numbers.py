"""Numbers people read right, over every KPI of every role for a hand-made week: each figure with its unit,
each change said in words that agree with the way the KPI moved and with which way is better.

Ground truth: 28 ordinary days before the week (sensor alarms 10 +- 1 a day, MTTR 30 min, cost per good cell
18 EUR, ...), then a week of 2026-03-02..08 where each KPI moves a different way each day; on the Friday
(2026-03-06) sensor alarms jump to 83 (the issue's "83, worse (-46.9 %)" tile: a rise must read as a rise).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta

import duckdb
import pytest

from orchestration.factory_calendar import FactoryCalendar
from orchestration.reporting import render_daily_reports

WEEK = [date(2026, 3, 2) + timedelta(days=n) for n in range(7)]
FRIDAY = date(2026, 3, 6)
BERLIN = FactoryCalendar("Europe/Berlin", day_start_hour=6)

# a day's wobble: n = days since 2026-01-01; each KPI takes its own phase so that some rise while others fall
WOBBLE = "((n * {k}) % 7 - 3)"
WAREHOUSE_SQL = f"""
create schema marts; create schema analytics;
create table days as select d::date as production_date, datediff('day', date '2026-01-01', d::date) as n,
       d::date >= date '2026-03-02' as in_week
from generate_series(date '2026-02-02', date '2026-03-08', interval 1 day) t(d);
create table marts.fct_oee_factory_day as select production_date,
    0.74 + 0.02 * {WOBBLE.format(k=1)} * in_week::int as oee,
    0.90 + 0.01 * {WOBBLE.format(k=2)} * in_week::int as availability,
    0.95 + 0.02 * {WOBBLE.format(k=3)} * in_week::int as effectiveness,
    0.98 + 0.005 * {WOBBLE.format(k=4)} * in_week::int as quality_ratio,
    0.92 + 0.01 * {WOBBLE.format(k=5)} * in_week::int as first_pass_yield,
    80000 + 500 * ((n % 3) - 1) + 4000 * {WOBBLE.format(k=6)} * in_week::int as cells_completed,
    0.02 + 0.004 * {WOBBLE.format(k=1)} * in_week::int as scrap_ratio,
    0.05 + 0.01 * {WOBBLE.format(k=2)} * in_week::int as rework_ratio,
    5 + (n % 3) - 1 + 3 * {WOBBLE.format(k=3)} * in_week::int as breakdown_count,
    36000.0 + 600 * ((n % 3) - 1) + 9000 * {WOBBLE.format(k=4)} * in_week::int as mtbf_s,
    1800.0 + 60 * ((n % 3) - 1) + 900 * {WOBBLE.format(k=5)} * in_week::int as mttr_s
from days;
create table marts.fct_economics_day as select production_date, 'EUR' as currency,
    18.0 + 0.1 * ((n % 3) - 1) + 2.0 * {WOBBLE.format(k=6)} * in_week::int as cost_per_good_cell,
    40000.0 + 500 * ((n % 3) - 1) + 9000 * {WOBBLE.format(k=1)} * in_week::int as scrap_cost,
    0.15 + 0.03 * {WOBBLE.format(k=2)} * in_week::int as margin_ratio
from days;
create table analytics.alarms as
select production_date, 'sensor' as source, 'high' as priority, 'M-01' as machine_id
from days, range(case when production_date = date '2026-03-06' then 83 else 10 + (n % 3) - 1 end)
union all
select production_date, 'spc', 'high', 'M-02' from days, range(1 + (n % 2) + 2 * in_week::int * (n % 3));
"""
UNITLESS_FORMATS = {"text", "pct", "pts", "dur", "ts", "row", "num3", "p"}  # the figure carries its unit
RAW_SECONDS = re.compile(r"\b\d{3,}(\.\d+)? ?s\b")  # "5931 s": a duration nobody reads
SIGNED_PERCENT = re.compile(r"\([+-]\d+(\.\d+)?\s?%\)")  # "(-46.9 %)" beside a verdict


@pytest.fixture(scope="module")
def week(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("numbers")
    warehouse = root / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("set TimeZone = 'UTC'")
        conn.execute(WAREHOUSE_SQL)
    reports = {}
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        conn.execute("set TimeZone = 'UTC'")
        for day in WEEK:
            reports[day] = render_daily_reports(
                conn, day, root / "reports", calendar=BERLIN, generated_at=datetime(2026, 3, 9, tzinfo=UTC)
            )
    return reports


def figures(report) -> dict:
    return json.loads(report.json.read_text(encoding="utf-8"))


def test_every_kpi_tile_shows_its_unit(week):
    seen = set()
    for day_reports in week.values():
        for report in day_reports.values():
            for kpi in figures(report)["kpis"]:
                seen.add(kpi["kpi"])
                assert kpi["unit_text"], kpi
                assert kpi["value_text"].rstrip("s").endswith(kpi["unit_text"].rstrip("s")) or (
                    kpi["unit"] in ("ratio", "seconds") and re.search(r"%$| min$| s$", kpi["value_text"])
                ), kpi
    assert len(seen) == 16  # every KPI of data/reporting/targets.yaml


def test_no_change_reads_against_the_way_its_kpi_moved(week):
    checked = 0
    for day_reports in week.values():
        for report in day_reports.values():
            for kpi in figures(report)["kpis"]:
                if kpi["change"] is None or abs(kpi["change"]) < 0.0005:
                    continue
                rose = kpi["change"] > 0
                reference = kpi["target"] if kpi["target"] is not None else kpi["trailing_30d_mean"]
                assert rose == (kpi["value"] > reference), kpi
                assert (" above " in kpi["comparison"]) == rose, kpi
                good_way = rose == (kpi["better"] == "higher")
                if kpi["verdict"].startswith("worse"):
                    assert not good_way, kpi
                if kpi["verdict"].startswith("better"):
                    assert good_way, kpi
                checked += 1
            html = report.html.read_text(encoding="utf-8")
            assert not SIGNED_PERCENT.search(html), report.html
            assert not RAW_SECONDS.search(html), RAW_SECONDS.search(html)
    assert checked > 150  # of 7 days x 30 tiles, a few exactly on their reference


def test_the_issues_tile_a_rise_of_sensor_alarms_reads_as_a_rise(week):
    tile = next(k for k in figures(week[FRIDAY]["director"])["kpis"] if k["kpi"] == "sensor_anomalies")
    assert tile["value_text"] == "83 alarms" and tile["worse"]
    assert tile["verdict"] == "worse than the 30 days before" and tile["trailing_days"] == 30
    assert tile["comparison"].endswith("% above the 30-day mean")


def test_every_table_column_with_a_quantity_names_its_unit(week):
    for report in week[FRIDAY].values():
        for section in figures(report)["sections"]:
            for column in section.get("columns", []):
                assert column["fmt"] in UNITLESS_FORMATS or column["unit"], (section["key"], column)
