"""Shared fixtures: every test gets its own warehouse, lake and report shelf under tmp_path."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.plant import Plant, resolve_plant
from orchestration.settings import DATA_DIR, Settings

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

SMALL_SCENARIO = DATA_DIR / "scenarios" / "test_small.yaml"

# Modules whose module fixture builds a warehouse (30-90 s each), longest first: collected first, so that the
# two workers (--dist loadfile hands out modules in collection order) start on them and end together, rather
# than one starting a long module when the other has nothing left.
LONG_MODULES = [  # longest first (pytest_results.json of a fresh clone's make test, 2026-12-06)
    "test_dbt_models.py",
    "test_simulator_realism.py",
    "test_rca.py",
    "test_pipeline.py",
    "test_mining_scale.py",
    "test_ocel_export.py",
    "test_genealogy_mining.py",
    "test_anomaly_assets.py",
    "test_marts_ground_truth.py",
    "test_live_sensors.py",
    "test_ingestion_faults.py",
    "test_mining_real_logs.py",
    "test_healthy_plant.py",
    "test_alerting.py",
    "test_raw_suites.py",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: position for position, name in enumerate(LONG_MODULES)}
    items.sort(key=lambda item: rank.get(item.path.name, len(LONG_MODULES)))  # stable: order within kept


@dataclass
class Platform:
    settings: Settings
    plant: Plant
    definitions: dg.Definitions
    resources: dict

    def asset(self, *path: str) -> dg.AssetsDefinition:
        """The assets definition that materializes the asset with key ``path`` (e.g. "raw", "machines")."""
        return assets_def(self.definitions, *path)

    @property
    def raw_checks(self) -> list:
        return list(self.definitions.asset_checks)

    def pipeline_assets(self) -> list[dg.AssetsDefinition]:
        """Extraction, the simulated plant's genealogy, the warehouse, process mining, the reports and the
        analysts' copy of the warehouse (not the analytics, nor delivery)."""
        genealogy = [self.asset("genealogy", "event")] if self.plant.simulated else []
        return [
            self.asset("raw", "production_events"),
            *genealogy,
            self.asset("marts", "fct_process_events"),
            self.asset("process_mining", "conformance"),
            self.asset("reports", "daily_report"),
            self.asset("analysts", "warehouse_copy"),
        ]

    def materialize_day(self, day: str, raise_on_error: bool = True) -> dg.ExecuteInProcessResult:
        """The pipeline and the quality gate's checks for factory day ``day``, on an ephemeral instance."""
        return dg.materialize(
            [*self.pipeline_assets(), *self.raw_checks],
            partition_key=day,
            resources=self.resources,
            instance=dg.DagsterInstance.ephemeral(),
            raise_on_error=raise_on_error,
        )

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


def assets_def(definitions: dg.Definitions, *path: str) -> dg.AssetsDefinition:
    """The assets definition (as built, without the code location's resources bound) that holds ``path``."""
    key = dg.AssetKey(list(path))
    return next(a for a in definitions.assets if isinstance(a, dg.AssetsDefinition) and key in a.keys)


def make_platform(root: Path, monkeypatch: pytest.MonkeyPatch) -> Platform:
    """A warehouse, lake and report shelf under ``root`` on the small test plant."""
    from orchestration.definitions import build_definitions

    settings = Settings(
        warehouse_path=root / "warehouse.duckdb",
        lake_dir=root / "lake",
        reports_dir=root / "reports",
        scenario_path=SMALL_SCENARIO,
        partitions_start="2026-01-01",
    )
    # building the definitions exports the paths for dbt's subprocess; monkeypatch restores them afterwards
    for name in ("GIGAFACTORY_WAREHOUSE", "GIGAFACTORY_LAKE"):
        monkeypatch.setenv(name, "")
    plant = resolve_plant(settings)
    definitions = build_definitions(plant)
    return Platform(settings, plant, definitions, dict(definitions.resources))


@contextmanager
def day_through_the_graph(folder: Path, day: str) -> Iterator[tuple[Platform, dg.ExecuteInProcessResult]]:
    """A platform under ``folder`` with factory day ``day`` materialized once, for a module's tests."""
    with pytest.MonkeyPatch.context() as patch:
        platform = make_platform(folder, patch)
        yield platform, platform.materialize_day(day)


@pytest.fixture
def platform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Platform:
    return make_platform(tmp_path, monkeypatch)


@pytest.fixture
def broker():
    """The development MQTT broker, served in this process on a free port."""
    from tests.live_helpers import InProcessBroker, free_port

    running = InProcessBroker(free_port())
    running.start()
    yield running
    running.close()


@pytest.fixture
def services():
    """Start ingestion services on a lake; stop the ones still running at the end."""
    from orchestration.ingestion.service import IngestionService, ServiceConfig
    from tests.live_helpers import BERLIN, free_port

    started: list = []

    def start(lake: Path, mqtt_port: int | None = None, **overrides):
        settings = {
            "lake_dir": lake,
            "calendar": BERLIN,
            "mqtt_port": mqtt_port or free_port(),  # nothing listening: the service retries in the background
            "http_port": 0,
            "flush_interval_s": 0.05,
            "checkpoint_interval_s": 0.1,
            "lateness_s": 1.0,
            "idle_close_s": 0.2,
            **overrides,
        }
        service = IngestionService(ServiceConfig(**settings))
        service.start()
        started.append(service)
        return service

    yield start
    for service in started:
        if not service._stop.is_set():
            service.stop()
