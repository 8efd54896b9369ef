"""The command lines doing their work, in process: what they print, what they write, their exit status.

The heavy parts they drive (the whole asset graph, dbt) are replaced by small stand-ins with a known outcome:
a two-asset graph whose blocking check fails on one day, gate checks with a known verdict, a dbt that writes
a page or fails. The simulator runs for real on the tiny test plant.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import types
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
import pytest

from orchestration import backfill, checks, warehouse_docs
from orchestration.command_line import Parser, fail, timezone_name
from orchestration.partition_ranges import RANGE_END, RANGE_START
from orchestration.settings import DATA_DIR, Settings
from orchestration.simulator import cli as simulator

BLOCKED_CHECKS_TAG = "gigafactory/blocked_checks"  # as orchestration.defs.reports names it
SMALL = DATA_DIR / "scenarios" / "test_small.yaml"


# ---------------------------------------------------------------- the simulator


def test_the_simulator_writes_a_days_partitions_and_prints_their_row_counts(tmp_path, capsys):
    lake = tmp_path / "lake"
    assert simulator.main(["--scenario", str(SMALL), "--start", "2026-11-09", "--out", str(lake)]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith("2026-11-09: ")
    printed = dict(part.rsplit(" ", 1) for part in line.split("; ", 1)[1].split(", "))
    assert {"production_events", "machine_states", "sensor_readings"} <= set(printed)
    for table, count in printed.items():
        layer, name = (
            ("truth", table.removeprefix("truth.")) if table.startswith("truth.") else ("raw", table)
        )
        files = list((lake / layer / name / "date=2026-11-09").glob("*.parquet"))
        assert sum(pq.read_metadata(f).num_rows for f in files) == int(count), table
    assert int(printed["sensor_readings"]) > 0


def test_the_simulator_refuses_zero_days_and_names_an_unreadable_scenario(tmp_path, capsys):
    with pytest.raises(SystemExit) as stopped:
        simulator.main(["--scenario", str(SMALL), "--start", "2026-11-09", "--days", "0", "--out", "x"])
    assert stopped.value.code == 2 and "--days must be at least 1" in capsys.readouterr().err
    missing = tmp_path / "nowhere.yaml"
    assert simulator.main(["--scenario", str(missing), "--start", "2026-11-09", "--out", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("gigafactory-simulate: error: ") and "nowhere.yaml" in error
    assert not (tmp_path / "raw").exists()


# ---------------------------------------------------------------- the checks command


def evaluation(name: str, passed: bool, severity=dg.AssetCheckSeverity.ERROR) -> dg.AssetCheckEvaluation:
    return dg.AssetCheckEvaluation(
        asset_key=dg.AssetKey(["raw", "sensor_readings"]),
        check_name=name,
        passed=passed,
        severity=severity,
        description=None if passed else f"{name} found 3 bad rows",
    )


@pytest.mark.parametrize(
    ("verdicts", "dbt_status", "readable", "exit_status"),
    [
        ([("meets_expectations", True), ("volume_is_steady", False, dg.AssetCheckSeverity.WARN)], 0, True, 0),
        ([("meets_expectations", False), ("volume_is_steady", True)], 0, True, 1),
        ([("meets_expectations", True)], 1, True, 1),
        ([("meets_expectations", True)], 0, False, 1),  # a report that reads wrong fails CI too
    ],
)
def test_checks_print_one_line_each_and_fail_only_on_an_error(
    verdicts, dbt_status, readable, exit_status, monkeypatch, capsys
):
    windows = []

    def reports(first, last):
        windows.append(("reports", first, last))
        return readable

    def gate(first, last):
        windows.append(("gate", first, last))
        return [evaluation(*verdict) for verdict in reversed(verdicts)]

    def dbt_tests(first, last):
        windows.append(("dbt", first, last))
        return dbt_status

    monkeypatch.setattr(checks, "run_gate_checks", gate)
    monkeypatch.setattr(checks, "run_dbt_tests", dbt_tests)
    monkeypatch.setattr(checks, "reports_read_right", reports)
    assert checks.main(["--from", "2026-11-09", "--to", "2026-11-10"]) == exit_status
    assert [w[0] for w in windows] == ["gate", "dbt", "reports"]
    assert {w[1:] for w in windows} == {("2026-11-09", "2026-11-10")}
    lines = capsys.readouterr().out.splitlines()
    expected = []
    for name, passed, *severity in sorted(verdicts):
        status = (
            "passed" if passed else (severity[0] if severity else dg.AssetCheckSeverity.ERROR).value.lower()
        )
        expected.append(
            f"{status:7} raw/sensor_readings:{name}" + ("" if passed else f": {name} found 3 bad rows")
        )
    dbt_line = f"{'passed' if dbt_status == 0 else 'error':7} dbt data tests on staging, marts and ocel"
    assert lines == [*expected, f"{dbt_line} (2026-11-09..2026-11-10)"]


def test_checks_read_the_windows_reports_as_their_readers_do(tmp_path, monkeypatch, capsys):
    day = tmp_path / "reports" / "2026-11-09" / "daily"
    day.mkdir(parents=True)
    tile = {"kpi": "oee", "unit_text": "", "unit": "ratio", "value": 0.7, "value_text": "70.0%"}
    tile["change"] = None
    (day / "director.json").write_text(json.dumps({"kpis": [tile], "sections": []}))
    (day / "director.html").write_text("<p>OEE 70.0%</p>")
    monkeypatch.setenv("GIGAFACTORY_REPORTS", str(tmp_path / "reports"))
    assert not checks.reports_read_right("2026-11-09", "2026-11-10")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("error   daily reports read right (2026-11-09..2026-11-10): 1 reports")
    assert lines[1].endswith("director.html: oee: no unit")


# ---------------------------------------------------------------- the backfill command


def small_graph(blocked_day: str, ranges_run: list[tuple[str, str]], reports_run: list[tuple[str, str]]):
    """Stands in for build_definitions: the simulation asset, a blocking gate check failing on
    ``blocked_day``, and the daily report job."""

    @dg.asset(name="simulated_factory")
    def simulated_factory(context) -> None:
        ranges_run.append((context.run.tags[RANGE_START], context.run.tags[RANGE_END]))

    @dg.asset_check(asset=simulated_factory, name="sensor_gaps", blocking=True)
    def sensor_gaps(context) -> dg.AssetCheckResult:
        first, last = context.run.tags[RANGE_START], context.run.tags[RANGE_END]
        return dg.AssetCheckResult(passed=not first <= blocked_day <= last)

    @dg.asset(deps=[simulated_factory], name="report")
    def report() -> None:
        pass

    @dg.op
    def render(context) -> None:
        reports_run.append((context.partition_key, context.run.tags.get(BLOCKED_CHECKS_TAG, "")))

    @dg.job(name="daily_report_job", partitions_def=dg.DailyPartitionsDefinition(start_date="2026-01-01"))
    def daily_report_job():
        render()

    return dg.Definitions(
        assets=[simulated_factory, report], asset_checks=[sensor_gaps], jobs=[daily_report_job]
    )


def test_backfill_splits_the_range_so_a_blocked_day_stops_only_itself(monkeypatch, capsys, tmp_path):
    ranges_run: list[tuple[str, str]] = []
    reports_run: list[tuple[str, str]] = []
    graph = small_graph("2026-11-10", ranges_run, reports_run)
    # the real wiring (dbt, GX, ...) takes seconds to import: modules standing in for it
    stand_ins = {
        "orchestration.definitions": {"build_definitions": lambda plant: graph},
        "orchestration.plant": {
            "resolve_plant": lambda: types.SimpleNamespace(
                paths=types.SimpleNamespace(warehouse_path=tmp_path / "warehouse.duckdb")  # its writer lock
            )
        },
        "orchestration.defs.reports": {"BLOCKED_CHECKS_TAG": BLOCKED_CHECKS_TAG},
    }
    for name, attributes in stand_ins.items():
        monkeypatch.setitem(sys.modules, name, types.SimpleNamespace(**attributes))
    instance = dg.DagsterInstance.ephemeral()  # DAGSTER_HOME's SQLite storage costs seconds a run
    monkeypatch.setattr(dg.DagsterInstance, "get", staticmethod(lambda: instance))

    assert backfill.main(["--from", "2026-11-09", "--to", "2026-11-10"]) == 1
    # the range fails, then each half runs on its own: 11-09 passes, 11-10 stays blocked
    assert ranges_run == [
        ("2026-11-09", "2026-11-10"),
        ("2026-11-09", "2026-11-09"),
        ("2026-11-10", "2026-11-10"),
    ]
    assert reports_run == [("2026-11-10", "sensor_gaps")]  # its reports go out, marked with the check
    out = capsys.readouterr().out
    assert "materializing 2026-11-09..2026-11-10" in out and "materializing 2026-11-10..2026-11-10" in out
    assert "1 factory day(s) materialized" in out
    assert "BLOCKED 2026-11-10: sensor_gaps; its reports go out marked INCOMPLETE" in out
    assert "check sensor_gaps failed (blocking)" in out  # the stage logger's one line, not Dagster's stream
    assert re.search(r"^  (simulate and land|quality gate): \d+ steps(, 1 failed)? in \d+ s$", out, re.M)
    assert len(instance.get_runs()) == 4  # three materializations and one report run, all on the instance


# ---------------------------------------------------------------- the warehouse docs command


def test_warehouse_docs_go_on_the_report_shelf_or_the_failure_is_one_line(tmp_path, monkeypatch, capsys):
    project = tmp_path / "dbt_project"
    (project / "target").mkdir(parents=True)
    settings = Settings(
        warehouse_path=tmp_path / "warehouse.duckdb",
        lake_dir=tmp_path / "lake",
        reports_dir=tmp_path / "reports",
        scenario_path=SMALL,
        partitions_start="2026-01-01",
    )
    calls = []

    def dbt(command, cwd, check):
        calls.append((command[1:4], Path(cwd)))
        (Path(cwd) / "target" / "static_index.html").write_text("<html>lineage</html>")
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(warehouse_docs, "DBT_PROJECT_DIR", project)
    monkeypatch.setattr(warehouse_docs, "load_settings", lambda: settings)
    monkeypatch.setattr(warehouse_docs, "export_dbt_environment", lambda s: calls.append(("env", s)))
    monkeypatch.setattr(warehouse_docs.subprocess, "run", dbt)
    assert warehouse_docs.main() == 0
    site = tmp_path / "reports" / "warehouse_docs" / "index.html"
    assert (
        site.read_text() == "<html>lineage</html>" and warehouse_docs.docs_path(settings.reports_dir) == site
    )
    assert calls == [("env", settings), (["docs", "generate", "--static"], project)]
    assert capsys.readouterr().out == f"Warehouse documentation: {site.resolve().as_uri()}\n"

    def broken_dbt(command, cwd, check):
        raise subprocess.CalledProcessError(2, command)

    monkeypatch.setattr(warehouse_docs.subprocess, "run", broken_dbt)
    assert warehouse_docs.main() == 1
    assert capsys.readouterr().err == "dbt docs generate failed (exit 2)\n"


# ---------------------------------------------------------------- shared argument types


def test_a_time_zone_argument_must_name_a_zone_and_late_errors_are_one_line(capsys):
    parser = Parser(prog="ingest")
    parser.add_argument("--tz", type=timezone_name)
    assert parser.parse_args(["--tz", "Europe/Berlin"]).tz == "Europe/Berlin"
    with pytest.raises(SystemExit) as stopped:
        parser.parse_args(["--tz", "Berlin"])
    assert stopped.value.code == 2
    assert "'Berlin' is not a time zone name, e.g. Europe/Berlin (see --help)" in capsys.readouterr().err
    with pytest.raises(argparse.ArgumentTypeError):
        timezone_name("../etc/passwd")
    assert fail("ingest", "the lake is locked") == 2
    assert fail("ingest", "no data", status=1) == 1
    assert capsys.readouterr().err == "ingest: error: the lake is locked\ningest: error: no data\n"
