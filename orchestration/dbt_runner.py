"""Running dbt beside the platform: which dbt, whether its manifest is current, the paths its profile reads.

The Dagster wiring, the checks driver and the docs command share this; no Dagster here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from orchestration.settings import DBT_PROJECT_DIR, Settings

MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"


def dbt_executable() -> str:
    """The dbt installed beside this Python (the project's .venv), even when the venv is not on PATH."""
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")


def export_dbt_environment(settings: Settings) -> None:
    """dbt reads the warehouse and lake paths from the environment (see dbt_project/profiles.yml), and how it
    picks the data tests of a partial run: "buildable" runs a test when all its parents are built or upstream.
    dbt's default ("eager") runs it when any one is selected, so materializing one mart and its upstream from
    the UI ran the relationship tests of marts it does not build, which fail on a warehouse that lacks them.
    dagster-dbt passes the variable on (and sets "empty" itself when it selects tests one by one); a value the
    user set wins."""
    os.environ["GIGAFACTORY_WAREHOUSE"] = str(settings.warehouse_path)
    os.environ["GIGAFACTORY_LAKE"] = str(settings.lake_dir)
    os.environ.setdefault("DBT_INDIRECT_SELECTION", "buildable")


def manifest_is_stale(manifest: Path = MANIFEST) -> bool:
    """No manifest yet (a fresh clone), or a model, macro or project file changed since it was parsed."""
    if not manifest.exists():
        return True
    parsed = manifest.stat().st_mtime
    sources = [DBT_PROJECT_DIR / "dbt_project.yml"]
    for folder in ("models", "macros", "tests"):
        sources.extend(p for p in (DBT_PROJECT_DIR / folder).rglob("*") if p.is_file())
    return any(p.stat().st_mtime > parsed for p in sources)


def parse_project(force: bool = False) -> Path:
    """``dbt parse`` when the manifest is stale (or ``force``); returns the manifest's path."""
    if force or manifest_is_stale():
        subprocess.run([dbt_executable(), "parse", "--quiet"], cwd=DBT_PROJECT_DIR, check=True)
    return MANIFEST


def run_dbt_tests(first: str, last: str) -> int:
    """``dbt test`` over the factory days ``first``..``last``; returns dbt's exit status."""
    window = json.dumps({"min_date": first, "max_date": last})
    command = [dbt_executable(), "test", "--vars", window, "--quiet"]
    return subprocess.run(command, cwd=DBT_PROJECT_DIR).returncode


def window_row_counts(conn, tables: list[str], first_day: str, last_day: str) -> dict[str, tuple[int, int]]:
    """``schema.table`` -> (rows of the factory days first_day..last_day, rows in all) for the tables of a dbt
    run that exist; the window's count is the table's own count when it has no production_date."""
    dated = {
        f"{schema}.{table}"
        for schema, table in conn.execute(
            "select table_schema, table_name from information_schema.columns "
            "where column_name = 'production_date'"
        ).fetchall()
    }
    existing = {
        f"{schema}.{table}"
        for schema, table in conn.execute(
            "select table_schema, table_name from information_schema.tables"
        ).fetchall()
    }
    counts = {}
    for table in tables:
        if table not in existing:
            continue
        in_window = (
            "count(*) filter (where production_date between ?::date and ?::date)"
            if table in dated
            else "count(*)"
        )
        parameters = [first_day, last_day] if table in dated else []
        window, total = conn.execute(f"select {in_window}, count(*) from {table}", parameters).fetchone()
        counts[table] = (int(window), int(total))
    return counts
