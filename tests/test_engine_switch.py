"""The warehouse engine is one setting (GIGAFACTORY_ENGINE: duckdb, the default, or spark), resolved once into
the Plant; dbt's target follows it, and the code location loads with either engine without starting Spark or
touching the warehouse, showing the same assets and lineage."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from orchestration.dbt_runner import dbt_target, export_dbt_environment
from orchestration.plant import resolve_plant
from orchestration.settings import load_settings
from tests.spark_daily_run import plant_settings


def test_the_engine_is_duckdb_unless_the_environment_says_spark(monkeypatch):
    monkeypatch.delenv("GIGAFACTORY_ENGINE", raising=False)
    assert load_settings().engine == "duckdb"
    monkeypatch.setenv("GIGAFACTORY_ENGINE", " Spark ")
    assert load_settings().engine == "spark"
    monkeypatch.setenv("GIGAFACTORY_ENGINE", "snowflake")
    with pytest.raises(ValueError, match="GIGAFACTORY_ENGINE must be one of duckdb, spark"):
        load_settings()


def test_the_plant_carries_the_engine_and_dbt_builds_on_its_target(tmp_path, monkeypatch):
    for name in ("GIGAFACTORY_WAREHOUSE", "GIGAFACTORY_LAKE", "GIGAFACTORY_DBT_TARGET"):
        monkeypatch.setenv(name, "")
    for engine, target in (("duckdb", "dev"), ("spark", "spark")):
        plant = resolve_plant(plant_settings(tmp_path, engine))
        assert plant.engine == engine
        export_dbt_environment(plant.paths)
        assert os.environ["GIGAFACTORY_DBT_TARGET"] == dbt_target(engine) == target
    # the profile has both targets and chooses by the exported variable
    profile = (Path(__file__).parent.parent / "dbt_project" / "profiles.yml").read_text()
    assert "env_var('GIGAFACTORY_DBT_TARGET', 'dev')" in profile
    assert "type: duckdb" in profile and "type: spark" in profile and "method: session" in profile
    with pytest.raises(ValueError, match="no dbt target"):
        dbt_target("snowflake")


def lineage(definitions) -> tuple[dict, set]:
    """Every asset with its parents, and every asset check."""
    graph = definitions.resolve_asset_graph()
    assets = {key: frozenset(graph.get(key).parent_keys) for key in graph.get_all_asset_keys()}
    return assets, set(graph.asset_check_keys)


def test_the_code_location_loads_with_either_engine_showing_the_same_lineage_without_starting_spark(
    tmp_path, monkeypatch
):
    from orchestration.definitions import build_definitions

    for name in ("GIGAFACTORY_WAREHOUSE", "GIGAFACTORY_LAKE", "GIGAFACTORY_DBT_TARGET"):
        monkeypatch.setenv(name, "")
    spark_loaded_before = "pyspark" in sys.modules
    seen = {}
    for engine in ("duckdb", "spark"):
        root = tmp_path / engine
        definitions = build_definitions(resolve_plant(plant_settings(root, engine)))
        seen[engine] = lineage(definitions)
        assert not root.exists(), f"loading the {engine} code location wrote {list(root.rglob('*'))}"
    assert ("pyspark" in sys.modules) == spark_loaded_before  # Spark is started by a run, never by a load
    (duckdb_assets, duckdb_checks), (spark_assets, spark_checks) = seen["duckdb"], seen["spark"]
    assert spark_assets == duckdb_assets
    assert spark_checks == duckdb_checks
    # the comparison saw the warehouse's dbt models and their lineage from the raw tables
    dbt_models = {key for key in duckdb_assets if key.path[-1].startswith(("fct_", "dim_", "stg_"))}
    assert len(dbt_models) >= 20
    assert any(duckdb_assets[key] for key in dbt_models)


def test_spark_check_calls_tables_equal_only_when_every_row_agrees():
    """make spark-check's comparison: order-independent, doubles within a relative 1e-9, instants in any zone,
    missing values alike; a changed value, a missing row or a missing table is a difference."""
    import pandas as pd

    from orchestration.engines.spark_check import compare

    duckdb_rows = pd.DataFrame(
        {
            "machine_id": ["CAL-01", "COAT-01", "COAT-02"],
            "oee": [0.8123456789, 0.5, None],
            "cells": pd.array([10, 20, None], dtype="Int64"),
            "start_ts": pd.to_datetime(
                ["2026-11-09 05:00", "2026-11-09 06:00", "2026-11-09 07:00"]
            ).tz_localize("UTC"),
            "variant": [("Mixing", "Coating"), ("Mixing",), ()],
        }
    )
    spark_rows = pd.DataFrame(  # other row order, naive UTC instants, last bits of a double, None for NA
        {
            "variant": [["Mixing"], ["Mixing", "Coating"], []],
            "start_ts": [pd.Timestamp("2026-11-09 06:00"), pd.Timestamp("2026-11-09 05:00"), None],
            "cells": [20, 10, None],
            "oee": [0.5, 0.8123456789 * (1 + 1e-12), float("nan")],
            "machine_id": ["COAT-01", "CAL-01", "COAT-02"],
        }
    )
    spark_rows.loc[2, "start_ts"] = pd.Timestamp("2026-11-09 07:00")
    assert compare(duckdb_rows, spark_rows) == (True, "3 rows, 5 columns")

    changed = spark_rows.copy()
    changed.loc[1, "oee"] = 0.8123457
    same, detail = compare(duckdb_rows, changed)
    assert not same and "values differ in oee" in detail
    same, detail = compare(duckdb_rows, spark_rows.iloc[:2])
    assert not same and detail == "rows 3 (DuckDB) vs 2 (Spark)"
    same, detail = compare(duckdb_rows, spark_rows.drop(columns="cells"))
    assert not same and "only DuckDB ['cells']" in detail
    assert compare(duckdb_rows, None) == (False, "missing on Spark")


def test_on_spark_the_marts_parquet_and_the_lake_are_views_of_the_duckdb_file_the_assets_read(tmp_path):
    """After a dbt run on Spark the Warehouse resource makes Spark's tables views of the DuckDB file: a
    partitioned mart's days, instants as timestamptz (Spark writes them adjusted to UTC), a day added later
    shows without a refresh, a DuckDB table of the same name gives way, a table gone loses its view, a table
    without a row yet is empty with its contract's columns."""
    import duckdb

    from orchestration.defs.resources import Warehouse

    spark_warehouse, lake = tmp_path / "spark-warehouse", tmp_path / "lake"
    events = spark_warehouse / "marts.db" / "fct_process_events"
    for day in ("2026-11-09", "2026-11-10"):
        (events / f"production_date={day}").mkdir(parents=True)
        (lake / "raw" / "machines" / f"date={day}").mkdir(parents=True)
    (spark_warehouse / "marts.db" / "_temporary").mkdir()  # Spark's work folder: never a table
    (spark_warehouse / "marts.db" / "fct_defect_pareto").mkdir()  # no defect yet: no file
    manifest = tmp_path / "manifest.json"
    columns = {"production_date": "date", "characteristic": "string", "first_seen_ts": "timestamp"}
    pareto = {"columns": {name: {"name": name, "data_type": kind} for name, kind in columns.items()}}
    pareto.update(resource_type="model", schema="marts", name="fct_defect_pareto", alias=None)
    manifest.write_text(json.dumps({"nodes": {"model.gigafactory.fct_defect_pareto": pareto}}))
    (spark_warehouse / "metastore_db").mkdir()
    with duckdb.connect() as writer:  # Parquet as Spark writes it: the partition column in the folder name
        writer.execute("set TimeZone = 'Europe/Berlin'")
        writer.execute(
            f"copy (select 'B-1' as case_id, timestamptz '2026-11-09 06:00:00+00' as end_ts) "
            f"to '{events}/production_date=2026-11-09/part-0.snappy.parquet'"
        )
        writer.execute(
            f"copy (select 'CAL-01' as machine_id) to '{lake}/raw/machines/date=2026-11-09/part-0.parquet'"
        )
    database = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(database)) as built_on_duckdb:  # the file was built on DuckDB before
        built_on_duckdb.execute("create schema marts; create table marts.fct_process_events (x int)")
        built_on_duckdb.execute("create table marts.dim_gone (x int)")
    warehouse = Warehouse(
        database=str(database), engine="spark", lake_dir=str(lake), spark_warehouse=str(spark_warehouse)
    )
    assert Warehouse(database=str(database)).refresh_engine_tables() == []  # DuckDB: dbt wrote the marts
    assert warehouse.refresh_engine_tables() == ["marts.fct_process_events", "raw.machines"]
    assert warehouse.refresh_engine_tables(manifest) == [
        "marts.fct_defect_pareto",
        "marts.fct_process_events",
        "raw.machines",
    ]
    with warehouse.connect(read_only=True) as conn:
        assert conn.execute("describe marts.fct_defect_pareto").fetchall() == [
            ("production_date", "DATE", "YES", None, None, None),
            ("characteristic", "VARCHAR", "YES", None, None, None),
            ("first_seen_ts", "TIMESTAMP WITH TIME ZONE", "YES", None, None, None),
        ]
        assert conn.execute("select count(*) from marts.fct_defect_pareto").fetchone() == (0,)
        assert conn.execute("select * from marts.fct_process_events").fetchall() == [
            ("B-1", dt.datetime(2026, 11, 9, 6, tzinfo=dt.UTC), dt.date(2026, 11, 9))
        ]
        kinds = conn.execute(
            "select table_schema || '.' || table_name, table_type from information_schema.tables order by 1"
        ).fetchall()
        assert kinds == [
            ("marts.dim_gone", "BASE TABLE"),  # not Spark's: the DuckDB file's own tables stay
            ("marts.fct_defect_pareto", "VIEW"),
            ("marts.fct_process_events", "VIEW"),
            ("raw.machines", "VIEW"),
        ]
        assert conn.execute("select machine_id, date from raw.machines").fetchall() == [
            ("CAL-01", dt.date(2026, 11, 9))
        ]
    with duckdb.connect() as writer:  # a day Spark adds later: read at the next query, no refresh
        writer.execute(
            f"copy (select 'B-2' as case_id, timestamptz '2026-11-10 06:00:00+00' as end_ts) "
            f"to '{events}/production_date=2026-11-10/part-0.snappy.parquet'"
        )
    with warehouse.connect(read_only=True) as conn:
        assert conn.execute("select count(*) from marts.fct_process_events").fetchone() == (2,)
    shutil.rmtree(events)  # the table is gone on Spark: its view goes at the next refresh
    assert warehouse.refresh_engine_tables(manifest) == ["marts.fct_defect_pareto", "raw.machines"]
    with warehouse.connect(read_only=True) as conn:
        assert conn.execute(
            "select count(*) from information_schema.tables where table_name = 'fct_process_events'"
        ).fetchone() == (0,)
