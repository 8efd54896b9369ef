"""One factory day through the whole graph, into a temporary warehouse: end to end, idempotent, gated."""

from __future__ import annotations

import json

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from orchestration.defs.resources import SimulatedFactory
from tests.conftest import day_through_the_graph
from tests.ocel_checks import (
    assert_cells_per_machine_day_are_the_oee_marts_good_and_scrap,
    assert_completed_cells_trace_to_their_material,
)

DAY = "2026-11-13"  # a Friday


@pytest.fixture(scope="module")
def friday(tmp_path_factory):
    """The Friday through the whole graph once, for the tests that read it (the reruns are in
    test_range_equals_days.py, with the end-to-end tier)."""
    with day_through_the_graph(tmp_path_factory.mktemp("friday"), DAY) as built:
        yield built


def test_one_factory_day_runs_end_to_end(friday):
    platform, result = friday
    assert result.success

    raw_events = platform.query(f"select count(*) from raw.production_events where date = '{DAY}'")[0][0]
    mart_events = platform.query(
        f"select count(*) from marts.fct_process_events where production_date = '{DAY}'"
    )
    assert raw_events > 0
    assert mart_events[0][0] == raw_events  # every landed event reaches the event log
    # Each mart's materialization in Dagster carries its rows of the day (and of all days).
    counts = {
        m.asset_key: m.metadata["dagster/row_count"].value
        for m in result.asset_materializations_for_node("warehouse_models")
    }
    assert counts[dg.AssetKey(["marts", "fct_process_events"])] == raw_events
    assert counts[dg.AssetKey(["marts", "fct_oee_factory_day"])] == 1

    oee = platform.query(
        f"select oee, availability from marts.fct_oee_factory_day where production_date = '{DAY}'"
    )
    assert len(oee) == 1 and 0 < oee[0][0] <= 1.5 and 0 < oee[0][1] <= 1
    # Per shift, intervals crossing a shift change are split: the shifts add up to the machine-day exactly.
    by_shift = platform.query(
        "select machine_id, sum(planned_operation_time_s), sum(actual_production_time_s), sum(produced_qty) "
        f"from marts.fct_oee_machine_shift where production_date = '{DAY}' group by 1 order by 1"
    )
    by_day = platform.query(
        "select machine_id, planned_operation_time_s, actual_production_time_s, produced_qty "
        f"from marts.fct_oee_machine_day where production_date = '{DAY}' order by 1"
    )
    assert len(by_shift) == len(by_day) > 0
    for shifted, daily in zip(by_shift, by_day, strict=True):
        assert shifted[0] == daily[0] and shifted[3] == daily[3]
        assert shifted[1] == pytest.approx(daily[1]) and shifted[2] == pytest.approx(daily[2])
    # The simulated plant delivers everything every KPI needs.
    coverage = platform.query(
        f"select kpi, reason from marts.fct_kpi_coverage where production_date = '{DAY}' order by kpi"
    )
    assert [kpi for kpi, _ in coverage] == sorted(
        ["availability", "cost_of_scrap", "effectiveness", "oee", "process_mining", "quality_ratio"]
    )
    assert [reason for _, reason in coverage if reason is not None] == []

    fitness = platform.query(
        f"select log_fitness, precision from process_mining.conformance where production_date = '{DAY}'"
    )
    assert len(fitness) == 1 and 0 <= fitness[0][0] <= 1 and 0 <= fitness[0][1] <= 1

    director = platform.settings.reports_dir / DAY / "daily" / "director"
    kpis = json.loads(director.with_suffix(".json").read_text())["kpis"]
    board = {kpi["kpi"]: kpi["value"] for kpi in kpis}
    assert board["oee"] == pytest.approx(oee[0][0])  # the day's OEE, as the director reads it
    html = director.with_suffix(".html").read_text()
    assert f"{oee[0][0] * 100:.1f}" in html and "<svg" in html

    checks = result.get_asset_check_evaluations()
    failed = {e.check_name for e in checks if not e.passed}
    # Clean simulated data: every check passes but the warning about the planted sensor gaps.
    assert len(checks) >= 24 and failed == {"sensor_readings_have_no_gaps"}, failed


def test_the_ocel_schema_traces_every_cell_and_counts_what_the_oee_marts_count(friday):
    """Issue 21: the day's per-cell genealogy in schema ocel (the week's: tests/test_range_equals_days.py).
    Every completed cell (graded or packed) comes from exactly one anode and one cathode roll, each slit from
    one coil coated with one slurry batch; at every cell-making machine the cells it processed are the OEE
    mart's good + scrap; the per-cell mart's good cells are the batch marts' good cells at Grading."""
    platform, _ = friday
    assert assert_completed_cells_trace_to_their_material(platform.query) > 1000
    assert assert_cells_per_machine_day_are_the_oee_marts_good_and_scrap(platform.query) > 10_000


def test_failed_blocking_check_stops_the_warehouse(platform, monkeypatch):
    honest_simulate = SimulatedFactory.simulate

    def events_ending_before_they_start(self, day):
        simulated = honest_simulate(self, day)
        events = simulated.tables["production_events"]
        backwards_end = pc.subtract(events["start_ts"], pa.scalar(3_600_000_000, pa.duration("us")))
        simulated.tables["production_events"] = events.set_column(
            events.schema.get_field_index("end_ts"), "end_ts", backwards_end
        )
        return simulated

    monkeypatch.setattr(SimulatedFactory, "simulate", events_ending_before_they_start)
    result = platform.materialize_day(DAY, raise_on_error=False)

    assert not result.success
    failed = {e.check_name: e for e in result.get_asset_check_evaluations() if not e.passed}
    # Every event ends before it starts: the gate quarantines them all, and a day without events is a
    # broken feed, which blocks; the quarantine warning says why the rows were held back.
    blocking = {name for name, e in failed.items() if e.severity == dg.AssetCheckSeverity.ERROR}
    assert blocking == {"production_events_meets_expectations"}
    assert "expect_table_row_count_to_be_between" in str(
        failed["production_events_meets_expectations"].metadata["failed_expectations"]
    )
    assert "end_ts is before start_ts" in failed["production_events_has_no_quarantined_rows"].description
    materialized = {event.asset_key for event in result.get_asset_materialization_events()}
    assert dg.AssetKey(["raw", "production_events"]) in materialized
    assert not {
        key for key in materialized if key.path[0] in ("staging", "marts", "process_mining", "reports")
    }
    assert not platform.settings.warehouse_path.exists() or not platform.query(
        "select * from information_schema.tables where table_schema = 'marts'"
    )
