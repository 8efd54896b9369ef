"""The quality gate against each class of corruption, on simulated days with known damage: detected,
explained, the bad rows quarantined, the good rows delivered, and rows in = accepted + quarantined."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import dagster as dg
import pyarrow as pa
import pytest
import yaml

from orchestration.backfill import NotBlocked, backfill, sole_writer
from orchestration.defs.resources import SimulatedFactory
from orchestration.factory_calendar import FactoryCalendar
from orchestration.lake.tables import RAW_TABLES
from orchestration.partition_ranges import days_between
from orchestration.quality.gate import GateContext, gate_table
from orchestration.quality.ledger import sensor_gaps, volume_collapse
from orchestration.simulator import load_scenario
from orchestration.simulator.engine import run_factory_day

REPO = Path(__file__).resolve().parent.parent
SMALL = REPO / "data" / "scenarios" / "test_small.yaml"
DAY = date(2026, 11, 10)


def corrupted(tmp_path: Path, **damage) -> dict:
    path = tmp_path / "corrupted.yaml"
    path.write_text(yaml.safe_dump({"base": str(SMALL), "corruption": damage}))
    return run_factory_day(load_scenario(path), DAY).tables


def gate(tables: dict, table: str):
    start, end = FactoryCalendar("Europe/Berlin", 6).day_window(DAY)
    machines = frozenset(tables["machines"]["machine_id"].to_pylist())
    places = machines | frozenset(tables["machines"]["room_id"].to_pylist())
    steps = frozenset(tables["machines"]["activity"].to_pylist())
    context = GateContext(DAY.isoformat(), start, end, machines, places, steps, tables["sensors"])
    return gate_table(table, tables[table], context)


@pytest.fixture(scope="module")
def clean():
    return run_factory_day(load_scenario(SMALL), DAY).raw_tables()


@pytest.mark.parametrize(
    ("damage", "table", "count", "reason"),
    [
        ({"null_keys": 3}, "production_events", 3, "missing event_id"),
        ({"duplicate_events": 4}, "production_events", 4, "duplicate of an earlier row"),
        ({"end_before_start": 5}, "production_events", 5, "end_ts is before start_ts"),
        ({"unknown_machines": 2}, "production_events", 2, "unknown machine 'GHOST-01'"),
        ({"wrong_day": 3}, "production_events", 3, "is outside factory day 2026-11-10"),
        ({"out_of_range_measurements": 6}, "quality_measurements", 6, "implausible value"),
    ],
)
def test_each_damaged_row_is_held_back_with_its_reason_and_the_rest_delivered(
    tmp_path, clean, damage, table, count, reason
):
    damaged = corrupted(tmp_path, **damage)
    outcome = gate(damaged, table)
    assert outcome.reconciles
    assert outcome.quarantined.num_rows == count
    assert all(reason in r for r in outcome.quarantined["reason"].to_pylist()), outcome.quarantined["reason"]
    # The good rows go on untouched: every clean row that was not damaged is delivered.
    key = RAW_TABLES[table].names[0]
    delivered = set(outcome.accepted[key].to_pylist())
    assert outcome.rows_accepted == damaged[table].num_rows - count
    untouched = set(clean[table][key].to_pylist()) - {None}
    assert len(untouched - delivered) <= count  # only the damaged rows are missing


def test_a_clean_day_passes_the_gate_unchanged(clean):
    for table in clean:
        outcome = gate(clean, table)
        assert outcome.quarantined.num_rows == 0 and outcome.accepted.equals(clean[table]), table


def test_an_activity_unknown_to_the_master_data_is_held_back(clean):
    events = clean["production_events"]
    steps = events["activity"].to_pylist()
    steps[0] = "Painting"
    tables = {**clean, "production_events": events.set_column(3, "activity", pa.array(steps))}
    start, end = FactoryCalendar("Europe/Berlin", 6).day_window(DAY)
    context = GateContext(
        DAY.isoformat(), start, end, known_activities=frozenset(clean["machines"]["activity"].to_pylist())
    )
    outcome = gate_table("production_events", tables["production_events"], context)
    assert outcome.quarantined["reason"].to_pylist() == ["unknown activity 'Painting'"]
    assert outcome.rows_accepted == events.num_rows - 1


def test_a_reading_outside_its_sensors_plausible_range_is_held_back_but_planted_anomalies_are_not(clean):
    readings = clean["sensor_readings"]
    values = readings["value"].to_pylist()
    faulty = [10, 500]
    for row in faulty:
        values[row] = values[row] * 1000.0 + 1e6  # a stuck-at-full-scale transmitter
    damaged = {**clean, "sensor_readings": readings.set_column(5, "value", pa.array(values))}
    outcome = gate(damaged, "sensor_readings")
    assert [r - 1 for r in outcome.quarantined["row_number"].to_pylist()] == faulty
    assert all("implausible reading" in r for r in outcome.quarantined["reason"].to_pylist())
    # The clean day (planted spikes, drifts, level shifts and stuck values included) passes whole.
    assert gate(clean, "sensor_readings").quarantined.num_rows == 0


def test_a_missing_column_holds_the_table_back_and_names_the_column(tmp_path):
    damaged = corrupted(tmp_path, missing_column="machine_id")
    outcome = gate(damaged, "production_events")
    assert (
        outcome.rows_accepted == 0 and outcome.quarantined.num_rows == damaged["production_events"].num_rows
    )
    assert "['machine_id'] missing" in outcome.quarantined["reason"][0].as_py()


def test_a_collapse_of_the_rows_in_is_detected_against_the_days_before():
    assert volume_collapse(400, [1000, 980, 1010]) is not None
    assert volume_collapse(900, [1000, 980, 1010]) is None
    assert volume_collapse(5, []) is None  # no history, no judgement


def test_sensor_gaps_are_found_where_the_truth_says(tmp_path):
    simulated = run_factory_day(load_scenario(SMALL), DAY)
    readings = simulated.raw_tables()["sensor_readings"]
    found = {(g["sensor_id"]) for g in sensor_gaps(readings)}
    planted = {a["sensor_id"] for a in simulated.truth["sensor_anomalies"].to_pylist() if a["kind"] == "gap"}
    assert planted and planted <= found
    assert found == planted  # nothing else falls silent in the simulated plant


@pytest.mark.e2e  # the whole graph of a corrupted day
def test_a_corrupted_day_delivers_its_good_rows_and_its_report_says_what_was_held_back(platform, tmp_path):
    scenario = tmp_path / "corrupted.yaml"
    damage = {"days": [DAY], "null_keys": 2, "end_before_start": 3, "out_of_range_measurements": 4}
    scenario.write_text(yaml.safe_dump({"base": str(SMALL), "corruption": damage}))
    platform.resources["factory"] = SimulatedFactory(scenario_path=str(scenario))
    result = platform.materialize_day(DAY.isoformat(), raise_on_error=False)
    assert result.success  # row damage is quarantined, not fatal
    warned = {e.check_name: e for e in result.get_asset_check_evaluations() if not e.passed}
    assert warned.keys() == {
        "production_events_has_no_quarantined_rows",
        "quality_measurements_has_no_quarantined_rows",
        "sensor_readings_have_no_gaps",
    }
    assert (
        "3 row(s): end_ts is before start_ts"
        in warned["production_events_has_no_quarantined_rows"].description
    )
    ledger = platform.query(
        f"select table_name, rows_in, rows_accepted, rows_quarantined from quarantine.reconciliation "
        f"where date = '{DAY}' and rows_quarantined > 0 order by 1"
    )
    assert [(t, q) for t, _, _, q in ledger] == [("production_events", 5), ("quality_measurements", 4)]
    assert all(rows_in == accepted + held for _, rows_in, accepted, held in ledger)
    events_in_mart = platform.query(
        f"select count(*) from marts.fct_process_events where production_date = '{DAY}'"
    )
    assert events_in_mart[0][0] == ledger[0][2]  # every accepted event, and only those
    html = (platform.settings.reports_dir / DAY.isoformat() / "daily" / "quality.html").read_text()
    assert "9 rows held back by the quality gate" in html and "end_ts is before start_ts" in html
    # The day's data-quality page: every suite's outcome and the held-back rows, linked from the report.
    assert 'href="../quality/index.html"' in html
    page = (platform.settings.reports_dir / DAY.isoformat() / "quality" / "index.html").read_text()
    assert page.count("all met") == len(RAW_TABLES) and "unknown machine" not in page
    assert "end_ts is before start_ts" in page and "implausible value" in page


def test_a_range_is_split_in_halves_down_to_the_blocked_days():
    """The splitting alone, with a stand-in for a run: a run fails while its range holds a blocked day."""

    @dataclass
    class Run:
        success: bool

        def get_asset_check_evaluations(self):
            check = dg.AssetCheckEvaluation(
                asset_key=dg.AssetKey(["raw", "production_events"]),
                check_name="production_events_volume_is_steady",
                passed=False,
                severity=dg.AssetCheckSeverity.ERROR,
                blocking=True,
            )
            return [] if self.success else [check]

    bad, runs = {"2026-11-11", "2026-11-14"}, []

    def run(first: str, last: str) -> Run:
        runs.append((first, last))
        return Run(not bad & set(days_between(first, last)))

    blocked: dict[str, list[str]] = {}
    done = backfill(days_between("2026-11-09", "2026-11-15"), run, blocked)
    assert done == ["2026-11-09", "2026-11-10", "2026-11-12", "2026-11-13", "2026-11-15"]
    assert blocked == {day: ["production_events_volume_is_steady"] for day in sorted(bad)}
    assert runs == [
        ("2026-11-09", "2026-11-15"),
        ("2026-11-09", "2026-11-11"),  # halves: 3 days, then 4
        ("2026-11-09", "2026-11-09"),
        ("2026-11-10", "2026-11-11"),
        ("2026-11-10", "2026-11-10"),
        ("2026-11-11", "2026-11-11"),
        ("2026-11-12", "2026-11-15"),
        ("2026-11-12", "2026-11-13"),
        ("2026-11-14", "2026-11-15"),
        ("2026-11-14", "2026-11-14"),
        ("2026-11-15", "2026-11-15"),
    ]


@dataclass
class FailedRun:
    """A stand-in for a run that failed in a step, with no blocking check failed."""

    error_class: str
    message: str
    success: bool = False

    def get_asset_check_evaluations(self):
        return []

    def get_step_failure_events(self):
        error = SimpleNamespace(cls_name=self.error_class, message=self.message, cause=None)
        return [SimpleNamespace(step_key="warehouse_models", step_failure_data=SimpleNamespace(error=error))]


def test_a_held_warehouse_is_waited_for_and_no_day_is_blocked_or_split():
    held = 'IO Error: Could not set lock on file "/data/warehouse.duckdb": Conflicting lock is held (PID 7)'
    outcomes = [FailedRun("DbtCliError", held), FailedRun("DbtCliError", held), SimpleNamespace(success=True)]
    runs, pauses = [], []

    def run(first: str, last: str):
        runs.append((first, last))
        return outcomes.pop(0)

    blocked: dict[str, list[str]] = {}
    days = days_between("2026-11-09", "2026-11-11")
    assert backfill(days, run, blocked, lock_waits_s=(5.0, 9.0), sleep=pauses.append) == days
    assert runs == [("2026-11-09", "2026-11-11")] * 3 and pauses == [5.0, 9.0] and blocked == {}


def test_any_other_failure_stops_at_once_naming_the_step_and_blocks_nothing():
    runs: list[tuple[str, str]] = []

    def run(first: str, last: str):
        runs.append((first, last))
        return FailedRun(
            "ValueError", "data/mappings/plant.yaml: field 'machine': no column 'machne' in the export"
        )

    blocked: dict[str, list[str]] = {}
    with pytest.raises(
        NotBlocked, match="error in step warehouse_models: ValueError: data/mappings/plant.yaml"
    ):
        backfill(days_between("2026-11-09", "2026-11-12"), run, blocked, sleep=lambda s: None)
    assert runs == [("2026-11-09", "2026-11-12")] and blocked == {}  # one run, no 4 days -> 7 runs


def test_a_second_backfill_on_the_same_warehouse_refuses_at_once(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    with sole_writer(warehouse):
        with pytest.raises(
            SystemExit, match=r"another backfill is writing .*warehouse.duckdb \(pid \d+ since"
        ):
            with sole_writer(warehouse):
                pass
    with sole_writer(warehouse):  # free again once the first has ended
        pass
