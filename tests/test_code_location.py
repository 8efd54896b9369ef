"""The code location loads, its lineage is one connected graph rooted in extraction, and the CLI
validates it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from orchestration.definitions import build_definitions
from orchestration.definitions import defs as load_defs
from orchestration.lake.tables import RAW_TABLES, TRUTH_TABLES
from orchestration.plant import resolve_plant

REPO = Path(__file__).resolve().parent.parent
defs = build_definitions(resolve_plant())


def test_code_location_loads():
    dg.Definitions.validate_loadable(load_defs())  # what Dagster calls when it loads the location
    assert defs.resolve_job_def("daily_factory_job") is not None


def test_every_asset_descends_from_extraction():
    graph = defs.resolve_asset_graph()
    raw_keys = {dg.AssetKey(["raw", table]) for table in RAW_TABLES}
    truth_keys = {dg.AssetKey(["truth", table]) for table in TRUTH_TABLES}  # landed beside raw, by extraction
    materializable = {key for key in graph.get_all_asset_keys() if graph.get(key).is_materializable}
    assert raw_keys | truth_keys <= materializable
    expected_downstream = {
        dg.AssetKey(["marts", "fct_process_events"]),
        dg.AssetKey(["marts", "fct_oee_machine_day"]),
        dg.AssetKey(["process_mining", "conformance"]),
        dg.AssetKey(["reports", "daily_report"]),
    }
    assert expected_downstream <= materializable
    for key in materializable - raw_keys - truth_keys:
        ancestors = graph.get_ancestor_asset_keys(key)
        assert ancestors & raw_keys, f"{key.to_user_string()} does not descend from the extraction assets"


def test_blocking_quality_checks_are_attached_to_every_raw_table():
    graph = defs.resolve_asset_graph()
    for table in RAW_TABLES:
        key = dg.AssetCheckKey(dg.AssetKey(["raw", table]), f"{table}_meets_expectations")
        assert key in graph.asset_check_keys, f"raw/{table} has no quality check"
        assert graph.get_check_spec(key).blocking, f"raw/{table}'s check does not block the warehouse"


@pytest.mark.e2e  # the dagster CLI in a process of its own
def test_dagster_cli_validates_the_workspace():
    result = subprocess.run(
        [str(Path(sys.executable).parent / "dagster"), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
