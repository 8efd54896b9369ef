"""The marts against the simulator's ground truth at the default scale, and against recomputation.

Two factory days (Thursday and Friday of the demo week) of the default plant with one planted change: Stacking
runs at 3.0 s per cell instead of 2.22, which makes it the plant's constraint (the truth table names it from
the simulation's own queue times). Friday's late shift is the planted bad shift (the coating room runs 5 degC
warm, so coating checks fail more often). One `dbt run` builds every mart; the tests read the warehouse.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pytest
import yaml
from scipy import stats

from orchestration.lake.writer import write_partition
from orchestration.settings import DATA_DIR
from orchestration.simulator import load_scenario
from orchestration.simulator.engine import run_factory_day
from tests.dbt_cli import run_dbt

pytest.importorskip("dbt.adapters.duckdb")

DAYS = (date(2026, 11, 12), date(2026, 11, 13))
PLANTED_BOTTLENECK = "Stacking"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("ground_truth")
    scenario = work / "scenario.yaml"
    scenario.write_text(
        yaml.safe_dump(
            {
                "base": str(DATA_DIR / "scenarios" / "default.yaml"),
                "route": {PLANTED_BOTTLENECK: {"planned_runtime_per_unit_s": 3.0}},
            }
        )
    )
    config = load_scenario(scenario)
    for day in DAYS:
        simulated = run_factory_day(config, day)
        for table, data in simulated.tables.items():
            write_partition(work / "lake", table, day.isoformat(), data)
        write_partition(work / "lake", "sensor_readings", day.isoformat(), simulated.telemetry.batches())
        for table, data in simulated.truth.items():
            write_partition(work / "lake", table, day.isoformat(), data, layer="truth")
    run_dbt(work, "run")
    return work / "warehouse.duckdb"


def rows(database: Path, sql: str, *params) -> list[dict]:
    with duckdb.connect(str(database), read_only=True) as con:
        cursor = con.execute(sql, list(params))
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def test_the_planted_bottleneck_has_the_highest_utilization(warehouse: Path) -> None:
    busiest = rows(
        warehouse,
        "select production_date, arg_max(activity, utilization) as step, max(utilization) as utilization"
        " from marts.fct_oee_step_day group by all order by 1",
    )
    truth = rows(
        warehouse,
        "select date as production_date, target_id as step from truth.planted_effects"
        " where effect = 'bottleneck' order by 1",
    )
    assert [(r["production_date"], r["step"]) for r in busiest] == [(day, PLANTED_BOTTLENECK) for day in DAYS]
    assert [(r["production_date"], r["step"]) for r in truth] == [(day, PLANTED_BOTTLENECK) for day in DAYS]
    assert all(r["utilization"] > 0.99 for r in busiest)


def test_the_planted_bad_shift_has_the_lowest_coating_first_pass_yield(warehouse: Path) -> None:
    by_shift = rows(
        warehouse,
        """
        select shift_id, sum(first_pass_good_cells) / sum(first_pass_decided_cells) as fpy
        from marts.fct_quality_yield where activity = 'Coating' group by shift_id order by fpy
        """,
    )
    (bad,) = rows(
        warehouse,
        """
        select shifts.shift_id from truth.planted_effects as truth
        join marts.dim_shift as shifts on shifts.start_ts = truth.start_ts and shifts.end_ts = truth.end_ts
        where truth.effect = 'bad_shift'
        """,
    )
    assert len(by_shift) == 6
    assert by_shift[0]["shift_id"] == bad["shift_id"] == "2026-11-13-late"
    # the batch dimension sees the warm room: coating in the bad shift ran about 5 degC warmer
    (warm,) = rows(
        warehouse,
        """
        select avg(ambient_step_temperature_c) filter (where coated.shift_id = '2026-11-13-late')
             - avg(ambient_step_temperature_c) filter (where coated.shift_id <> '2026-11-13-late') as excess
        from marts.dim_batch as batches
        join marts.fct_process_events as coated
          on coated.case_id = batches.case_id and coated.activity = 'Coating' and not coated.is_rework
        """,
    )
    assert warm["excess"] == pytest.approx(5.0, abs=1.0)


ADDITIVE = ("planned_busy_time_s", "actual_production_time_s", "produced_qty", "good_qty", "scrap_qty")


def test_line_oee_equals_recomputation_from_the_time_model(warehouse: Path) -> None:
    """Line OEE straight from state intervals and process events (another path than the marts' sums)."""
    recomputed = rows(
        warehouse,
        """
        with times as (
            select production_date, machine_id,
                   sum(epoch(end_ts) - epoch(start_ts)) filter (where state <> 'planned_maintenance') as pbt,
                   coalesce(sum(epoch(end_ts) - epoch(start_ts)) filter (where state = 'producing'), 0) as apt
            from marts.fct_machine_state_intervals group by all
        ),
        output as (
            select events.production_date, events.machine_id,
                   sum(events.produced_qty) as produced, sum(events.good_qty) as good,
                   sum(events.produced_qty * machines.planned_runtime_per_unit_s) as planned_output
            from marts.fct_process_events as events
            join marts.dim_machine as machines using (machine_id)
            group by all
        )
        select times.production_date, machines.line_id,
               sum(apt) / sum(pbt) as availability,
               sum(planned_output) / sum(apt) as effectiveness,
               sum(good) / sum(produced) as quality_ratio
        from times
        join marts.dim_machine as machines using (machine_id)
        left join output using (production_date, machine_id)
        group by all order by all
        """,
    )
    marts = rows(
        warehouse,
        "select production_date, line_id, availability, effectiveness, quality_ratio, oee"
        " from marts.fct_oee_line_day order by all",
    )
    assert len(marts) == len(recomputed) == 3 * 2  # three lines (electrode, assembly, formation), two days
    for mart, again in zip(marts, recomputed, strict=True):
        assert (mart["production_date"], mart["line_id"]) == (again["production_date"], again["line_id"])
        for ratio in ("availability", "effectiveness", "quality_ratio"):
            assert mart[ratio] == pytest.approx(again[ratio], rel=1e-9)
        product = again["availability"] * again["effectiveness"] * again["quality_ratio"]
        assert mart["oee"] == pytest.approx(product, rel=1e-9)


def test_roll_ups_add_up_and_the_six_losses_close_the_oee_gap(warehouse: Path) -> None:
    sums = ", ".join(f"sum({c}) as {c}" for c in ADDITIVE)
    for grain in ("fct_oee_line_day", "fct_oee_step_day", "fct_oee_machine_shift"):
        rolled = rows(warehouse, f"select production_date, {sums} from marts.{grain} group by 1 order by 1")
        factory = rows(
            warehouse,
            f"select production_date, {', '.join(ADDITIVE)} from marts.fct_oee_factory_day order by 1",
        )
        assert len(rolled) == len(factory) == 2
        for got, want in zip(rolled, factory, strict=True):
            for column in ADDITIVE:
                assert got[column] == pytest.approx(want[column], rel=1e-9), (grain, column)
    losses = rows(
        warehouse,
        """
        select planned_busy_time_s - planned_runtime_per_unit_s * good_qty as gap,
               loss_breakdowns_s + loss_setup_adjustment_s + loss_idling_minor_stops_s + loss_reduced_speed_s
               + loss_process_defects_s + loss_startup_rejects_s as losses,
               planned_busy_time_s * (1 - coalesce(oee, 0)) as oee_gap
        from marts.fct_oee_machine_day
        """,
    )
    assert len(losses) == 2 * 32
    for machine_day in losses:
        assert machine_day["losses"] == pytest.approx(machine_day["gap"], abs=1e-6)
        assert machine_day["losses"] == pytest.approx(machine_day["oee_gap"], abs=1e-6)


def test_shift_comparison_regression_is_least_squares_with_t_intervals(warehouse: Path) -> None:
    shifts = rows(warehouse, "select * from marts.fct_shift_comparison order by production_date, shift_id")
    assert len(shifts) == 6
    friday = [s for s in shifts if s["production_date"] == DAYS[1]]
    # Friday's fit covers both days (its 28-day window): ordinary least squares on the six shifts
    design = np.array([[1.0, s["staffed_headcount"], s["equipment_share"]] for s in shifts])
    oee = np.array([s["oee"] for s in shifts])
    beta, *_ = np.linalg.lstsq(design, oee, rcond=None)
    for shift in friday:
        assert shift["model_shift_count"] == 6
        expected = beta @ [1.0, shift["staffed_headcount"], shift["equipment_share"]]
        assert shift["expected_oee"] == pytest.approx(expected, abs=1e-9)
        assert shift["oee_adjusted"] == pytest.approx(shift["oee"] - expected + oee.mean(), abs=1e-9)
    # each crew's interval over the window: mean of the adjusted OEEs under Friday's fit, Student's t
    adjusted = defaultdict(list)
    for shift, row in zip(shifts, design, strict=True):
        adjusted[shift["crew_id"]].append(shift["oee"] - beta @ row + oee.mean())
    for shift in friday:
        values = np.array(adjusted[shift["crew_id"]])
        assert shift["crew_shift_count_28d"] == len(values)
        assert shift["crew_oee_adjusted_mean_28d"] == pytest.approx(values.mean(), abs=1e-9)
        if len(values) > 1:
            half = stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
            width = shift["crew_oee_adjusted_ci_high_28d"] - shift["crew_oee_adjusted_mean_28d"]
            assert width == pytest.approx(half, rel=2e-3)
        # output per staffed hour: the final step's good cells per person-hour of the shift
        assert shift["output_per_staffed_hour"] == pytest.approx(
            shift["cells_completed"] / (shift["staffed_headcount"] * 8.0), rel=1e-12
        )


def test_process_capability_matches_an_individuals_chart(warehouse: Path) -> None:
    samples = defaultdict(list)
    for m in rows(
        warehouse,
        """
        select production_date, characteristic, product_id, machine_id, measured_value, lsl, usl
        from marts.fct_quality_measurements where measured_value is not null
        order by measured_ts, measurement_id
        """,
    ):
        key = (m["production_date"], m["characteristic"], m["product_id"], m["machine_id"])
        samples[key].append((m["measured_value"], m["lsl"], m["usl"]))
    capability = rows(warehouse, "select * from marts.fct_process_capability")
    assert len(capability) == len(samples) > 50
    for row in capability:
        values = np.array(
            [
                v
                for v, _, _ in samples[
                    (
                        row["production_date"],
                        *[row[c] for c in ("characteristic", "product_id", "machine_id")],
                    )
                ]
            ]
        )
        lsl, usl = row["lsl"], row["usl"]
        assert row["sample_count"] == len(values)
        if len(values) < 3 or lsl is None or usl is None:
            continue
        sigma = np.abs(np.diff(values)).mean() / 1.128
        assert row["cp"] == pytest.approx((usl - lsl) / (6 * sigma), rel=1e-9)
        assert row["cpk"] == pytest.approx(
            min(usl - values.mean(), values.mean() - lsl) / (3 * sigma), rel=1e-9
        )
        assert row["ppk"] == pytest.approx(
            min(usl - values.mean(), values.mean() - lsl) / (3 * values.std(ddof=1)), rel=1e-9
        )
