"""Every resource of the code location, configured in this one place from the plant.

The warehouse is our own small resource rather than the stock ``DuckDBResource``: every connection is set to
UTC (timestamps are timezone-aware end to end) and a read-only connect to a warehouse not built yet says so in
one sentence; the stock resource does neither. The plant itself is a resource too (``plant:
dg.ResourceParam[Plant]``), so assets and checks read its calendar instead of looking settings up.
"""

from contextlib import contextmanager
from datetime import date
from functools import cached_property, lru_cache
from importlib.metadata import version
from pathlib import Path

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource, DbtProject
from packaging.version import Version

from orchestration.connectors import PlantExport, load_mapping, read_plant_export
from orchestration.dbt_runner import dbt_executable, export_dbt_environment
from orchestration.factory_calendar import FactoryCalendar
from orchestration.plant import Plant
from orchestration.simulator import FactoryConfig, load_scenario
from orchestration.simulator.engine import FactoryDay, run_factory_day
from orchestration.simulator.line_state import LineStates


class SimulatedFactory(dg.ConfigurableResource):
    """The embedded simulated gigafactory; the scenario file chooses machines, shifts, rates and effects."""

    scenario_path: str
    # Where the line's state at each day's start is kept (beside the lake), so that a run does not simulate
    # the plant's history again; None: in memory only.
    states_dir: str | None = None

    def config(self) -> FactoryConfig:
        return load_scenario(Path(self.scenario_path))

    def simulate(self, day: str) -> FactoryDay:
        states = LineStates(Path(self.states_dir) if self.states_dir else None)
        return run_factory_day(self.config(), date.fromisoformat(day), states)


class PlantExportSource(dg.ConfigurableResource):
    """The plant's own MES export, read through a source mapping (data/mappings/*.yaml)."""

    mapping_path: str
    machines_csv: str | None = None  # machine master data; None: derived from the events (no PRU, no costs)

    def read(self, calendar: FactoryCalendar) -> PlantExport:
        """The export as the plant's factory days; read again only when a source file changed (new, touched,
        resized)."""
        mapping = load_mapping(self.mapping_path)
        files = tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in mapping.source_files())
        return _read_export(self.mapping_path, self.machines_csv, calendar, files)


@lru_cache(maxsize=4)
def _read_export(
    mapping_path: str, machines_csv: str | None, calendar: FactoryCalendar, files: tuple
) -> PlantExport:
    machines = Path(machines_csv) if machines_csv else None
    return read_plant_export(load_mapping(mapping_path), calendar, machines)


class Lake(dg.ConfigurableResource):
    """The Parquet landing zone: <lake_dir>/<raw|truth>/<table>/date=YYYY-MM-DD/."""

    lake_dir: str

    @property
    def path(self) -> Path:
        return Path(self.lake_dir)


class Warehouse(dg.ConfigurableResource):
    """The DuckDB warehouse file. One writer at a time: steps run in process, one after the other.

    It is the one connection of every Python asset and check on either engine (settings.ENGINES). On Spark,
    dbt builds the marts as Parquet tables under ``spark_warehouse``; ``refresh_engine_tables`` (after every
    dbt run) makes them, and the lake's raw tables, views of this file (engines/spark_tables.py), and
    ``mining_statistics`` computes the mining statistics in Spark (engines/spark_mining.py). On DuckDB both
    are no-ops: dbt writes the marts into this file and the statistics are DuckDB's."""

    database: str
    file_group: str | None = None  # the group that may read it (settings.file_group); it is 0640
    engine: str = "duckdb"  # settings.ENGINES: where dbt builds the marts
    lake_dir: str | None = None  # the raw lake (views of it on Spark)
    spark_warehouse: str | None = None  # Spark's tables (spark.sql.warehouse.dir) when the engine is spark

    def refresh_engine_tables(self, manifest: Path | None = None) -> list[str]:
        """On Spark, the views of this file over the lake and Spark's tables, made current; returns them.
        ``manifest``: the dbt run's, whose contracts type the views of tables without a row yet."""
        if self.engine != "spark":
            return []
        from orchestration.engines.spark_tables import attach_spark_tables

        with self.connect() as conn:
            lake, spark_warehouse = Path(self.lake_dir or ""), Path(self.spark_warehouse or "")
            return attach_spark_tables(conn, lake, spark_warehouse, manifest)

    @contextmanager
    def mining_statistics(self):
        """On Spark, a function (first day, last day, min_end_share) -> the window's mining statistics
        computed in a Spark session over the marts' Parquet (stopped on exit); on DuckDB, None: the mining
        computes them in this file."""
        if self.engine != "spark":
            yield None
            return
        from orchestration.engines.spark_mining import spark_window_statistics

        with spark_window_statistics(Path(self.spark_warehouse or "")) as statistics:
            yield statistics

    @contextmanager
    def connect(self, read_only: bool = False):
        if read_only and not Path(self.database).exists():
            raise FileNotFoundError(
                f"warehouse {self.database} does not exist yet: materialize the marts first"
            )
        if not read_only:
            Path(self.database).parent.mkdir(parents=True, exist_ok=True)
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


class OperationalState(dg.ConfigurableResource):
    """The DuckDB file of the teams' own state (RCA cases and their history, the delivery log): apart from the
    warehouse, so rebuilding the warehouse never erases it (plant.paths.state_path)."""

    path: str


class WarehouseDbt(DbtCliResource):
    """The stock dbt resource without two costs of every invocation (~10 s) that buy this platform nothing.

    dagster-dbt loads dbt's adapter and all its macros in process (~6 s) for ``fetch_row_counts`` and column
    metadata, which would open the warehouse while dbt writes it: the row counts are read once dbt has
    exited (defs/warehouse.py). And it runs ``dbt --version`` (~4 s) to learn the version of the dbt beside
    this Python, which is the installed dbt-core package. Both are private hooks of dagster-dbt, pinned below
    0.30; if they change, dbt runs as before, only slower.
    """

    def _initialize_dbt_core_adapter(self, args):
        return None

    @cached_property
    def _cli_version(self) -> Version:
        return Version(version("dbt-core"))


def build_resources(plant: Plant, dbt_project: DbtProject) -> dict:
    """All resources, pointed at the plant's one warehouse, lake, report shelf and state file."""
    paths = plant.paths
    export_dbt_environment(paths)
    resources = {
        "plant": plant,
        "factory": SimulatedFactory(
            scenario_path=str(paths.scenario_path), states_dir=str(paths.lake_dir / "simulator")
        ),
        "lake": Lake(lake_dir=str(paths.lake_dir)),
        "warehouse": Warehouse(
            database=str(paths.warehouse_path),
            file_group=paths.file_group,
            engine=plant.engine,
            lake_dir=str(paths.lake_dir),
            spark_warehouse=str(paths.spark_warehouse_dir),
        ),
        "reports": ReportShelf(reports_dir=str(paths.reports_dir)),
        "state": OperationalState(path=str(paths.state_path)),
        "dbt": WarehouseDbt(project_dir=dbt_project, dbt_executable=dbt_executable()),
    }
    if paths.source_mapping is not None:  # the plant's own export (see orchestration/connectors)
        resources["plant_export"] = PlantExportSource(
            mapping_path=str(paths.source_mapping),
            machines_csv=str(paths.machines_csv) if paths.machines_csv else None,
        )
    return resources
