"""Every resource of the code location, configured in this one place from the environment (settings)."""

import os
import shutil
import sys
from contextlib import contextmanager
from datetime import date
from functools import lru_cache
from pathlib import Path

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource, DbtProject
from dagster_dbt.dbt_project import using_dagster_dev

from orchestration.connectors import PlantExport, load_mapping, read_plant_export
from orchestration.settings import DBT_PROJECT_DIR, Settings, load_settings
from orchestration.simulator import load_scenario
from orchestration.simulator.engine import FactoryDay, run_factory_day


class SimulatedFactory(dg.ConfigurableResource):
    """The embedded simulated gigafactory; the scenario file chooses machines, shifts, rates and effects."""

    scenario_path: str

    def simulate(self, day: str) -> FactoryDay:
        return run_factory_day(load_scenario(Path(self.scenario_path)), date.fromisoformat(day))


class PlantExportSource(dg.ConfigurableResource):
    """The plant's own MES export, read through a source mapping (data/mappings/*.yaml)."""

    mapping_path: str
    machines_csv: str | None = None  # machine master data; None: derived from the events (no PRU, no costs)

    def read(self) -> PlantExport:
        """The export as factory days; read again only when a source file changed (new, touched, resized)."""
        mapping = load_mapping(self.mapping_path)
        files = tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in mapping.source_files())
        return _read_export(self.mapping_path, self.machines_csv, files)


@lru_cache(maxsize=4)
def _read_export(mapping_path: str, machines_csv: str | None, files: tuple) -> PlantExport:
    return read_plant_export(load_mapping(mapping_path), Path(machines_csv) if machines_csv else None)


class Lake(dg.ConfigurableResource):
    """The Parquet landing zone: <lake_dir>/<raw|truth>/<table>/date=YYYY-MM-DD/."""

    lake_dir: str

    @property
    def path(self) -> Path:
        return Path(self.lake_dir)


class Warehouse(dg.ConfigurableResource):
    """The DuckDB warehouse file. One writer at a time: steps run in process, one after the other."""

    database: str

    @contextmanager
    def connect(self, read_only: bool = False):
        if read_only and not Path(self.database).exists():
            raise FileNotFoundError(
                f"warehouse {self.database} does not exist yet: materialize the marts first"
            )
        conn = duckdb.connect(self.database, read_only=read_only)
        try:
            conn.execute("SET TimeZone = 'UTC'")
            yield conn
        finally:
            conn.close()


class ReportShelf(dg.ConfigurableResource):
    """Where rendered reports go: <reports_dir>/<factory day>/."""

    reports_dir: str

    def day_dir(self, day: str) -> Path:
        return Path(self.reports_dir) / day


def export_dbt_environment(settings: Settings) -> None:
    """dbt reads the warehouse and lake paths from the environment (see dbt_project/profiles.yml)."""
    os.environ["GIGAFACTORY_WAREHOUSE"] = str(settings.warehouse_path)
    os.environ["GIGAFACTORY_LAKE"] = str(settings.lake_dir)


def dbt_executable() -> str:
    """The dbt installed beside this Python (the project's .venv), even when the venv is not on PATH."""
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")


def manifest_is_stale(project: DbtProject) -> bool:
    """No manifest yet (a fresh clone), or a model, macro or project file changed since it was parsed."""
    if not project.manifest_path.exists():
        return True
    parsed = project.manifest_path.stat().st_mtime
    sources = [DBT_PROJECT_DIR / "dbt_project.yml"]
    for folder in ("models", "macros", "tests"):
        sources.extend(p for p in (DBT_PROJECT_DIR / folder).rglob("*") if p.is_file())
    return any(p.stat().st_mtime > parsed for p in sources)


def build_dbt_project() -> DbtProject:
    export_dbt_environment(load_settings())
    project = DbtProject(project_dir=DBT_PROJECT_DIR)
    # Under `dagster dev` re-parse so model edits show up on reload; elsewhere when the manifest is stale.
    if using_dagster_dev() or manifest_is_stale(project):
        DbtCliResource(project_dir=project, dbt_executable=dbt_executable()).cli(
            ["parse", "--quiet"], target_path=project.target_path
        ).wait()
    return project


class OperationalState(dg.ConfigurableResource):
    """The DuckDB file of the teams' own state (RCA cases and their history, the delivery log): apart from the
    warehouse, so rebuilding the warehouse never erases it (settings.state_path)."""

    path: str


def build_resources(dbt_project: DbtProject, settings: Settings | None = None) -> dict:
    """All resources, pointed at one warehouse, lake and report shelf (tests pass their own settings)."""
    settings = settings or load_settings()
    export_dbt_environment(settings)
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    resources = {
        "factory": SimulatedFactory(scenario_path=str(settings.scenario_path)),
        "lake": Lake(lake_dir=str(settings.lake_dir)),
        "warehouse": Warehouse(database=str(settings.warehouse_path)),
        "reports": ReportShelf(reports_dir=str(settings.reports_dir)),
        "state": OperationalState(path=str(settings.state_path)),
        "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable()),
    }
    if settings.source_mapping is not None:  # the plant's own export (see orchestration/connectors)
        resources["plant_export"] = PlantExportSource(
            mapping_path=str(settings.source_mapping),
            machines_csv=str(settings.machines_csv) if settings.machines_csv else None,
        )
    return resources
