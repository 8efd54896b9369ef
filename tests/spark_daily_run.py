"""One factory day of the tiny test plant through the whole daily job (every asset and check) on either
engine, in a folder of its own: what tests/test_spark_daily_run.py compares. Run as a module in the Spark venv
(``.venv-spark/bin/python -m tests.spark_daily_run <folder> <day> spark``) it writes ``run.json`` there: the
run's success, its failures and checks, and its wall time."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import dagster as dg

from orchestration.definitions import build_definitions
from orchestration.plant import resolve_plant
from orchestration.settings import DATA_DIR, Settings

SMALL_SCENARIO = DATA_DIR / "scenarios" / "test_small.yaml"  # tests/conftest.py's tiny plant
# A tiny day is a few kB a table: as many shuffle partitions as cores (the profile's default is 4).
SPARK_PARTITIONS = "2"


def plant_settings(folder: Path, engine: str) -> Settings:
    return Settings(
        warehouse_path=folder / "warehouse.duckdb",
        lake_dir=folder / "lake",
        reports_dir=folder / "reports",
        scenario_path=SMALL_SCENARIO,
        partitions_start="2026-01-01",
        engine=engine,
    )


def run_day(folder: Path, day: str, engine: str) -> dict:
    """The daily job of ``day`` (every asset and check) on an ephemeral instance; what happened."""
    began = time.perf_counter()
    definitions = build_definitions(resolve_plant(plant_settings(folder, engine)))
    result = definitions.resolve_job_def("daily_factory_job").execute_in_process(
        partition_key=day, instance=dg.DagsterInstance.ephemeral(), raise_on_error=False
    )
    checks = result.get_asset_check_evaluations()
    steps = {}
    for event in result.all_events:
        if event.is_step_success or event.is_step_failure:
            steps[event.step_key] = "success" if event.is_step_success else "failure"
    return {
        "engine": engine,
        "day": day,
        "success": result.success,
        "failures": [e.message for e in result.all_events if e.is_failure][:5],
        "checks": len(checks),
        "failed_checks": sorted(c.check_name for c in checks if not c.passed),
        "steps": steps,
        "seconds": round(time.perf_counter() - began, 1),
    }


def main(argv: list[str]) -> int:
    folder, day, engine = Path(argv[0]), argv[1], argv[2]
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["GIGAFACTORY_SPARK_PARTITIONS"] = SPARK_PARTITIONS
    outcome = run_day(folder, day, engine)
    (folder / "run.json").write_text(json.dumps(outcome, indent=1))
    return 0 if outcome["success"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
