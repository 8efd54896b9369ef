"""The dbt warehouse (DuckDB, or Spark: settings.ENGINES): staging views over the lake and incremental marts,
one factory-day window a run. On Spark the marts' Parquet becomes views of the DuckDB file after each run."""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets
from dagster_dbt.dbt_project import using_dagster_dev

from orchestration.atomic_files import RESTRICTED, restrict_database
from orchestration.dbt_runner import dbt_window, keep_partial_parse, parse_project, window_row_counts
from orchestration.defs.resources import Warehouse
from orchestration.settings import DBT_PROJECT_DIR


class WarehouseTranslator(DagsterDbtTranslator):
    """Asset keys are <schema>/<model>; sources are the raw assets; groups follow the dbt folders."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":  # the lake: raw/<table>, truth/<table>, ...
            layer = {"truth": "truth", "quarantine": "quarantine", "genealogy": "genealogy"}.get(
                dbt_resource_props["source_name"], "raw"
            )
            return dg.AssetKey([layer, dbt_resource_props["name"]])
        return dg.AssetKey([dbt_resource_props["config"]["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props["fqn"]  # [project, folder, (area,) model]
        if dbt_resource_props["resource_type"] == "source":
            return "extraction"
        return f"marts_{fqn[2]}" if fqn[1] == "marts" and len(fqn) > 3 else fqn[1]


def dbt_window_vars(partition_keys: list[str]) -> dict[str, str]:
    """The factory days a dbt run rebuilds: incremental marts delete and re-insert exactly these dates."""
    return {"min_date": min(partition_keys), "max_date": max(partition_keys)}


def build_dbt_project() -> DbtProject:
    """The dbt project with a current manifest: parsed when definitions are built (never at import), under
    ``dagster dev`` every time so that model edits show on reload, elsewhere only when stale."""
    project = DbtProject(project_dir=DBT_PROJECT_DIR)
    parse_project(force=using_dagster_dev())
    return project


def warehouse_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: Warehouse):
    window = dbt_window_vars(list(context.partition_keys))
    # dbt's unit tests check the models' SQL on fixed rows, not the day's data: the test suite runs them
    # (tests/test_dbt_models.py), a factory day's run does not repeat them (a third of its dbt time).
    arguments = ["build", "--exclude-resource-type", "unit_test"]
    with dbt_window(window["min_date"], window["max_date"]):
        invocation = dbt.cli(arguments, context=context, raise_on_error=False)
    events = list(invocation.stream())
    keep_partial_parse(invocation.target_path)
    # Row counts once dbt has exited (not dagster-dbt's fetch_row_counts, which opens the warehouse while
    # dbt writes and holds it): the window's rows and the table's, on each materialized model.
    outputs = {e.output_name: e for e in events if isinstance(e, dg.Output)}
    tables = {name: ".".join(context.asset_key_for_output(name).path) for name in outputs}
    if outputs:  # on Spark: the tables it built (and the lake) as views of the DuckDB file the assets read
        views = warehouse.refresh_engine_tables(Path(invocation.target_path) / "manifest.json")
        if views:
            context.log.info(f"{len(views)} Spark tables and lake tables as views of {warehouse.database}")
    counts = {}
    if outputs and Path(warehouse.database).exists():
        with warehouse.connect(read_only=True) as conn:
            counts = window_row_counts(conn, list(tables.values()), window["min_date"], window["max_date"])
    for event in events:
        count = counts.get(tables.get(getattr(event, "output_name", None), ""))
        if isinstance(event, dg.Output) and count is not None:
            event = event.with_metadata(
                {**event.metadata, "dagster/row_count": count[0], "rows_all_days": count[1]}
            )
        yield event
    if Path(warehouse.database).exists():  # dbt creates the file with the process's umask; it holds costs
        restrict_database(Path(warehouse.database), RESTRICTED, warehouse.file_group)
    if not invocation.is_successful():
        raise invocation.get_error()


def build_warehouse(project: DbtProject, factory_days: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    return dbt_assets(
        manifest=project.manifest_path,
        project=project,
        name="warehouse_models",
        partitions_def=factory_days,
        backfill_policy=dg.BackfillPolicy.single_run(),
        dagster_dbt_translator=WarehouseTranslator(),
    )(warehouse_models)
