"""Where the platform keeps its files, from environment variables with repository-relative defaults.

Every path is resolved to an absolute path once, here, so that Dagster, dbt (which runs in dbt_project/)
and the tests agree on the same warehouse.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
DATA_DIR = REPO_ROOT / "data"
# The warehouse engines the dbt project and the mining statistics run on (GIGAFACTORY_ENGINE): one DuckDB file
# (the default) or Apache Spark (dbt-spark; `make spark-check`, docs/scale-out.md).
ENGINES = ("duckdb", "spark")


def _path(env_var: str, default: Path | None) -> Path | None:
    value = os.environ.get(env_var)
    return Path(value).expanduser().resolve() if value else default


@dataclass(frozen=True)
class Settings:
    warehouse_path: Path  # the one DuckDB file: schemas raw, staging, marts, process_mining, ...
    lake_dir: Path  # Parquet landing zone: <lake>/raw/<table>/date=YYYY-MM-DD/
    reports_dir: Path  # rendered reports: <reports>/<date>/
    scenario_path: Path  # the simulated factory's scenario (layered over data/factory.yaml)
    partitions_start: str  # first factory day a partition exists for
    # The plant's own export, as a source mapping (data/mappings/*.yaml); None: the simulated factory.
    source_mapping: Path | None = None
    machines_csv: Path | None = None  # the plant's machine master data (CSV); None: derived from the events
    # Operational state the teams own (delivery log, RCA cases and their history), schemas `distribution` and
    # `rca`: a file of its own, so that rebuilding the warehouse never erases it. None: beside the warehouse.
    state_path: Path | None = None
    # The group that may read the restricted files (role reports, the warehouse); None: the account's own.
    file_group: str | None = None
    engine: str = "duckdb"  # the warehouse engine, one of ENGINES
    # Which signal alerts which team, how (data/alerting/rules.yaml); None: that default.
    alert_rules_path: Path | None = None
    # Where Spark keeps the warehouse's tables (spark.sql.warehouse.dir: the marts' Parquet, the metastore)
    # when the engine is spark; None: beside the DuckDB file (<folder of the warehouse>/spark-warehouse).
    spark_warehouse_dir: Path | None = None

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ValueError(f"GIGAFACTORY_ENGINE must be one of {', '.join(ENGINES)}, got {self.engine!r}")
        if self.state_path is None:
            object.__setattr__(self, "state_path", self.warehouse_path.with_name("state.duckdb"))
        if self.alert_rules_path is None:
            object.__setattr__(self, "alert_rules_path", DATA_DIR / "alerting" / "rules.yaml")
        if self.spark_warehouse_dir is None:
            object.__setattr__(self, "spark_warehouse_dir", self.warehouse_path.with_name("spark-warehouse"))


def load_settings() -> Settings:
    return Settings(
        warehouse_path=_path("GIGAFACTORY_WAREHOUSE", DATA_DIR / "warehouse.duckdb"),
        lake_dir=_path("GIGAFACTORY_LAKE", DATA_DIR / "lake"),
        reports_dir=_path("GIGAFACTORY_REPORTS", DATA_DIR / "reports"),
        scenario_path=_path("GIGAFACTORY_SCENARIO", DATA_DIR / "scenarios" / "default.yaml"),
        partitions_start=os.environ.get("GIGAFACTORY_START_DATE", "2026-01-01"),
        source_mapping=_path("GIGAFACTORY_SOURCE", None),
        machines_csv=_path("GIGAFACTORY_MACHINES_CSV", None),
        state_path=_path("GIGAFACTORY_STATE", None),
        file_group=os.environ.get("GIGAFACTORY_FILE_GROUP") or None,
        engine=(os.environ.get("GIGAFACTORY_ENGINE") or "duckdb").strip().lower(),
        alert_rules_path=_path("GIGAFACTORY_ALERT_RULES", None),
        spark_warehouse_dir=_path("GIGAFACTORY_SPARK_WAREHOUSE", None),
    )
