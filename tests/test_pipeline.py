"""One factory day through the whole graph, into a temporary warehouse: end to end, idempotent, gated."""

from __future__ import annotations

import json

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from orchestration.defs.resources import SimulatedFactory
from tests.conftest import day_through_the_graph

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
    """Issue 21: the day's per-cell genealogy in schema ocel. Every completed cell (graded or packed) comes
    from exactly one anode and one cathode roll, each slit from one coil coated with one slurry batch; and at
    every cell-making machine the cells it processed are the OEE mart's good + scrap."""
    platform, _ = friday
    completed = platform.query(
        """select a.ocel_id from ocel.object_attribute a
           where a.name = 'status'
           qualify row_number() over (partition by a.ocel_id order by a.ocel_time desc,
               case a.value_str when 'packed' then 2 when 'graded' then 1 else 0 end desc) = 1
               and a.value_str in ('graded', 'packed')"""
    )
    assert len(completed) > 1000
    chains = platform.query(
        """with completed as (
               select ocel_id from ocel.object_attribute where name = 'status'
               qualify row_number() over (partition by ocel_id order by ocel_time desc,
                   case value_str when 'packed' then 2 when 'graded' then 1 else 0 end desc) = 1
                   and value_str in ('graded', 'packed'))
           select c.ocel_id,
                  count(*) filter (where r.ocel_qualifier = 'anode from') as anode_rolls,
                  count(*) filter (where r.ocel_qualifier = 'cathode from') as cathode_rolls,
                  count(distinct coil.ocel_target_id) as coils,
                  count(distinct slurry.ocel_target_id) as slurries,
                  count(distinct slurry_type.ocel_type) as slurry_types
           from completed c
           join ocel.object_object r
             on r.ocel_source_id = c.ocel_id and r.ocel_qualifier in ('anode from', 'cathode from')
           join ocel.object_object coil
             on coil.ocel_source_id = r.ocel_target_id and coil.ocel_qualifier = 'slit from'
           join ocel.object_object slurry
             on slurry.ocel_source_id = coil.ocel_target_id and slurry.ocel_qualifier = 'coated with'
           join ocel.object slurry_type on slurry_type.ocel_id = slurry.ocel_target_id
           group by c.ocel_id"""
    )
    assert len(chains) == len(completed)  # none without its rolls
    assert {row[1:] for row in chains} == {(1, 1, 2, 2, 1)}  # one roll each, two coils, two slurry batches

    per_machine = platform.query(
        f"""with cell_events as (
                select machine.ocel_object_id as machine_id, count(*) as cells
                from ocel.event e
                join ocel.event_object own on own.ocel_event_id = e.ocel_id
                join ocel.object o on o.ocel_id = own.ocel_object_id and o.ocel_type = 'cell'
                join ocel.event_object machine
                  on machine.ocel_event_id = e.ocel_id and machine.ocel_qualifier = 'machine'
                where e.production_date = '{DAY}'
                group by 1)
            select m.machine_id, m.good_qty + m.scrap_qty, coalesce(c.cells, 0)
            from marts.fct_oee_machine_day m left join cell_events c using (machine_id)
            where m.production_date = '{DAY}'
              and m.activity not in ('Mixing', 'Coating', 'Drying', 'Calendering', 'Slitting')"""
    )
    assert len(per_machine) >= 6 and sum(row[1] for row in per_machine) > 10_000
    assert [row for row in per_machine if row[1] != row[2]] == []
    # The per-cell mart's good cells of the day are the batch marts' good cells at the final step.
    per_cell, per_batch = platform.query(
        f"""select (select sum(cells_good) from marts.fct_cell_flow_day where production_date = '{DAY}'),
                   (select sum(good_cells) from marts.fct_quality_yield
                    where production_date = '{DAY}' and activity = 'Grading')"""
    )[0]
    assert per_cell == per_batch > 1000


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
