"""The action list on top of every role's report, from a small hand-made warehouse with known figures.

Ground truth, two factory days of a plant whose MTTR target is 1 h (data/reporting/targets.yaml):
- 2026-03-06, a bad day: CAL-02 stopped 4 h by one breakdown (from 07:19 Berlin) and 1 h by another; an RCA
  case on Coating rework opened for the day; cases queue 100 min before Coating, the day's bottleneck,
  against 27 min on the six days before (20 min on five of them, 60 min on the ordinary day);
- 2026-03-05, an ordinary day: GRADE-01 down 3 h 30 min in two stops of 1 h 50 and 1 h 40 (resets, each
  under three times the MTTR target); Coating queues 60 min, three times its normal of 20 min, but nothing
  takes capacity from it; the only open RCA case is an older one.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import duckdb
import pytest

from orchestration.factory_calendar import FactoryCalendar
from orchestration.reporting import render_daily_reports
from orchestration.reporting.actions import HEALTHY

BAD, ORDINARY = date(2026, 3, 6), date(2026, 3, 5)
BERLIN = FactoryCalendar("Europe/Berlin", day_start_hour=6)

WAREHOUSE_SQL = """
create schema marts; create schema process_mining;
create table marts.fct_oee_machine_day as select * from (values
    (date '2026-03-06', 'CAL-02', 'ELEC-1', 'Calendering', 2, 18000.0),
    (date '2026-03-06', 'MIX-01', 'ELEC-1', 'Mixing', 1, 1200.0),
    (date '2026-03-05', 'GRADE-01', 'ASSY-1', 'Grading', 1, 6600.0)
) t(production_date, machine_id, line_id, activity, breakdown_count, breakdown_time_s);
create table marts.fct_machine_state_intervals as select * from (values
    ('CAL-02', 'ELEC-1', 'Calendering', 'breakdown', timestamptz '2026-03-06 12:00:00+00',
     timestamptz '2026-03-06 13:00:00+00', date '2026-03-06'),
    ('CAL-02', 'ELEC-1', 'Calendering', 'breakdown', timestamptz '2026-03-06 06:19:00+00',
     timestamptz '2026-03-06 10:19:00+00', date '2026-03-06'),
    ('CAL-02', 'ELEC-1', 'Calendering', 'producing', timestamptz '2026-03-06 10:19:00+00',
     timestamptz '2026-03-06 12:00:00+00', date '2026-03-06'),
    ('GRADE-01', 'ASSY-1', 'Grading', 'breakdown', timestamptz '2026-03-05 06:00:00+00',
     timestamptz '2026-03-05 07:50:00+00', date '2026-03-05'),
    ('GRADE-01', 'ASSY-1', 'Grading', 'breakdown', timestamptz '2026-03-05 12:00:00+00',
     timestamptz '2026-03-05 13:40:00+00', date '2026-03-05')
) t(machine_id, line_id, activity, state, start_ts, end_ts, production_date);
create table process_mining.activity_bottlenecks as
select d::date as window_end, 1 as window_days, 1 as rank, 'Coating' as activity, 90 as executions,
       60.0 * case d::date when '2026-03-06' then 100 when '2026-03-05' then 60 else 20 end as mean_wait_s,
       null::double as p95_wait_s, null::double as mean_processing_s, 0.4 as wait_share
from generate_series(date '2026-02-28', date '2026-03-06', interval 1 day) t(d)
union all
select date '2026-03-06', 1, 2, 'Mixing', 90, 600.0, null, null, 0.1;
"""


@pytest.fixture(scope="module")
def shelf(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("actions")
    warehouse, state = root / "warehouse.duckdb", root / "state.duckdb"
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("set TimeZone = 'UTC'")
        conn.execute(WAREHOUSE_SQL)
    with duckdb.connect(str(state)) as conn:
        conn.execute("create schema rca")
        conn.execute(
            """create table rca.cases as select * from (values
            ('RCA-20260306-rework-coating', timestamptz '2026-03-07 05:00:00+00', date '2026-03-06', 'rework',
             'Coating: 8 of 20 first passes sent back to rework in 2026-03-06-late (40.0%), at or above its '
             || 'limit 35.0% (baseline 3.6% over 4 days; by chance p = 1.4e-06, limit 0.00011)',
             'Coating', null, null, 'open', 'shift = 2026-03-06-late', 12.0, 1e-06, null),
            ('RCA-20260301-scrap-mixing', timestamptz '2026-03-02 05:00:00+00', date '2026-03-01', 'scrap',
             'Mixing: scrap ratio 2.00%', 'Mixing', 'MIX-01', null, 'investigating', null, null, null, null)
            ) t(case_id, opened_at, production_date, signal_kind, signal, activity, machine_id,
                characteristic, status, top_factor, top_factor_effect, top_factor_p_value, recurring_of)"""
        )
    rendered = {}
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        conn.execute("set TimeZone = 'UTC'")
        for day in (BAD, ORDINARY):
            rendered[day] = render_daily_reports(
                conn,
                day,
                root / "reports",
                ["director", "maintenance", "quality"],
                calendar=BERLIN,
                rca_state=state,
                generated_at=datetime(2026, 3, 7, 5, 30, tzinfo=UTC),
            )
    return rendered


def actions(report) -> list[dict]:
    return json.loads(report.json.read_text())["actions"]


def test_the_bad_day_lists_the_failed_machine_the_case_and_the_queue_with_their_owners(shelf):
    listed = actions(shelf[BAD]["director"])
    assert [(a["owner"], a["severity"], a["evidence"]) for a in listed] == [
        ("maintenance", "critical", "breakdowns"),  # critical first
        ("quality", "high", "rca_cases"),
        ("production", "high", "bottlenecks"),
    ]
    repair, case, queue = listed
    assert "CAL-02" in repair["what"] and "lasted 4 h 00 min" in repair["what"]
    assert repair["size"] == (
        "longest stop 4 h 00 min, over 3 x the MTTR target of 1 h 00 min; down 5 h 00 min in 2 breakdowns"
    )
    assert repair["where"] == "ELEC-1 / Calendering / CAL-02" and repair["since"] == "Fri 06 Mar 07:19"
    assert "RCA-20260306-rework-coating" in case["what"] and "shift = 2026-03-06-late" in case["what"]
    assert case["size"].startswith("8 of 20 first passes") and "by chance" not in case["size"]
    assert queue["what"] == (
        "Protect the bottleneck Coating: cases queue 3.8 times as long as normal before it while it loses "
        "capacity to rework."
    )
    assert queue["size"] == "mean wait 1 h 40 min against 27 min over the previous 6 days"


def test_each_role_sees_its_own_actions_first_and_links_only_to_sections_it_has(shelf):
    assert [a["owner"] for a in actions(shelf[BAD]["quality"])][0] == "quality"
    assert [a["owner"] for a in actions(shelf[BAD]["maintenance"])][0] == "maintenance"
    html = shelf[BAD]["quality"].html.read_text()
    top = html.index('id="actions"')
    assert top < html.index('id="kpis"')  # the list comes first
    assert 'href="#rca_cases"' in html and 'href="#breakdowns"' not in html  # quality has no breakdowns


def test_an_ordinary_day_says_so_in_one_line(shelf):
    for report in shelf[ORDINARY].values():
        assert actions(report) == []
        assert HEALTHY in report.html.read_text()
