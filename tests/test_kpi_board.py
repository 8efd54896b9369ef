"""The KPI board on a hand-made month: noise is "as usual", a real change is "worse", with its real sign.

Ground truth: 30 trailing days where breakdowns go 1, 3, 2, 4, 0, 2 ... (a healthy plant's day-to-day spread,
mean 2) and cells completed 1000 +- 30; the judged day is one of three kinds.
"""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from orchestration.reporting.kpi_board import kpi_board
from orchestration.reporting.roles import KpiTarget

DAY = date(2026, 1, 31)
BREAKDOWNS = KpiTarget("breakdowns", "Breakdowns", None, "lower", "count")
CELLS = KpiTarget("cells_completed", "Cells completed", None, "higher", "count")
OEE = KpiTarget("oee", "OEE", 0.75, "higher", "ratio")


def board(breakdowns_today: int, cells_today: int) -> dict:
    conn = duckdb.connect()
    conn.execute("create schema marts")
    conn.execute(
        f"""create table marts.fct_oee_factory_day as
        select d::date as production_date, 0.70 as oee,
               case when d::date = '{DAY}' then {breakdowns_today}
                    else [1, 3, 2, 4, 0, 2][(day(d) % 6) + 1] end as breakdown_count,
               case when d::date = '{DAY}' then {cells_today}
                    else 1000 + [30, -30, 10, -10, 20, -20][(day(d) % 6) + 1] end as cells_completed
        from generate_series(date '2026-01-01', date '{DAY}', interval 1 day) t(d)"""
    )
    missing: list[str] = []
    return {s.kpi.name: s for s in kpi_board(conn, DAY, [BREAKDOWNS, CELLS, OEE], missing)}


def board_with(target: KpiTarget):
    conn = duckdb.connect()
    conn.execute("create schema marts")
    conn.execute(
        "create table marts.fct_oee_factory_day as select d::date as production_date, 0.70 as oee "
        f"from generate_series(date '2026-01-01', date '{DAY}', interval 1 day) t(d)"
    )
    return kpi_board(conn, DAY, [target], [])[0]


def test_an_ordinary_day_is_as_usual_whichever_way_it_moved():
    kpis = board(breakdowns_today=4, cells_today=975)
    assert kpis["breakdowns"].verdict == "as usual (within day-to-day noise)" and not kpis["breakdowns"].worse
    assert kpis["breakdowns"].change > 0  # it did rise, and says so
    assert kpis["cells_completed"].verdict == "as usual (within day-to-day noise)"


def test_a_change_beyond_the_noise_is_worse_with_its_real_sign():
    kpis = board(breakdowns_today=12, cells_today=800)
    breakdowns, cells = kpis["breakdowns"], kpis["cells_completed"]
    assert breakdowns.verdict == "worse than the 30 days before" and breakdowns.worse
    assert breakdowns.change == pytest.approx((12 - breakdowns.trailing_mean) / breakdowns.trailing_mean)
    assert breakdowns.change > 0 and breakdowns.deviation < 0  # shown rising; ranked as a shortfall
    assert cells.verdict == "worse than the 30 days before" and cells.change < 0
    # in words, never a bare sign: a rise of a bad count is "above", a fall of output "below"
    assert breakdowns.comparison.endswith("% above the 30-day mean")
    assert cells.comparison == f"{abs(cells.change) * 100:.1f}% below the 30-day mean"
    assert list(kpis)[0] == "breakdowns"  # the largest shortfall first


def test_a_target_is_judged_against_the_target():
    oee = board(breakdowns_today=2, cells_today=1000)["oee"]
    assert oee.verdict == "worse than target" and oee.change == pytest.approx((0.70 - 0.75) / 0.75)
    assert oee.comparison == "6.7% below target"


def test_a_lower_is_better_kpi_below_its_target_is_better_not_just_on_target():
    scrap = KpiTarget("oee", "Scrap-like", 0.90, "lower", "ratio")  # the 0.70 column, judged lower-is-better
    status = board_with(scrap)
    assert status.verdict == "better than target" and status.comparison == "22.2% below target"


def test_too_few_days_say_how_many():
    conn = duckdb.connect()
    conn.execute("create schema marts")
    conn.execute(
        "create table marts.fct_oee_factory_day as select d::date as production_date, 3 as breakdown_count "
        f"from generate_series(date '{DAY}' - 3, date '{DAY}', interval 1 day) t(d)"
    )
    status = kpi_board(conn, DAY, [BREAKDOWNS], [])[0]
    assert status.trailing_days == 3
    assert status.verdict == "no comparison (only 3 days before: too few to tell noise)"
    assert status.comparison == "equal to the 3-day mean"
