"""The control chart a quality engineer reads: the day's batches against their limits, the points that set off
the alarm marked apart from those merely beyond the limits, the moving ranges under them.

Ground truth: ten batches around 120 um (limits 117..123, moving-range limit 3.7); batch 6 at 124.5 um set
off the alarm, batch 9 at 123.4 um is beyond the limit without an alarm rule firing on it.
"""

from __future__ import annotations

import re

import pytest

from orchestration.reporting.svg_charts import control_chart

VALUES = [120.1, 119.6, 120.4, 119.9, 120.2, 124.5, 120.0, 119.8, 123.4, 120.3]
POINTS = [(f"{8 + n:02d}:00", value, n == 5) for n, value in enumerate(VALUES)]


def draw() -> str:
    svg = control_chart(POINTS, 120.0, 117.0, 123.0, 3.7, "t", "Coating thickness on COAT-02", "um")
    assert svg is not None
    return svg


def test_the_alarm_point_and_the_point_beyond_the_limits_are_told_apart():
    svg = draw()
    assert svg.count('class="alarm"') == 1 and svg.count('class="beyond"') == 1
    assert len(re.findall(r"<circle ", svg)) == len(VALUES)
    alarm_y = float(re.search(r'class="alarm" cx="[\d.]+" cy="([\d.]+)"', svg).group(1))
    beyond_y = float(re.search(r'class="beyond" cx="[\d.]+" cy="([\d.]+)"', svg).group(1))
    assert alarm_y < beyond_y  # 124.5 is drawn above 123.4


def test_limits_moving_ranges_and_times_are_labelled():
    svg = draw()
    for label in (
        ">123<",
        ">120<",
        ">117<",
        ">3.7<",
        ">08:00<",
        ">17:00<",
        "moving range",
        "Coating thickness",
    ):
        assert label in svg, label
    # nine moving ranges on the lower panel: a second line of points
    polylines = re.findall(r'<polyline points="([^"]+)"', svg)
    assert [len(line.split()) for line in polylines] == [10, 9]


def test_no_points_no_chart():
    assert control_chart([], 120.0, 117.0, 123.0, 3.7, "t", "x", "um") is None


def test_the_spc_section_draws_the_chart_of_the_alarm_with_the_limits_spc_judged_by():
    from datetime import date

    import duckdb

    from orchestration.reporting.section import DaySource
    from orchestration.reporting.sections_alarms import spc_alarms

    conn = duckdb.connect()
    conn.execute("set TimeZone = 'UTC'")
    conn.execute(
        """
        create schema analytics; create schema marts;
        create table marts.fct_quality_measurements as
        select 'Q' || n as measurement_id, 'P1' as product_id, 'COAT-02' as machine_id,
               'coating_thickness' as characteristic, 'um' as unit, v as measured_value,
               timestamptz '2026-03-06 06:00:00+00' + n * interval 1 hour as measured_ts,
               date '2026-03-06' as production_date
        from (select unnest(range(10)) as n, unnest(VALUES_LIST) as v);
        create table analytics.spc_charts as select date '2026-03-06' as production_date,
            'coating_thickness' as characteristic, 'COAT-02' as machine_id, 'P1' as product_id,
            120.0 as center, 117.0 as lcl, 123.0 as ucl, 3.7 as mr_ucl;
        create table analytics.alarms as select date '2026-03-06' as production_date, 'a1' as alarm_id,
            'spc' as source, 'COAT-02' as machine_id, 'coating_thickness/P1' as subject,
            timestamptz '2026-03-06 11:00:00+00' as start_ts, timestamptz '2026-03-06 11:01:00+00' as end_ts,
            'high' as priority, 'Coating thickness on COAT-02 (P1): 1 batch out of control.' as sentence,
            5.0 as score,
            '[{"measurement_id": "Q5", "rules": ["LIMIT"]}, {"measurement_id": "Q4", "rules": ["WE2"]}]'
                as members;
        """.replace("VALUES_LIST", str(VALUES))
    )
    section = spc_alarms(DaySource(conn=conn, day=date(2026, 3, 6), timezone="Europe/Berlin"))
    assert section.chart.count("<svg") == 1 and "Coating thickness on COAT-02 (P1)" in section.chart
    # Q5 set off the alarm (LIMIT is an alarm rule); a Western Electric firing alone (Q4) is a record only
    assert section.chart.count('class="alarm"') == 1 and section.chart.count('class="beyond"') == 1
    assert ">07:00<" in section.chart  # the first batch, in the factory's time (06:00 UTC)


def test_the_waterfall_takes_each_loss_off_planned_busy_time_and_gives_speed_back():
    from orchestration.reporting.svg_charts import waterfall_chart

    svg = waterfall_chart(
        [("Breakdowns", 0.05), ("Idling and minor stops", 0.12), ("Reduced speed", -0.02)], "w", "t", "Left"
    )
    labels = re.findall(r'fill="#5c6675">([^<]+)</text>', svg)
    assert labels[:4] == ["100.0%", "-5.0%", "-12.0%", "+2.0%"] and labels[4] == "85.0%"  # 100 - 5 - 12 + 2
    widths = [float(w) for w in re.findall(r'<rect [^>]*width="([\d.]+)"', svg)]
    assert widths[4] == pytest.approx(widths[0] * 0.85, rel=0.01)  # what is left, to scale
