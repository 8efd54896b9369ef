"""The dbt project on two hand-made factory days with known ground truth.

The lake is written here (pyarrow, the contract schemas of orchestration.lake.tables) into tmp_path; dbt
builds a warehouse there too (GIGAFACTORY_LAKE / GIGAFACTORY_WAREHOUSE, own target and log paths, so that
parallel runs do not clash). Three dbt invocations in all, shared by every test through one module fixture:

1. ``dbt build`` over all dates: the OEE figures, the event log and the other marts are checked against
   hand-computed values (a copy of the warehouse is kept for that).
2. Day 2 then disappears from the lake and day 1 gains an event; ``dbt build`` for day 1 (the window in the
   environment, as Dagster passes it) must replace day 1 and leave day 2's rows alone.
3. ``dbt run --vars`` for day 1 again (the window as a person passes it) must change nothing (idempotent).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
import yaml

from orchestration.lake.tables import QUARANTINE_TABLES, RAW_TABLES, TRUTH_TABLES
from orchestration.lake.writer import partition_dir, write_partition
from tests.dbt_cli import DBT_PROJECT_DIR
from tests.dbt_cli import run_dbt as dbt

pytest.importorskip("dbt.adapters.duckdb")

DAY_1, DAY_2 = date(2026, 11, 9), date(2026, 11, 10)
# Factory days start 06:00 Europe/Berlin = 05:00 UTC in November.
DAY_START = {DAY_1: datetime(2026, 11, 9, 5, tzinfo=UTC), DAY_2: datetime(2026, 11, 10, 5, tzinfo=UTC)}
DAY_S = 86_400

# The incremental marts (dims rebuilt in full are not day-partitioned).
MARTS = (
    "fct_process_events",
    "fct_machine_state_intervals",
    "fct_oee_machine_day",
    "fct_oee_machine_shift",
    "fct_oee_line_day",
    "fct_oee_step_day",
    "fct_oee_factory_day",
    "fct_shift_comparison",
    "fct_quality_measurements",
    "fct_quality_yield",
    "fct_process_capability",
    "fct_defect_pareto",
    "fct_economics_day",
    "fct_sensor_hourly",
    "dim_shift",
)

# (machine, line, activity, planned runtime per unit in s)
MACHINES = [
    ("MIX-01", "L1", "Mixing", 2.0),
    ("COAT-02", "L1", "Coating", 3.0),
    ("GRAD-01", "L1", "Grading", 1.0),
]

# State sequences from the start of the factory day, (state, seconds); each machine covers the 86,400 s day.
STATES = {
    DAY_1: {
        # planned maintenance 6,400 -> PBT 80,000; producing 64,000 = APT; two breakdowns of 2,000 s
        "MIX-01": [
            ("planned_maintenance", 6_400),
            ("setup", 8_000),
            ("producing", 30_000),
            ("breakdown", 2_000),
            ("producing", 20_000),
            ("micro_stop", 2_000),
            ("breakdown", 2_000),
            ("producing", 14_000),
            ("idle", 2_000),
        ],
        "COAT-02": [("idle", DAY_S)],  # no events at all
        "GRAD-01": [("idle", 40_000), ("producing", 10_000), ("idle", 36_400)],
    },
    DAY_2: {machine: [("producing", DAY_S)] for machine, *_ in MACHINES},
}

# (case, machine, activity, start offset s, produced, good, scrap, is_rework)
EVENTS = {
    DAY_1: [
        ("B1", "MIX-01", "Mixing", 14_400, 12_000, 12_000, 0, False),  # early shift
        ("B2", "MIX-01", "Mixing", 30_000, 12_000, 11_040, 960, False),  # late shift
        ("B2", "MIX-01", "Mixing", 50_000, 4_800, 4_320, 480, True),  # late shift, rework
        ("B1", "GRAD-01", "Grading", 40_000, 6_000, 6_000, 0, False),  # late shift
        ("B2", "GRAD-01", "Grading", 60_000, 6_000, 5_900, 100, False),  # night shift
    ],
    DAY_2: [("B3", "MIX-01", "Mixing", 1_000, 1_000, 1_000, 0, False)],
}
SHIFTS = [("early", "A", 0), ("late", "B", 8 * 3600), ("night", "C", 16 * 3600)]

# (value, lsl, usl, expected in_spec)
MEASUREMENTS = {
    DAY_1: [
        (100.0, 95.0, 105.0, True),
        (94.0, 95.0, 105.0, False),
        (104.0, None, 105.0, True),
        (106.0, 95.0, None, True),
    ],
    DAY_2: [(110.0, 95.0, 105.0, False)],
}
# (offset s, value): three readings in the first UTC hour of day 1, one in the second
READINGS = {DAY_1: [(0, 10.0), (600, 20.0), (1_200, 30.0), (4_200, 50.0)], DAY_2: [(0, 1.0)]}


def at(day: date, offset_s: float) -> datetime:
    return DAY_START[day] + timedelta(seconds=offset_s)


def lake_tables(day: date, extra_events: int = 0) -> dict[str, list[dict]]:
    ds = day.isoformat()
    states = []
    for machine, sequence in STATES[day].items():
        offset = 0
        for state, seconds in sequence:
            states.append(
                {
                    "machine_id": machine,
                    "state": state,
                    "start_ts": at(day, offset),
                    "end_ts": at(day, offset + seconds),
                }
            )
            offset += seconds
    shifts = [
        {
            "shift_id": f"{ds}-{name}",
            "shift_name": name,
            "crew_id": crew,
            "staffed_headcount": 12,
            "start_ts": at(day, start),
            "end_ts": at(day, start + 8 * 3600),
        }
        for name, crew, start in SHIFTS
    ]
    crew_at = {start: crew for _, crew, start in SHIFTS}
    events = []
    for case, machine, activity, start, produced, good, scrap, rework in (
        EVENTS[day] + [("B9", "MIX-01", "Mixing", 80_000, 10, 10, 0, False)] * extra_events
    ):
        events.append(
            {
                "event_id": f"{ds}-E{len(events) + 1:04d}",
                "case_id": f"{case}-{ds}",
                "product_id": "NMC811-4680",
                "activity": activity,
                "line_id": "L1",
                "machine_id": machine,
                "crew_id": crew_at[max(s for s in crew_at if s <= start)],
                "start_ts": at(day, start),
                "end_ts": at(day, start + 3_600),
                "produced_qty": produced,
                "good_qty": good,
                "scrap_qty": scrap,
                "is_rework": rework,
            }
        )
    measurements = [
        {
            "measurement_id": f"{ds}-Q{i}",
            "case_id": f"B1-{ds}",
            "activity": "Mixing",
            "machine_id": "MIX-01",
            "characteristic": "slurry_viscosity",
            "unit": "Pa.s",
            "value": value,
            "lsl": lsl,
            "usl": usl,
            "measured_ts": at(day, 3_600 * i),
        }
        for i, (value, lsl, usl, _) in enumerate(MEASUREMENTS[day])
    ]
    readings = [
        {
            "sensor_id": "MIX-01.temperature",
            "machine_id": "MIX-01",
            "measure": "temperature",
            "unit": "degC",
            "reading_ts": at(day, offset),
            "value": value,
        }
        for offset, value in READINGS[day]
    ]
    machines = [
        {
            "machine_id": m,
            "line_id": line,
            "activity": a,
            "room_id": "R1",
            "planned_runtime_per_unit_s": pru,
            "conversion_cost_per_hour": 100.0,
            "material_cost_share": 1.0 if n == 0 else 0.0,
        }
        for n, (m, line, a, pru) in enumerate(MACHINES)
    ]
    products = [
        {
            "product_id": "NMC811-4680",
            "nominal_capacity_ah": 25.0,
            "material_cost_per_cell": 6.0,
            "selling_price_per_cell": 9.0,
            "currency": "EUR",
        }
    ]
    return {
        "production_events": events,
        "machine_states": states,
        "quality_measurements": measurements,
        "sensor_readings": readings,
        "machines": machines,
        "products": products,
        "sensors": [
            {
                "sensor_id": r["sensor_id"],
                "machine_id": r["machine_id"],
                "measure": r["measure"],
                "unit": r["unit"],
                "plausible_min": -1000.0,
                "plausible_max": 1000.0,
            }
            for r in {r["sensor_id"]: r for r in readings}.values()
        ],
        "shifts": shifts,
    }


def write_day(lake: Path, day: date, extra_events: int = 0) -> None:
    for table, rows in lake_tables(day, extra_events).items():
        write_partition(lake, table, day.isoformat(), pa.Table.from_pylist(rows, schema=RAW_TABLES[table]))


def raw_event_counts(lake: Path) -> dict[date, int]:
    files = str(lake / "raw" / "production_events" / "date=*" / "*.parquet")
    with duckdb.connect() as con:
        rows = con.execute(
            "select date, count(*)"
            " from read_parquet(?, hive_partitioning = true, hive_types = {'date': date}) group by all",
            [files],
        ).fetchall()
    return dict(rows)


def day_rows(database: Path) -> dict[tuple[str, date], list[tuple]]:
    """Every mart's rows per factory day, in a deterministic order."""
    with duckdb.connect(str(database), read_only=True) as con:
        snapshot: dict[tuple[str, date], list[tuple]] = {}
        for mart in MARTS:
            for day in (DAY_1, DAY_2):
                snapshot[(mart, day)] = con.execute(
                    f"select * from marts.{mart} where production_date = ? order by all", [day]
                ).fetchall()
        return snapshot


@dataclass
class Builds:
    full: Path  # the warehouse right after `dbt build` over all dates
    final: Path  # the warehouse after the day-1 rebuild and rerun
    lake: Path
    raw_events_full: dict[date, int]  # events per day in the lake of the full build
    raw_events_rebuild: dict[date, int]  # ... and of the day-1 rebuild
    after_full: dict[tuple[str, date], list[tuple]]
    after_day_1_rebuild: dict[tuple[str, date], list[tuple]]
    after_day_1_rerun: dict[tuple[str, date], list[tuple]]


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Builds:
    work = tmp_path_factory.mktemp("dbt")
    lake = work / "lake"
    for day in (DAY_1, DAY_2):
        write_day(lake, day)

    raw_events_full = raw_event_counts(lake)
    dbt(work, "build")
    full = work / "full.duckdb"
    for suffix in ("", ".wal"):  # normally checkpointed into the file when dbt closed it
        if (work / f"warehouse.duckdb{suffix}").exists():
            shutil.copy(work / f"warehouse.duckdb{suffix}", work / f"full.duckdb{suffix}")
    after_full = day_rows(full)

    # Day 2 leaves the lake (a rebuild that touched it would lose its rows), day 1 gains one event.
    for table in RAW_TABLES:
        shutil.rmtree(partition_dir(lake, table, DAY_2.isoformat()))
    write_day(lake, DAY_1, extra_events=1)
    raw_events_rebuild = raw_event_counts(lake)
    window = f'{{"min_date": "{DAY_1}", "max_date": "{DAY_1}"}}'
    # The models' unit tests ran with the first build: the day's rebuild is the data and its tests.
    dbt(work, "build", "--exclude-resource-type", "unit_test", window=(str(DAY_1), str(DAY_1)))
    after_day_1_rebuild = day_rows(work / "warehouse.duckdb")
    dbt(work, "run", "--vars", window)
    after_day_1_rerun = day_rows(work / "warehouse.duckdb")
    return Builds(
        full,
        work / "warehouse.duckdb",
        lake,
        raw_events_full,
        raw_events_rebuild,
        after_full,
        after_day_1_rebuild,
        after_day_1_rerun,
    )


def query(database: Path, sql: str, *params) -> list[dict]:
    with duckdb.connect(str(database), read_only=True) as con:
        cursor = con.execute(sql, list(params))
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def machine_day(database: Path, machine: str, day: date = DAY_1) -> dict:
    (row,) = query(
        database,
        "select * from marts.fct_oee_machine_day where machine_id = ? and production_date = ?",
        machine,
        day,
    )
    return row


def test_oee_of_a_machine_day_matches_the_hand_computation(builds: Builds) -> None:
    mix = machine_day(builds.full, "MIX-01")
    assert mix["planned_operation_time_s"] == DAY_S
    assert mix["planned_downtime_s"] == 6_400
    assert mix["planned_busy_time_s"] == 80_000
    assert mix["actual_production_time_s"] == 64_000
    assert mix["setup_time_s"] == 8_000
    assert mix["delay_time_s"] == 6_000
    assert mix["idle_time_s"] == 2_000
    assert (mix["breakdown_count"], mix["breakdown_time_s"]) == (2, 4_000)
    assert (mix["produced_qty"], mix["good_qty"], mix["scrap_qty"], mix["rework_qty"]) == (
        28_800,
        27_360,
        1_440,
        4_800,
    )
    assert mix["event_count"] == 3
    # availability 64,000 / 80,000; effectiveness 2 s x 28,800 / 64,000; quality 27,360 / 28,800
    assert mix["availability"] == pytest.approx(0.8)
    assert mix["effectiveness"] == pytest.approx(0.9)
    assert mix["quality_ratio"] == pytest.approx(0.95)
    assert mix["oee"] == pytest.approx(0.684)
    assert mix["mtbf_s"] == pytest.approx(32_000)
    assert mix["mttr_s"] == pytest.approx(2_000)


def test_effectiveness_above_one_is_kept(builds: Builds) -> None:
    grading = machine_day(builds.full, "GRAD-01")
    # 1 s x 12,000 cells in 10,000 s of producing: faster than planned
    assert grading["effectiveness"] == pytest.approx(1.2)
    assert grading["oee"] == pytest.approx(10_000 / DAY_S * 1.2 * 11_900 / 12_000)
    assert grading["mtbf_s"] is None and grading["mttr_s"] is None


def test_a_machine_without_events_gets_a_row_with_null_ratios(builds: Builds) -> None:
    idle = machine_day(builds.full, "COAT-02")
    assert (idle["produced_qty"], idle["good_qty"], idle["rework_qty"], idle["event_count"]) == (0, 0, 0, 0)
    assert idle["availability"] == 0.0
    assert idle["effectiveness"] is None and idle["quality_ratio"] is None and idle["oee"] is None


def test_factory_oee_sums_times_and_quantities_before_dividing(builds: Builds) -> None:
    (day,) = query(builds.full, "select * from marts.fct_oee_factory_day where production_date = ?", DAY_1)
    assert day["machine_count"] == 3
    assert day["availability"] == pytest.approx((64_000 + 10_000) / (80_000 + DAY_S + DAY_S))
    assert day["effectiveness"] == pytest.approx((2 * 28_800 + 1 * 12_000) / 74_000)
    assert day["quality_ratio"] == pytest.approx((27_360 + 11_900) / (28_800 + 12_000))
    assert day["oee"] == pytest.approx(day["availability"] * day["effectiveness"] * day["quality_ratio"])
    assert (day["produced_qty"], day["scrap_qty"], day["rework_qty"], day["breakdown_count"]) == (
        40_800,
        1_540,
        4_800,
        2,
    )
    # B1 and B2 were graded (6,000 + 5,900 good); both started with 12,000 cells at Mixing; B2 was reworked,
    # so only B1's 6,000 good cells went through right first time
    assert (day["cells_completed"], day["cases_completed"], day["cases_reworked"]) == (11_900, 2, 1)
    assert (day["cells_started"], day["cells_first_pass"]) == (24_000, 6_000)
    assert day["first_pass_yield"] == pytest.approx(0.25)


def test_event_log_has_every_raw_event_with_its_shift(builds: Builds) -> None:
    mart = query(
        builds.full, "select production_date, count(*) as n from marts.fct_process_events group by all"
    )
    assert (
        {row["production_date"]: row["n"] for row in mart} == builds.raw_events_full == {DAY_1: 5, DAY_2: 1}
    )
    events = query(
        builds.full,
        "select resource, shift_id, duration_s from marts.fct_process_events order by event_id",
    )
    assert [(e["resource"], e["shift_id"]) for e in events[:5]] == [
        ("A", "2026-11-09-early"),
        ("B", "2026-11-09-late"),
        ("B", "2026-11-09-late"),
        ("B", "2026-11-09-late"),
        ("C", "2026-11-09-night"),
    ]
    assert {e["duration_s"] for e in events} == {3_600.0}


def test_quality_and_sensor_marts(builds: Builds) -> None:
    in_spec = query(
        builds.full,
        "select in_spec from marts.fct_quality_measurements order by production_date, measurement_id",
    )
    assert [row["in_spec"] for row in in_spec] == [m[3] for day in (DAY_1, DAY_2) for m in MEASUREMENTS[day]]
    hours = query(
        builds.full,
        "select hour, reading_count, min_value, max_value, mean_value, stddev_value, gap_minutes, interval_s"
        " from marts.fct_sensor_hourly where production_date = ? order by hour",
        DAY_1,
    )
    # every hour of the factory day has a row; the sensor's usual interval is the median gap, 600 s
    assert [h["hour"] for h in hours] == [at(DAY_1, 3_600 * n) for n in range(24)]
    assert [(h["reading_count"], h["min_value"], h["max_value"], h["mean_value"]) for h in hours[:3]] == [
        (3, 10.0, 30.0, 20.0),
        (1, 50.0, 50.0, 50.0),
        (0, None, None, None),
    ]
    assert hours[0]["stddev_value"] == pytest.approx(10.0)
    assert hours[1]["stddev_value"] is None
    assert {h["interval_s"] for h in hours} == {600.0}
    # 3 readings cover 30 minutes, 1 reading 10, a silent hour none
    assert [h["gap_minutes"] for h in hours] == [30.0, 50.0] + [60.0] * 22


def test_day_rebuild_replaces_its_day_and_leaves_the_others(builds: Builds) -> None:
    for mart in MARTS:
        # day 2 is gone from the lake: its rows survive only if the day-1 runs left them alone
        assert builds.after_day_1_rebuild[(mart, DAY_2)] == builds.after_full[(mart, DAY_2)], mart
        assert builds.after_day_1_rebuild[(mart, DAY_2)], mart
    assert builds.raw_events_rebuild == {DAY_1: 6}
    assert len(builds.after_day_1_rebuild[("fct_process_events", DAY_1)]) == 6
    assert machine_day(builds.final, "MIX-01")["produced_qty"] == 28_800 + 10  # with the new event


def test_rerunning_a_day_is_idempotent(builds: Builds) -> None:
    assert builds.after_day_1_rerun == builds.after_day_1_rebuild


def test_source_column_types_match_the_landed_parquet(builds: Builds) -> None:
    """_sources.yml declares the contract's types (the hook builds empty views from them): they must match."""
    sources = yaml.safe_load((DBT_PROJECT_DIR / "models" / "staging" / "_sources.yml").read_text())
    mes, truth, quarantine = sources["sources"]
    for table in mes["tables"]:
        declared = [(column["name"], column["data_type"]) for column in table["columns"]]
        landed = query(builds.full, f"describe raw.{table['name']}")
        assert declared == [(c["column_name"], c["column_type"].lower()) for c in landed], table["name"]
    assert {table["name"] for table in mes["tables"]} == set(RAW_TABLES)
    # The test lake holds no truth: compare with the contract's Arrow schema as DuckDB reads it.
    assert {table["name"] for table in truth["tables"]} == set(TRUTH_TABLES)
    assert {table["name"] for table in quarantine["tables"]} == set(QUARANTINE_TABLES)
    contracts = {**TRUTH_TABLES, **QUARANTINE_TABLES}
    for table in truth["tables"] + quarantine["tables"]:
        declared = [(column["name"], column["data_type"]) for column in table["columns"]]
        empty = contracts[table["name"]].empty_table()  # noqa: F841 - read by DuckDB below
        contract = duckdb.sql("describe select *, current_date as date from empty").fetchall()
        assert declared == [(name, kind.lower()) for name, kind, *_ in contract], table["name"]
