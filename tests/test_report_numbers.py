"""Numbers people read right, over every KPI of every role for a hand-made week: each figure with its unit,
each change said in words that agree with the way the KPI moved and with which way is better.

Ground truth: 28 ordinary days before the week (sensor alarms 10 +- 1 a day, MTTR 30 min, cost per good cell
18 EUR, ...), then a week of 2026-03-02..08 where each KPI moves a different way each day; on the Friday
(2026-03-06) sensor alarms jump to 83 (the issue's "83, worse (-46.9 %)" tile: a rise must read as a rise).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import duckdb
import pytest

from orchestration.factory_calendar import FactoryCalendar
from orchestration.reporting import render_daily_reports
from orchestration.reporting.readability import check_reports
from tests.report_readability import assert_reports_read_right, figures

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


def pages_of(reports) -> list:
    return [report.html for report in reports]


def test_every_kpi_reads_right_with_its_unit_and_the_way_it_moved(week):
    checked = assert_reports_read_right(pages_of(r for day in week.values() for r in day.values()))
    assert len(checked.kpis_with_value) == 16  # every KPI of data/reporting/targets.yaml
    assert checked.changes_checked > 150  # of 7 days x 30 tiles, a few land exactly on their reference


def test_the_issues_tile_a_rise_of_sensor_alarms_reads_as_a_rise(week):
    tile = next(k for k in figures(week[FRIDAY]["director"])["kpis"] if k["kpi"] == "sensor_anomalies")
    assert tile["value_text"] == "83 alarms" and tile["worse"]
    assert tile["verdict"] == "worse than the 30 days before" and tile["trailing_days"] == 30
    assert tile["comparison"].endswith("% above the 30-day mean")


def test_a_report_that_reads_wrong_is_caught(week, tmp_path):
    """The check finds each kind of mistake the issue saw, in a copy of a real report."""
    report = week[FRIDAY]["director"]
    twin = figures(report)
    tile = next(k for k in twin["kpis"] if k["kpi"] == "sensor_anomalies")
    tile["comparison"] = tile["comparison"].replace(" above ", " below ")  # a rise said as a fall
    next(k for k in twin["kpis"] if k["kpi"] == "oee")["unit_text"] = ""  # a tile without its unit
    next(s for s in twin["sections"] if s.get("columns"))["columns"][0].update(fmt="num", unit=None)
    page = tmp_path / "director.html"
    page.write_text(report.html.read_text(encoding="utf-8") + "<p>mean 11488 s (-46.9 %)</p>")
    page.with_suffix(".json").write_text(json.dumps(twin))
    problems = "\n".join(check_reports([page]).problems)
    for expected in (
        "sensor_anomalies: change",
        "oee: no unit",
        "has no unit",
        "raw seconds",
        "signed percentage",
    ):
        assert expected in problems, problems
