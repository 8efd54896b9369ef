"""Shared fixtures: every test gets its own warehouse, lake and report shelf under tmp_path."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from orchestration.settings import DATA_DIR, Settings

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

SMALL_SCENARIO = DATA_DIR / "scenarios" / "test_small.yaml"


@dataclass
class Platform:
    settings: Settings
    resources: dict

    def query(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.settings.warehouse_path), read_only=True) as conn:
            return conn.execute(sql).fetchall()

    def table_row_counts(self) -> dict[str, int]:
        """Rows of every table and view in the warehouse, keyed by schema.table."""
        with duckdb.connect(str(self.settings.warehouse_path), read_only=True) as conn:
            names = conn.execute(
                "select table_schema, table_name from information_schema.tables "
                "where table_catalog = current_database() order by 1, 2"
            ).fetchall()
            return {
                f"{schema}.{name}": conn.execute(f'select count(*) from "{schema}"."{name}"').fetchone()[0]
                for schema, name in names
            }


def make_platform(root: Path, monkeypatch: pytest.MonkeyPatch) -> Platform:
    """A warehouse, lake and report shelf under ``root`` on the small test plant."""
    from orchestration.defs.resources import build_resources
    from orchestration.defs.warehouse import dbt_project

    settings = Settings(
        warehouse_path=root / "warehouse.duckdb",
        lake_dir=root / "lake",
        reports_dir=root / "reports",
        scenario_path=SMALL_SCENARIO,
        partitions_start="2026-01-01",
    )
    # build_resources exports the paths for dbt's subprocess; monkeypatch restores them afterwards
    for name in ("GIGAFACTORY_WAREHOUSE", "GIGAFACTORY_LAKE"):
        monkeypatch.setenv(name, "")
    return Platform(settings=settings, resources=build_resources(dbt_project, settings))


@pytest.fixture
def platform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Platform:
    return make_platform(tmp_path, monkeypatch)
