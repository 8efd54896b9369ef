"""The platform on a plant's own export: the real Levy (2014) job-shop log through the whole asset graph,
with the settings the plant-data guide tells a user to set, and the sensor that lands late files."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import dagster as dg
import duckdb
import pm4py
import pytest

from orchestration.connectors import export_cli
from orchestration.definitions import build_definitions
from orchestration.defs.arrivals import build_arrivals
from orchestration.defs.resources import PlantExportSource
from orchestration.defs.schedules import daily_factory_job
from orchestration.partition_ranges import RANGE_END, RANGE_START
from orchestration.plant import resolve_plant
from orchestration.settings import DATA_DIR, Settings

REPO = Path(__file__).resolve().parent.parent
LEVY_MAPPING = REPO / "data" / "mappings" / "levy2014.yaml"
LEVY_FILE = REPO.parent / "shared" / "data" / "real" / "production_levy2014.csv.gz"
FIRST_DAY, LAST_DAY, DAYS = "2012-01-30", "2012-02-01", 3


def levy_settings(work: Path) -> Settings:
    """The settings the README's plant-data guide exports, pointed at ``work``."""
    return Settings(
        warehouse_path=work / "warehouse.duckdb",
        lake_dir=work / "lake",
        reports_dir=work / "reports",
        scenario_path=DATA_DIR / "scenarios" / "default.yaml",
        partitions_start="2012-01-01",
        source_mapping=LEVY_MAPPING,
    )


# The whole asset graph of three Levy days: the end-to-end tier (the late-file test below is fast).
whole_graph = pytest.mark.e2e


@pytest.fixture(scope="module")
def levy_platform(tmp_path_factory) -> Path:
    """Three days of the Levy export (2012-01-30 to 02-01) through the whole asset graph as one range run,
    the plant-export code location built in process from its Plant. Three days keep the suite fast; the whole
    log is compared with pm4py in tests/test_mining_scale.py."""
    if not LEVY_FILE.is_file():
        pytest.skip(f"{LEVY_FILE} is not beside the repository")
    work = tmp_path_factory.mktemp("levy")
    with pytest.MonkeyPatch.context() as patch:
        for name in ("GIGAFACTORY_WAREHOUSE", "GIGAFACTORY_LAKE"):  # dbt's profile reads them
            patch.setenv(name, "")
        plant = resolve_plant(levy_settings(work))
        assert plant.source == "plant_export" and plant.calendar.timezone == "Etc/GMT-2"
        definitions = build_definitions(plant)
        job = definitions.resolve_implicit_global_asset_job_def()
        result = job.execute_in_process(
            instance=dg.DagsterInstance.ephemeral(),
            tags={RANGE_START: FIRST_DAY, RANGE_END: LAST_DAY},
            raise_on_error=False,
        )
    assert result.success, [e.message for e in result.all_events if e.is_failure][:3]
    return work


def query(work: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(work / "warehouse.duckdb"), read_only=True) as conn:
        return conn.execute(sql).fetchall()


@whole_graph
def test_every_levy_operation_reaches_the_event_log(levy_platform):
    """Every operation of the three days (192 of 48 orders, on 12 operation types and 25 machines: the file's
    rows starting in the factory days from 05:00 local, counted in the CSV with pandas)."""
    assert query(
        levy_platform,
        "select count(*), count(distinct case_id), count(distinct activity), count(distinct machine_id) "
        "from marts.fct_process_events",
    ) == [(192, 48, 12, 25)]
    assert query(levy_platform, "select count(*) from raw.production_events") == [(192,)]


@whole_graph
def test_process_mining_runs_and_the_reports_render_on_levy(levy_platform):
    mined = query(levy_platform, "select count(*), count(log_fitness) from process_mining.conformance")
    assert mined[0][0] == DAYS and mined[0][1] >= DAYS - 1  # a day without enough cases carries a note
    reports = sorted((levy_platform / "reports").glob("*/daily/director.html"))
    assert len(reports) == DAYS
    busy_day = json.loads((levy_platform / "reports" / "2012-01-30" / "daily" / "director.json").read_text())
    throughput = next(s for s in busy_day["sections"] if s["key"] == "throughput")
    assert [row["line_id"] for row in throughput["rows"]] == ["(no line)"]  # a job shop: one flow
    assert throughput["rows"][0]["produced_cells"] > 0
    board = {kpi["kpi"]: kpi["value"] for kpi in busy_day["kpis"]}
    # No machine states nor planned runtimes in the export: OEE is not invented, and the report says why.
    assert board["oee"] is None
    data_quality = next(s for s in busy_day["sections"] if s["key"] == "data_quality")
    assert "no machine states" in data_quality["not_computable"]["availability"]
    assert "quality_ratio" not in data_quality["not_computable"]
    html = (levy_platform / "reports" / "2012-01-30" / "daily" / "director.html").read_text()
    assert "Not computable from the data: availability" in html


@whole_graph
def test_the_event_log_exports_to_xes_and_ocel_that_pm4py_reads_back(levy_platform, tmp_path):
    arguments = ["--from", FIRST_DAY, "--to", LAST_DAY, "--out", str(tmp_path)]
    assert export_cli.main([*arguments, "--warehouse", str(levy_platform / "warehouse.duckdb")]) == 0
    log = pm4py.read_xes(str(tmp_path / "event_log.xes"))
    mart = query(levy_platform, "select case_id, activity, start_ts, end_ts from marts.fct_process_events")
    assert log["case:concept:name"].nunique() == 48
    completes = log[log["lifecycle:transition"] == "complete"]
    assert len(completes) == len(mart) == 192
    assert sorted(completes["time:timestamp"].dt.tz_convert("UTC")) == sorted(row[3] for row in mart)
    ocel = pm4py.read_ocel2_json(str(tmp_path / "event_log.jsonocel"))
    assert len(ocel.events) == 192
    assert set(ocel.objects["ocel:type"]) == {"batch", "machine"}


def write_export(folder: Path, name: str, rows: list[str]) -> None:
    (folder / name).write_text("order,step,machine,start,end\n" + "\n".join(rows) + "\n")


def test_a_late_file_lands_only_the_days_it_changes(tmp_path):
    exports = tmp_path / "exports"
    exports.mkdir()
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        "format: csv\npath: exports/*.csv\n"
        "columns: {case_id: order, activity: step, machine: machine, start_ts: start, end_ts: end}\n"
        "timezone: Europe/Berlin\nfactory: {day_start_hour: 6}\n"
    )
    write_export(
        exports,
        "day1.csv",
        [
            "A,Cut,M1,2026-11-09T08:00:00,2026-11-09T09:00:00",
            "A,Weld,M2,2026-11-09T10:00:00,2026-11-09T11:00:00",
        ],
    )
    source = PlantExportSource(mapping_path=str(mapping))
    plant = resolve_plant(dataclasses.replace(levy_settings(tmp_path), source_mapping=mapping))
    arrivals = build_arrivals(daily_factory_job())

    def evaluate(cursor: str | None):
        resources = {"plant_export": source, "plant": plant}
        context = dg.build_sensor_context(cursor=cursor, resources=resources)
        result = arrivals(context)
        return result, context.cursor

    first, cursor = evaluate(None)
    assert [r.partition_key for r in first] == ["2026-11-09"]
    again, cursor = evaluate(cursor)
    assert isinstance(again, dg.SkipReason)
    # A late file: one more step on the 9th (before 06:00 on the 10th) and a new day.
    write_export(
        exports,
        "day2.csv",
        [
            "A,Paint,M3,2026-11-10T05:00:00,2026-11-10T05:30:00",
            "B,Cut,M1,2026-11-10T07:00:00,2026-11-10T08:00:00",
        ],
    )
    late, cursor = evaluate(cursor)
    assert sorted(r.partition_key for r in late) == ["2026-11-09", "2026-11-10"]
    assert len({r.run_key for r in late}) == 2
