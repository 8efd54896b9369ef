"""Process mining against ground truth: pm4py itself on the real Levy job-shop log, and the simulated plant's
planted bottleneck, coating rework and route deviations."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from orchestration.mining.bottlenecks import activity_bottlenecks, machine_bottlenecks
from orchestration.mining.case_attributes import SUMMARY, attribute_effects, case_attribute_effects
from orchestration.mining.discovery import discover_process_model
from orchestration.mining.event_log import variant_log
from orchestration.mining.flow import directly_follows, start_end_activities
from orchestration.mining.model_quality import EXTRA, SKIPPED, WRONG_ORDER, classify_moves, evaluate_model
from orchestration.mining.reference_model import designed_route_model
from orchestration.mining.rework import rework_loops, rework_rates
from orchestration.mining.step_facts import counted_step_facts
from orchestration.mining.variants import THROUGHPUT_QUANTILES, flow_and_variants, route_variants
from orchestration.mining.window_results import write_window
from orchestration.mining.window_run import MiningSettings, mine_window
from orchestration.simulator.config import load_scenario
from orchestration.simulator.engine import run_factory_day

REPO = Path(__file__).resolve().parents[1]
LEVY = REPO.parent / "shared" / "data" / "real" / "production_levy2014.csv.gz"
SCENARIOS = REPO / "data" / "scenarios"
FRIDAY = date(2026, 11, 13)  # the planted bad shift warms the coating room: coating reworks most
QUIET = {"show_progress_bar": False}


@pytest.fixture(scope="module")
def levy():
    import pm4py

    if not LEVY.exists():
        pytest.skip("the Levy log is not available")
    conn = duckdb.connect()
    # Row order is kept as event_seq: pm4py breaks ties between equal timestamps by the frame's row order.
    conn.execute(
        f"""
        create table levy as
        select case_id, Activity as activity, Resource as machine_id, null::varchar as shift_id,
               start_time::timestamp at time zone 'Etc/GMT-2' as start_ts,
               end_time::timestamp at time zone 'Etc/GMT-2' as end_ts,
               row_number() over () as event_seq
        from read_csv('{LEVY}', header = true, all_varchar = true)
        """
    )
    # pm4py's own preparation (format_dataframe): sorted by case, then timestamp, then row order; the start
    # column makes it an interval log, which pm4py's DFG and variants order by start, then end.
    frame = pm4py.format_dataframe(
        conn.execute("select case_id, activity, start_ts, end_ts from levy order by event_seq").df(),
        case_id="case_id",
        activity_key="activity",
        timestamp_key="end_ts",
        start_timestamp_key="start_ts",
    )
    yield conn, frame
    conn.close()


def test_levy_dfg_counts_equal_pm4py(levy):
    import pm4py

    conn, frame = levy
    ours = directly_follows(conn, "levy")
    theirs, starts, ends = pm4py.discover_dfg(frame)
    assert {(s, t): n for s, t, n in zip(ours.source, ours.target, ours.frequency, strict=True)} == dict(
        theirs
    )
    variants = route_variants(conn, "levy", min_share=0.0)  # every case, as pm4py sees the log
    assert variants.cases == 225
    assert dict(variants.counts()) == {tuple(v): n for v, n in pm4py.get_variants(frame).items()}


# Every step with its neighbours in its case, as plain window functions: the reference for the counted steps.
LEVY_STEPS = """
    select activity, start_ts, end_ts,
           lag(end_ts) over case_order as previous_end_ts,
           lead(activity) over case_order as next_activity,
           lead(start_ts) over case_order as next_start_ts
    from levy window case_order as (partition by case_id order by start_ts, end_ts, event_seq)
"""


def test_a_log_mined_in_buckets_of_cases_gives_the_same_statistics(levy):
    """A log too large for one pass is mined a bucket of whole cases at a time: the same counts, means and
    exact quantiles as one pass, which equal DuckDB's quantile_cont over every step and every case."""
    conn, _ = levy
    dfg, variants = flow_and_variants(conn, "levy", min_share=0.0)
    in_buckets = flow_and_variants(conn, "levy", min_share=0.0, bucket_events=700)  # 7 buckets of ~640
    pd.testing.assert_frame_equal(in_buckets[0], dfg, rtol=1e-12)
    pd.testing.assert_frame_equal(in_buckets[1].table, variants.table, rtol=1e-12)
    pd.testing.assert_frame_equal(in_buckets[1].throughput, variants.throughput, rtol=1e-12)
    with counted_step_facts(conn, "levy") as whole, counted_step_facts(conn, "levy", 700) as bucketed:
        for statistic in (
            activity_bottlenecks,
            machine_bottlenecks,
            rework_loops,
            rework_rates,
            start_end_activities,
        ):
            pd.testing.assert_frame_equal(statistic(conn, bucketed), statistic(conn, whole), rtol=1e-12)
        bottlenecks = activity_bottlenecks(conn, whole)

    waits = conn.execute(
        f"""
        select activity as source, next_activity as target, count(*) as steps,
               avg(greatest(epoch(next_start_ts) - epoch(end_ts), 0)) as mean_wait,
               quantile_cont(greatest(epoch(next_start_ts) - epoch(end_ts), 0), [0.5, 0.95]) as waits
        from ({LEVY_STEPS}) where next_activity is not null group by all
        """
    ).df()
    edges = dfg.merge(waits, on=["source", "target"], validate="one_to_one")
    assert len(edges) == len(dfg) == len(waits) and (edges["frequency"] == edges["steps"]).all()
    np.testing.assert_allclose(edges["mean_wait_s"], edges["mean_wait"], rtol=1e-12)
    np.testing.assert_allclose(edges["median_wait_s"], edges["waits"].str[0], rtol=1e-12)
    np.testing.assert_allclose(edges["p95_wait_s"], edges["waits"].str[1], rtol=1e-12)
    timing = conn.execute(
        f"""
        select activity, count(*) as steps, median(epoch(end_ts) - epoch(start_ts)) as processing,
               quantile_cont(greatest(epoch(start_ts) - epoch(previous_end_ts), 0), [0.5, 0.95]) as waits
        from ({LEVY_STEPS}) group by all
        """
    ).df()
    stages = bottlenecks.merge(timing, on="activity", validate="one_to_one")
    assert len(stages) == len(bottlenecks) == len(timing) and (stages["executions"] == stages["steps"]).all()
    np.testing.assert_allclose(stages["median_processing_s"], stages["processing"], rtol=1e-12)
    for ours, position in (("median_wait_s", 0), ("p95_wait_s", 1)):  # none for an activity only ever first
        reference = [np.nan if w is None or w is pd.NA else w[position] for w in stages["waits"]]
        np.testing.assert_allclose(stages[ours].to_numpy(float, na_value=np.nan), reference, rtol=1e-12)
    quantiles = ", ".join(str(q) for q in THROUGHPUT_QUANTILES)
    (throughputs,) = conn.execute(
        f"""select quantile_cont(throughput_s, [{quantiles}]) from (
                select epoch(max(end_ts)) - epoch(min(end_ts)) as throughput_s
                from levy group by case_id)"""
    ).fetchone()
    assert variants.cases == 225
    ours = variants.throughput.set_index("statistic")["throughput_s"]
    np.testing.assert_allclose(ours[[f"q{round(q * 100):03d}" for q in THROUGHPUT_QUANTILES]], throughputs)


def _ours_and_pm4py(conn, frame, events: str):
    """Our inductive model and its quality from the variant log, and pm4py's net discovered on the frame."""
    import pm4py

    counts = route_variants(conn, events, min_share=0.0).counts()
    ours = discover_process_model(variant_log(counts), noise_threshold=0.2)
    net, im, fm = pm4py.discover_petri_net_inductive(frame, noise_threshold=0.2)
    assert (ours.places, ours.transitions, ours.arcs) == (
        len(net.places),
        len(net.transitions),
        len(net.arcs),
    )
    return counts, ours, (net, im, fm)


def test_levy_inductive_fitness_equals_pm4py(levy):
    import pm4py

    conn, frame = levy
    counts, ours, (net, im, fm) = _ours_and_pm4py(conn, frame, "levy")
    quality = evaluate_model(counts, ours, max_variants=len(counts), align_variants=0, precision=False)
    fitness = pm4py.fitness_token_based_replay(frame, net, im, fm)
    assert quality.token_fitness == pytest.approx(fitness["log_fitness"], abs=1e-6)
    assert quality.fitting_cases_share == pytest.approx(
        fitness["percentage_of_fitting_traces"] / 100, abs=1e-6
    )
    assert quality.token_fitness < 1.0  # the comparison is not between two trivial ones


def test_levy_inductive_precision_equals_pm4py(levy):
    """On the Levy orders of at most 12 operations (94 orders, 86 variants): ETConformance precision on all
    225 orders takes pm4py about 50 s; benchmarks/mining_scale.py --levy compares the whole log."""
    import pm4py

    conn, frame = levy
    conn.execute(
        "create or replace temp view levy_short as select * from levy where case_id in (select case_id "
        "from levy group by case_id having count(*) <= 12)"
    )
    keep = {case for (case,) in conn.execute("select distinct case_id from levy_short").fetchall()}
    subset = frame[frame["case:concept:name"].isin(keep)]
    counts, ours, (net, im, fm) = _ours_and_pm4py(conn, subset, "levy_short")
    quality = evaluate_model(counts, ours, max_variants=len(counts), align_variants=0)
    assert len(keep) == 94 and len(counts) > 80
    assert quality.precision == pytest.approx(
        pm4py.precision_token_based_replay(subset, net, im, fm), abs=1e-6
    )
    assert quality.generalization == pytest.approx(pm4py.generalization_tbr(subset, net, im, fm), abs=1e-6)
    assert quality.token_fitness == pytest.approx(
        pm4py.fitness_token_based_replay(subset, net, im, fm)["log_fitness"], abs=1e-6
    )
    assert 0.0 < quality.precision < 1.0


def simulated_events(scenario: str, day: date):
    """The day's event log as the mart has it (event id as tie-breaker, the shift an event starts in)."""
    factory_day = run_factory_day(load_scenario(SCENARIOS / scenario), day)
    conn = duckdb.connect()
    conn.register("production_events", factory_day.tables["production_events"])
    conn.register("shifts", factory_day.tables["shifts"])
    conn.register("truth", factory_day.truth["planted_effects"])
    conn.execute(
        """
        create table events as
        select e.case_id, e.activity, e.machine_id, s.shift_id, e.start_ts, e.end_ts,
               e.event_id as event_seq, e.is_rework
        from production_events e left join shifts s on e.start_ts >= s.start_ts and e.start_ts < s.end_ts
        """
    )
    return conn, load_scenario(SCENARIOS / scenario)


def mined(scenario: str, day: date):
    conn, config = simulated_events(scenario, day)
    settings = MiningSettings(pictures=False)
    return conn, mine_window(conn, "events", None, "day", designed_route_model(config), settings)


@pytest.fixture(scope="module")
def deviating_friday():
    conn, result = mined("route_deviations.yaml", FRIDAY)
    yield conn, result
    conn.close()


@pytest.fixture(scope="module")
def default_friday():
    conn, result = mined("default.yaml", FRIDAY)
    yield conn, result
    conn.close()


def test_planted_bottleneck_ranks_first(default_friday):
    conn, result = default_friday
    planted = conn.execute("select target_id from truth where effect = 'bottleneck'").fetchall()
    ranked = result.tables["activity_bottlenecks"]
    assert ranked.loc[ranked["limits_throughput"], "activity"].tolist() == [planted[0][0]]
    assert ranked["rank"].tolist() == list(range(1, len(ranked) + 1))


def test_coating_rework_loop_ranks_first_at_the_simulated_rate(default_friday):
    conn, result = default_friday
    loops = result.tables["rework_loops"]
    assert (loops.loc[0, "source"], loops.loc[0, "target"]) == ("Coating", "Coating")
    # Ground truth: the simulator flags every pass of a step the batch already did as rework.
    truth = conn.execute("select avg(is_rework::int) from events where activity = 'Coating'").fetchall()[0][0]
    assert truth > 0.03
    assert loops.loc[0, "rate"] == pytest.approx(truth, rel=0.10)


def test_default_route_fits_the_designed_route(default_friday):
    _, result = default_friday
    reference = result.quality["reference"]
    # pm4py's alignments charge each silent move (the designed rework loops) a tiny cost: a log that fits
    # exactly scores 1 within 1e-5 (0.9999987 with Friday's rework), every case fitting, no deviation.
    assert reference.token_fitness == pytest.approx(1.0)
    assert reference.alignment_fitness == pytest.approx(1.0, abs=1e-5)
    assert reference.cases > 30 and reference.fitting_cases_share == 1.0
    assert result.tables["deviations"].query("role == 'reference'").empty


def _expected_deviations(conn, complete_cases: set[str]) -> set[tuple[str, str, str]]:
    rows = conn.execute("select effect_id from truth where effect = 'route_deviation'").fetchall()
    expected = set()
    for (effect_id,) in rows:
        _, kind, step, case = effect_id.split(":")
        if case in complete_cases:
            expected.add((case, kind, step))
    return expected


def test_injected_deviations_are_the_ones_found(deviating_friday):
    conn, result = deviating_friday
    reference = result.quality["reference"]
    assert reference.token_fitness < 1.0 and reference.alignment_fitness < 1.0
    found_cases = result.tables["deviating_cases"].query("role == 'reference'")
    complete = set(
        conn.execute(
            "select case_id from events group by case_id "
            "having arg_min(activity, end_ts) = 'Mixing' and arg_max(activity, end_ts) = 'Grading'"
        ).fetchall()
    )
    expected = _expected_deviations(conn, {case for (case,) in complete})
    assert expected, "the scenario planted no deviation in a complete case on this day"
    assert set(found_cases["case_id"]) == {case for case, _, _ in expected}
    found = dict(zip(found_cases["case_id"], found_cases["deviations"], strict=True))
    meaning = {"skip": SKIPPED, "repeat": EXTRA, "swap": WRONG_ORDER}
    for case, kind, step in expected:
        assert found[case].startswith(meaning[kind]), (case, kind, step, found[case])
        if kind != "swap":  # a swap is explained by moving either of its two steps
            assert found[case] == f"{meaning[kind]} {step}"


def test_moves_are_classified_as_skipped_extra_or_reordered():
    alignment = [("A", "A"), (">>", "B"), ("C", ">>"), ("D", ">>"), (">>", "D"), (">>", None), ("E", "E")]
    assert classify_moves(alignment) == ((EXTRA, "C"), (SKIPPED, "B"), (WRONG_ORDER, "D"))


def test_window_rows_are_replaced_not_added(default_friday, tmp_path):
    _, result = default_friday
    conn = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    try:
        for _ in range(2):
            write_window(conn, FRIDAY, 7, result.tables)
        write_window(conn, FRIDAY, 1, {"dfg": result.tables["dfg"]})
        per_window = conn.execute(
            "select window_days, count(*) from process_mining.dfg group by 1 order by 1"
        ).fetchall()
        assert per_window == [(1, len(result.tables["dfg"])), (7, len(result.tables["dfg"]))]
        roles = conn.execute("select role from process_mining.model_quality where window_days = 7 order by 1")
        assert [r for (r,) in roles.fetchall()] == ["heuristics", "inductive", "reference"]
    finally:
        conn.close()


# The batch dimension as marts.dim_batch builds it, from one simulated day's raw tables: entry shift and
# crew, batch size, rework steps, throughput time of batches that finished, and the hourly mean ambient
# temperature of the coating room in the hour the batch's first coating pass started.
BATCHES_SQL = """
create table batches as
with steps as (
    select e.*, s.shift_id, s.shift_name
    from production_events e left join shifts s on e.start_ts >= s.start_ts and e.start_ts < s.end_ts
),
per_batch as (
    select case_id,
           arg_min(product_id, start_ts) as product_id,
           arg_min(shift_id, start_ts) as entry_shift_id,
           arg_min(shift_name, start_ts) as entry_shift_name,
           arg_min(crew_id, start_ts) as entry_crew_id,
           arg_min(produced_qty, start_ts) filter (where not is_rework) as batch_size_cells,
           count(*) filter (where is_rework) as rework_step_count,
           epoch(max(end_ts) filter (where activity = 'Grading')) - epoch(min(start_ts)) as throughput_time_s,
           arg_min(machine_id, start_ts) filter (where activity = 'Coating') as coater,
           min(start_ts) filter (where activity = 'Coating') as coated_ts
    from steps group by case_id
),
hourly as (
    select machine_id as room_id, date_trunc('hour', reading_ts) as reading_hour, avg(value) as temperature_c
    from ambient group by all
)
select per_batch.*, hourly.temperature_c as ambient_step_temperature_c
from per_batch
left join machines on machines.machine_id = per_batch.coater
left join hourly on hourly.room_id = machines.room_id and hourly.reading_hour = date_trunc('hour', coated_ts)
where entry_shift_id is not null  -- released within the day
"""


@pytest.fixture(scope="module")
def warm_friday():
    """Friday with the planted bad shift made strong enough to show in one day's ~130 batches: coating
    thickness drifts 1.0 um per degC of the warm room (default 0.6) over the same 5 degC."""
    config = load_scenario(SCENARIOS / "default.yaml")
    bad = config.effects.bad_shift.model_copy(update={"drift_per_c": {"coating_thickness": 1.0}})
    config = config.model_copy(update={"effects": config.effects.model_copy(update={"bad_shift": bad})})
    day = run_factory_day(config, FRIDAY)
    readings = pa.Table.from_batches(list(day.telemetry.batches()))
    conn = duckdb.connect()
    for name in ("production_events", "shifts", "machines"):
        conn.register(name, day.tables[name])
    conn.register("ambient", readings.filter(pc.ends_with(readings["sensor_id"], ".ambient_temperature")))
    conn.register("truth", day.truth["planted_effects"])
    conn.execute(BATCHES_SQL)
    yield conn, case_attribute_effects(conn, "batches")
    conn.close()


def test_the_bad_shift_shows_in_the_entry_shift_and_the_ambient_temperature(warm_friday):
    conn, effects = warm_friday
    (bad_shift,) = conn.execute(
        "select s.shift_id from truth t join shifts s on s.start_ts = t.start_ts and s.end_ts = t.end_ts "
        "where t.effect = 'bad_shift'"
    ).fetchall()[0]
    rework = effects[effects["outcome"] == "rework_step_count"].set_index("attribute")
    entry = rework.loc["entry_shift_id"]
    assert entry["test"] == "kruskal_wallis" and entry["significant"]
    assert f"entry_shift_id {bad_shift}:" in entry["finding"]  # the warm shift reworks most
    assert entry["p_adjusted"] >= entry["p_value"] and 0.0 < entry["effect_size"] < 1.0
    warm = rework.loc["ambient_step_temperature_c"]
    assert warm["test"] == "spearman" and warm["significant"] and warm["effect_size"] > 0.2
    summary = effects[effects["attribute"] == SUMMARY].iloc[0]
    assert summary["significant"] and "entry_shift_id -> rework steps" in summary["finding"]
    lots = effects[effects["attribute"] == "material_lot_id"].iloc[0]
    assert lots["test"] == "not_recorded" and "no material lot" in lots["finding"]


def test_attributes_independent_of_the_outcomes_are_stated_as_nothing_significant():
    """Ground truth by construction: attributes drawn independently of throughput time and rework."""
    rng = np.random.default_rng(7)
    batches = pd.DataFrame(
        {
            "case_id": [f"B{n}" for n in range(300)],
            "batch_size_cells": rng.integers(900, 1100, 300),
            "ambient_step_temperature_c": rng.normal(22.0, 1.0, 300),
            "entry_shift_name": rng.choice(["early", "late", "night"], 300),
            "product_id": rng.choice(["P1", "P2"], 300),
            "throughput_time_s": rng.gamma(4.0, 9000.0, 300),
            "rework_step_count": rng.binomial(2, 0.05, 300),
        }
    )
    effects = attribute_effects(batches)
    tested = effects[effects["p_value"].notna()]
    assert len(tested) == 8 and not tested["significant"].any()
    summary = effects.iloc[0]
    assert summary["attribute"] == SUMMARY and not summary["significant"]
    assert summary["finding"].startswith("nothing significant")
    # the same attributes made to matter: rework only in the late shift's batches
    batches["rework_step_count"] = np.where(batches["entry_shift_name"] == "late", 1, 0)
    late = (
        attribute_effects(batches)
        .set_index(["attribute", "outcome"])
        .loc[("entry_shift_name", "rework_step_count")]
    )
    assert late["significant"] and "entry_shift_name late" in late["finding"]
