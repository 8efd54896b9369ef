"""Run the dbt project as Dagster does, on a lake and warehouse of a test's own (for the dbt test modules)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from orchestration.dbt_runner import window_environment

DBT_PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"


def run_dbt(work: Path, *args: str, window: tuple[str, str] | None = None) -> None:
    """One dbt invocation as Dagster makes it (a dbt process in dbt_project/ with the paths, and the
    factory days ``window`` if given, in its environment), with the lake at work/lake, the warehouse at
    work/warehouse.duckdb and target and logs kept in `work`.
    A subprocess, not dbtRunner: dbt-duckdb keeps its connection open in the calling process, which would
    keep the tests from opening the warehouse."""
    env = {
        **os.environ,
        "GIGAFACTORY_WAREHOUSE": str(work / "warehouse.duckdb"),
        "GIGAFACTORY_LAKE": str(work / "lake"),
        "DO_NOT_TRACK": "1",
        **(window_environment(*window) if window else {}),
    }
    command = [
        sys.executable,
        "-m",
        "dbt.cli.main",
        *args,
        "--profiles-dir",
        ".",
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
    ]
    run = subprocess.run(command, cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True, check=False)
    if run.returncode != 0:
        pytest.fail(f"{' '.join(command)} failed:\n{run.stdout[-5000:]}\n{run.stderr[-2000:]}")
