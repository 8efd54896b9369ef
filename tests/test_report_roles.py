"""Role reports and shift handovers from a small hand-made warehouse with known figures.

Ground truth: 30 ordinary days (OEE 0.80, first-pass yield 0.93, cost per good cell 17.00 EUR) and a bad day
2026-01-31 (OEE 0.60, first-pass yield 0.90, cost per good cell 47.1234 EUR, crew Q7 on the late shift); on
that day machine COAT-01 breaks down at 21:30 local time and is still down at the 22:00 handover.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime

import duckdb
import pytest

from orchestration.factory_calendar import FactoryCalendar, ShiftSlot
from orchestration.plant import resolve_plant
from orchestration.reporting import render_daily_reports, render_shift_handover
from orchestration.reporting.roles import load_reporting_config
from orchestration.reporting.section_catalogue import SECTION_BUILDERS, SECTION_CLASSES

DAY = date(2026, 1, 31)
GENERATED = datetime(2026, 2, 1, 5, 30, tzinfo=UTC)
BERLIN = FactoryCalendar(
    "Europe/Berlin",
    6,
    (
        ShiftSlot("early", datetime(2000, 1, 1, 6).time(), 8),
        ShiftSlot("late", datetime(2000, 1, 1, 14).time(), 8),
        ShiftSlot("night", datetime(2000, 1, 1, 22).time(), 8),
    ),
)
FINANCE_ONLY = "47.12"  # cost per good cell of the day, as the finance report prints it
CREW = "Q7"
STYLE = re.compile(r"<style\b.*?</style>", re.DOTALL)

WAREHOUSE_SQL = """
create schema marts; create schema analytics;
create table marts.fct_oee_factory_day as
select d::date as production_date,
       case when d::date = '2026-01-31' then 0.60 else 0.80 end as oee,
       0.90 as availability, 0.90 as effectiveness, 0.98 as quality_ratio,
       case when d::date = '2026-01-31' then 0.90 else 0.93 end as first_pass_yield,
       1000 as cells_completed, 0.01 as scrap_ratio, 0.03 as rework_ratio,
       case when d::date = '2026-01-31' then 5 else 1 end as breakdown_count,
       36000.0 as mtbf_s, 1800.0 as mttr_s, 100000.0 as planned_busy_time_s,
       case when d::date = '2026-01-31' then 20000.0 else 5000.0 end as loss_breakdowns_s,
       3000.0 as loss_setup_adjustment_s, 2000.0 as loss_idling_minor_stops_s, 1000.0 as loss_reduced_speed_s,
       500.0 as loss_process_defects_s, 100.0 as loss_startup_rejects_s,
       1100 as produced_qty, 1000 as good_qty, 11 as scrap_qty, 33 as rework_qty, 2 as machine_count
from generate_series(date '2026-01-01', date '2026-01-31', interval 1 day) t(d);
create table marts.fct_economics_day as
select d::date as production_date, 'EUR' as currency, 30000.0 as revenue, 9000.0 as conversion_cost,
       8000.0 as material_cost, 1234.5 as scrap_cost,
       case when d::date = '2026-01-31' then 47.1234 else 17.0 end as cost_per_good_cell,
       4000.0 as margin, 0.1333 as margin_ratio
from generate_series(date '2026-01-01', date '2026-01-31', interval 1 day) t(d);
create table marts.fct_oee_machine_day as select * from (values
    ('2026-01-31'::date, 'COAT-01', 'L1', 'Coating', 0.55, 0.70, 0.85, 0.92, 600, 540, 20, 5, 3, 9000.0,
     8000.0, 3000.0, 20000.0, 3000.0, 2000.0, 1000.0, 500.0, 100.0),
    ('2026-01-31'::date, 'MIX-01', 'L1', 'Mixing', 0.75, 0.95, 0.85, 0.93, 500, 460, 0, 0, 2, 1000.0,
     30000.0, 500.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
) t(production_date, machine_id, line_id, activity, oee, availability, effectiveness, quality_ratio,
    produced_qty, good_qty, scrap_qty, rework_qty, breakdown_count, breakdown_time_s, mtbf_s, mttr_s,
    loss_breakdowns_s, loss_setup_adjustment_s, loss_idling_minor_stops_s, loss_reduced_speed_s,
    loss_process_defects_s, loss_startup_rejects_s);
create table marts.fct_shift_comparison as select * from (values
    ('2026-01-31'::date, 'S1', 'early', 'A1', 40, 500.0, 3.1, 0.82, 0.81, 0.80, 0.75, 0.85),
    ('2026-01-31'::date, 'S2', 'late', 'Q7', 38, 300.0, 2.2, 0.55, 0.57, 0.79, 0.74, 0.84)
) t(production_date, shift_id, shift_name, crew_id, staffed_headcount, cells_completed,
    output_per_staffed_hour, oee, oee_adjusted, crew_oee_adjusted_mean_28d, crew_oee_adjusted_ci_low_28d,
    crew_oee_adjusted_ci_high_28d);
create table analytics.spc_violations as select * from (values
    ('2026-01-31'::date, 'coating_thickness', 'COAT-01', 'WE1', 'one point beyond 3 sigma',
     timestamptz '2026-01-31 20:10:00+00', false),
    ('2026-01-31'::date, 'coating_thickness', 'COAT-01', 'WE1', 'one point beyond 3 sigma',
     timestamptz '2026-01-31 20:20:00+00', false)
) t(production_date, characteristic, machine_id, rule, rule_description, measured_ts, warm_up);
-- The problems those add up to: the chart out of control; a sensor still off at the late shift's end
-- (21:00 UTC), a small one over by 16:00
create table analytics.alarms as select * from (values
    ('2026-01-31'::date, 'a1', 'spc', 'COAT-01', 'coating_thickness/P1',
     timestamptz '2026-01-31 20:10:00+00', timestamptz '2026-01-31 20:21:00+00', 'high',
     'Coating thickness on COAT-01 (P1): 2 batches out of control.', 5.0, '[]'),
    ('2026-01-31'::date, 'a2', 'sensor', 'COAT-01', 'COAT-01.oven_temperature',
     timestamptz '2026-01-31 20:45:00+00', timestamptz '2026-01-31 21:30:00+00', 'critical',
     'COAT-01: oven temperature 12 degC above normal since 21:45.', 9.0, '[]'),
    ('2026-01-31'::date, 'a3', 'sensor', 'MIX-01', 'MIX-01.viscosity', timestamptz '2026-01-31 15:00:00+00',
     timestamptz '2026-01-31 15:05:00+00', 'low', 'MIX-01: viscosity briefly high at 16:00.', 1.0, '[]')
) t(production_date, alarm_id, source, machine_id, subject, start_ts, end_ts, priority, sentence, score,
    members);
-- Handover of the late shift (14:00-22:00 Berlin = 13:00-21:00 UTC)
create table marts.fct_machine_state_intervals as select * from (values
    ('COAT-01', 'L1', 'Coating', 'producing', timestamptz '2026-01-31 13:00:00+00',
     timestamptz '2026-01-31 20:30:00+00'),
    ('COAT-01', 'L1', 'Coating', 'breakdown', timestamptz '2026-01-31 20:30:00+00',
     timestamptz '2026-01-31 22:15:00+00'),
    ('MIX-01', 'L1', 'Mixing', 'producing', timestamptz '2026-01-31 13:00:00+00',
     timestamptz '2026-02-01 05:00:00+00')
) t(machine_id, line_id, activity, state, start_ts, end_ts);
create table marts.fct_oee_machine_shift as select * from (values
    ('2026-01-31'::date, 'late', 'COAT-01', 'Coating', 0.40, 1),
    ('2026-01-31'::date, 'late', 'MIX-01', 'Mixing', 0.80, 0)
) t(production_date, shift_name, machine_id, activity, oee, breakdown_count);
-- Three batches in progress at 21:00 UTC: B1 waits after Mixing, B2 is being coated, B3 not started; B4 done.
create table marts.dim_batch as select * from (values
    ('B1', timestamptz '2026-01-31 14:00:00+00', null::timestamptz),
    ('B2', timestamptz '2026-01-31 14:00:00+00', null::timestamptz),
    ('B3', timestamptz '2026-01-31 20:50:00+00', null::timestamptz),
    ('B4', timestamptz '2026-01-31 13:00:00+00', timestamptz '2026-01-31 18:00:00+00')
) t(case_id, released_ts, completed_ts);
create table marts.fct_process_events as select * from (values
    ('B1', 'Mixing', timestamptz '2026-01-31 14:00:00+00', timestamptz '2026-01-31 16:00:00+00'),
    ('B2', 'Mixing', timestamptz '2026-01-31 14:00:00+00', timestamptz '2026-01-31 16:00:00+00'),
    ('B2', 'Coating', timestamptz '2026-01-31 20:00:00+00', timestamptz '2026-01-31 23:00:00+00'),
    ('B4', 'Mixing', timestamptz '2026-01-31 13:00:00+00', timestamptz '2026-01-31 18:00:00+00')
) t(case_id, activity, start_ts, end_ts);
"""


@pytest.fixture(scope="module")
def shelf(tmp_path_factory) -> dict:
    """Every role's daily report and the late shift's handover of DAY, rendered once for the module."""
    root = tmp_path_factory.mktemp("roles")
    warehouse = root / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("set TimeZone = 'UTC'")
        conn.execute(WAREHOUSE_SQL)
    state = root / "state.duckdb"
    with duckdb.connect(str(state)) as conn:
        conn.execute("create schema rca")
        conn.execute(
            """create table rca.cases as select * from (values
            ('RCA-0007', timestamptz '2026-02-01 05:00:00+00', date '2026-01-31', 'rework', 'coating rework',
             'Coating', 'COAT-01', 'investigating', 'shift=late', 0.21, 0.0004, null),
            ('RCA-0001', timestamptz '2026-01-10 05:00:00+00', date '2026-01-09', 'scrap', 'old closed case',
             'Mixing', 'MIX-01', 'closed', 'crew=A1', 0.05, 0.2, null)
            ) t(case_id, opened_at, production_date, signal_kind, signal, activity, machine_id, status,
                top_factor, top_factor_effect, top_factor_p_value, recurring_of)"""
        )
    reports = root / "reports"
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        conn.execute("set TimeZone = 'UTC'")
        daily = render_daily_reports(
            conn, DAY, reports, calendar=BERLIN, rca_state=state, generated_at=GENERATED
        )
        handover = render_shift_handover(conn, DAY, "late", reports, calendar=BERLIN, generated_at=GENERATED)
    return {"daily": daily, "handover": handover, "reports": reports}


def page(report) -> tuple[str, dict]:
    return report.html.read_text(encoding="utf-8"), json.loads(report.json.read_text(encoding="utf-8"))


def test_every_role_gets_its_own_report_on_the_shelf(shelf):
    config = load_reporting_config(sections=frozenset(SECTION_BUILDERS))
    assert set(shelf["daily"]) == {"director", "production", "quality", "maintenance", "finance"}
    for role, report in shelf["daily"].items():
        assert report.html == shelf["reports"] / "2026-01-31" / "daily" / f"{role}.html"
        html, figures = page(report)
        assert figures["role"] == role and figures["production_date"] == "2026-01-31"
        visible = {s for s in config.roles[role].sections if config.roles[role].sees(SECTION_CLASSES.get(s))}
        assert {s["key"] for s in figures["sections"]} == visible
        assert "@media print" in html and 'name="viewport"' in html and "<script" not in html


@pytest.mark.parametrize("role", ["maintenance", "quality", "production"])
def test_cost_figures_never_reach_roles_without_cost(shelf, role):
    html, _ = page(shelf["daily"][role])
    text = STYLE.sub("", html) + shelf["daily"][role].json.read_text()  # CSS has margins of another kind
    assert FINANCE_ONLY not in text and "47.1234" not in text
    for word in ("cost_per_good_cell", "cost per good cell", "margin", "scrap cost", "economics"):
        assert word not in text.lower(), word
    assert "EUR" not in text


@pytest.mark.parametrize("may_see", [[], ["cost"]])
def test_a_role_asking_for_cost_sections_gets_them_only_when_it_may_see_cost(shelf, tmp_path, may_see):
    roles = tmp_path / "roles.yaml"
    roles.write_text(
        "figure_classes: [cost, per_operator]\n"
        f"roles:\n  curious: {{may_see: {may_see}, kpis: [cost_per_good_cell, oee], sections: [economics]}}\n"
    )
    config = load_reporting_config(roles_path=roles, sections=frozenset(SECTION_BUILDERS))
    warehouse = shelf["reports"].parent / "warehouse.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        rendered = render_daily_reports(
            conn, DAY, tmp_path, calendar=BERLIN, config=config, generated_at=GENERATED
        )
    html, figures = page(rendered["curious"])
    assert (FINANCE_ONLY in html) == bool(may_see)
    assert ("cost_per_good_cell" in json.dumps(figures)) == bool(may_see)
    assert [k["kpi"] for k in figures["kpis"]] == (["cost_per_good_cell", "oee"] if may_see else ["oee"])


def test_finance_and_director_see_the_cost_figure(shelf):
    for role in ("finance", "director"):
        html, figures = page(shelf["daily"][role])
        assert FINANCE_ONLY in html
        assert any(
            k["kpi"] == "cost_per_good_cell" and k["value"] == pytest.approx(47.1234) for k in figures["kpis"]
        )


@pytest.mark.parametrize(
    ("role", "sees_crew"),
    [
        ("director", True),
        ("production", True),
        ("quality", False),
        ("maintenance", False),
        ("finance", False),
    ],
)
def test_crew_figures_only_where_allowed(shelf, role, sees_crew):
    html, figures = page(shelf["daily"][role])
    text = html + json.dumps(figures)
    assert (CREW in text) == sees_crew
    assert ("crews" in {s["key"] for s in figures["sections"]}) == sees_crew


def test_kpis_against_target_and_trailing_30_days_worst_first(shelf):
    _, figures = page(shelf["daily"]["director"])
    kpis = {k["kpi"]: k for k in figures["kpis"]}
    oee = kpis["oee"]
    assert oee["value"] == pytest.approx(0.60) and oee["trailing_30d_mean"] == pytest.approx(0.80)
    assert oee["deviation"] == pytest.approx((0.60 - 0.75) / 0.75)  # target 0.75
    # breakdowns have no target: 5 against a 30-day mean of 1 is 400 % worse, the largest shortfall
    assert kpis["breakdowns"]["deviation"] == pytest.approx(-4.0)
    deviations = [k["deviation"] for k in figures["kpis"] if k["deviation"] is not None]
    assert deviations == sorted(deviations) and figures["kpis"][0]["kpi"] == "breakdowns"
    # each KPI with its chart
    html, _ = page(shelf["daily"]["director"])
    assert html.count('class="kpi ') == len(figures["kpis"]) and html.count("<svg") >= len(figures["kpis"])


def test_the_largest_loss_section_names_breakdowns_at_coating(shelf):
    _, figures = page(shelf["daily"]["production"])
    losses = next(s for s in figures["sections"] if s["key"] == "oee_losses")
    assert losses["rows"][0]["label"] == "Breakdowns" and losses["rows"][0]["worst_step"] == "Coating"
    assert losses["rows"][0]["share_of_pbt"] == pytest.approx(0.20)
    assert losses["rows"][0]["trailing_mean_s"] == pytest.approx(5000.0)


def test_missing_inputs_mark_the_report_incomplete_and_say_what(shelf):
    report = shelf["daily"]["quality"]  # no yield, capability or Pareto marts in this warehouse
    html, figures = page(report)
    assert not report.complete and not figures["complete"]
    assert "INCOMPLETE" in html
    assert any("marts.fct_quality_yield not found" in item for item in figures["missing"])
    assert report.missing == figures["missing"]


def test_open_rca_cases_in_the_quality_report(shelf):
    _, figures = page(shelf["daily"]["quality"])
    rca = next(s for s in figures["sections"] if s["key"] == "rca_cases")
    assert [case["case_id"] for case in rca["rows"]] == ["RCA-0007"]  # the closed case is not listed
    assert rca["rows"][0]["top_factor"] == "shift=late"


def test_blocked_checks_mark_every_role_incomplete(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute(WAREHOUSE_SQL)
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        rendered = render_daily_reports(
            conn,
            DAY,
            tmp_path,
            roles=["finance"],
            calendar=BERLIN,
            blocked_checks=["production_events_meets_expectations"],
        )
    html, figures = page(rendered["finance"])
    assert not rendered["finance"].complete
    assert "blocking check production_events_meets_expectations failed" in " ".join(figures["missing"])
    assert "INCOMPLETE" in html and "production_events_meets_expectations" in html


def test_shift_handover_shows_the_machine_down_the_open_issues_and_the_queues(shelf):
    report = shelf["handover"]
    assert report.html == shelf["reports"] / "2026-01-31" / "handover" / "late.html"
    html, figures = page(report)
    sections = {s["key"]: s for s in figures["sections"]}
    status = {r["machine_id"]: r["status"] for r in sections["machines_status"]["rows"]}
    assert status == {"COAT-01": "down"}  # MIX-01 ran at 0.80: neither down nor degraded
    breakdowns = sections["breakdowns_in_shift"]["rows"]
    assert [(r["machine_id"], r["still_open"]) for r in breakdowns] == [("COAT-01", True)]
    # one alarm per problem, from analytics.alarms: the chart, and the sensor still off at the handover
    assert [r["subject"] for r in sections["spc_in_shift"]["rows"]] == ["Coating thickness (P1)"]
    sensors = sections["anomalies_in_shift"]["rows"]
    assert [(r["priority"], r["still_on"]) for r in sensors] == [("critical", True), ("low", False)]
    queues = {r["activity"]: (r["in_process"], r["waiting"]) for r in sections["wip_queues"]["rows"]}
    assert queues == {"Mixing": (0, 1), "Coating": (1, 0), "(released, not started)": (0, 1)}
    assert figures["watch"][:3] == [
        "COAT-01 is down (breakdown since 21:30).",  # local time
        "Still on: COAT-01: oven temperature 12 degC above normal since 21:45.",
        "Coating thickness on COAT-01 (P1): 2 batches out of control.",
    ]  # the low alarm, over long before the handover, is not for the next shift
    assert "COAT-01 is down" in html
    assert figures["start"] == "2026-01-31T13:00:00+00:00" and figures["end"] == "2026-01-31T21:00:00+00:00"


def test_shift_windows_follow_the_wall_clock_across_dst():
    # spring forward in the night of 2026-03-28/29: the night shift lasts 7 real hours
    start, end = BERLIN.shift_window(date(2026, 3, 28), "night")
    assert (end - start).total_seconds() == 7 * 3600
    assert BERLIN.shift_ending_at(end) == (date(2026, 3, 28), "night")
    # the default plant's pattern is the scenario's
    assert resolve_plant().calendar == BERLIN


def test_a_role_config_naming_an_unknown_section_is_refused(tmp_path):
    roles = tmp_path / "roles.yaml"
    roles.write_text("figure_classes: [cost]\nroles:\n  x: {sections: [no_such_section], kpis: []}\n")
    with pytest.raises(ValueError, match="no_such_section"):
        load_reporting_config(roles_path=roles, sections=frozenset(SECTION_BUILDERS))


def test_command_line_renders_one_role_and_one_handover(shelf, tmp_path, capsys):
    from orchestration.reporting.__main__ import main

    warehouse = shelf["reports"].parent / "warehouse.duckdb"
    code = main(
        [
            "--day",
            "2026-01-31",
            "--role",
            "finance",
            "--handover",
            "early",
            "--warehouse",
            str(warehouse),
            "--reports",
            str(tmp_path),
        ]
    )
    out = capsys.readouterr().out
    assert (tmp_path / "2026-01-31" / "daily" / "finance.html").exists()
    assert (tmp_path / "2026-01-31" / "handover" / "early.html").exists()
    assert not (tmp_path / "2026-01-31" / "daily" / "director.html").exists()
    assert "daily finance" in out and code in (0, 2)


def test_the_handover_shows_only_what_its_shift_saw(shelf):
    # COAT-01 broke down at 20:30 UTC and came back at 22:15 UTC, after the late shift's end (21:00 UTC):
    # the shift hands over 30 minutes down and no return time it could not have known
    _, figures = page(shelf["handover"])
    sections = {s["key"]: s for s in figures["sections"]}
    (breakdown,) = sections["breakdowns_in_shift"]["rows"]
    assert breakdown["duration_s"] == pytest.approx(1800.0) and breakdown["end_ts"] is None
    assert breakdown["still_open"]
