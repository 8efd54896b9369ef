"""The Spark warehouse's tables in the DuckDB file, as views over their Parquet, which the Python assets read.

On Spark, dbt writes the marts as Parquet tables under the Spark warehouse folder
(``<spark-warehouse>/<schema>.db/<table>/production_date=YYYY-MM-DD/*.parquet``, profiles.yml target spark)
and declares the raw sources over the lake. The Python steps (process mining, anomalies, RCA, reports, the
analysts' copy) keep reading one DuckDB connection, as on the DuckDB engine: the DuckDB file holds what they
write (mining, analytics, RCA tables) and, in the schemas Spark's tables live in, one view per table over its
Parquet folder, and the lake's layers (raw, truth, quarantine, genealogy) as views over the lake, as
dbt-duckdb's on-run-start makes them. The lake and the marts' Parquet are the contract between the engines:
nothing is copied.

A view reads its folder's files at each query (a day Spark adds later shows without a refresh); ``attach``
runs after every dbt run on Spark to add the tables that are new and drop the views of tables that are gone.
Spark writes instants as microseconds adjusted to UTC (profiles.yml), which DuckDB reads as timestamptz, the
DuckDB marts' type. No pyspark here: DuckDB reads the files.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

LAKE_LAYERS = ("raw", "truth", "quarantine", "genealogy")  # the lake's folders, as dbt's sources read them


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _has_parquet(folder: Path, pattern: str) -> bool:
    return next(folder.glob(pattern), None) is not None


def spark_tables(spark_warehouse: Path) -> dict[tuple[str, str], str | None]:
    """(schema, table) -> the glob of its Parquet files, for every table folder in the Spark warehouse folder
    (None: a table Spark has written no row to yet, a partitioned one has no file then). A partitioned
    table's files are one folder down (``column=value/``), read with hive partitioning; Spark's work folders
    (``_temporary``, ``.spark-staging-*``) are never matched."""
    tables: dict[tuple[str, str], str | None] = {}
    for schema_dir in sorted(spark_warehouse.glob("*.db")):
        for table_dir in sorted(p for p in schema_dir.iterdir() if p.is_dir() and p.name[0] not in "._"):
            key = (schema_dir.name[: -len(".db")], table_dir.name)
            if _has_parquet(table_dir, "*=*/*.parquet"):
                tables[key] = str(table_dir / "*=*" / "*.parquet")
            elif _has_parquet(table_dir, "*.parquet"):
                tables[key] = str(table_dir / "*.parquet")
            else:
                tables[key] = None
    return tables


def declared_columns(manifest: Path | None) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(schema, model) -> its columns and their declared types, from a dbt manifest, for the models whose
    every column declares one (the marts' contracts). Spark's ``timestamp`` is an instant: ``timestamptz``."""
    if manifest is None or not manifest.is_file():
        return {}
    columns = {}
    for node in json.loads(manifest.read_text(encoding="utf-8"))["nodes"].values():
        declared = [(c["name"], c.get("data_type")) for c in node.get("columns", {}).values()]
        if node.get("resource_type") == "model" and declared and all(t for _, t in declared):
            columns[(node["schema"], node.get("alias") or node["name"])] = [
                (name, "timestamptz" if kind.strip().lower() == "timestamp" else kind)
                for name, kind in declared
            ]
    return columns


def lake_tables(lake: Path) -> dict[tuple[str, str], str]:
    """(layer, table) -> the glob of its day folders' Parquet files, for every lake table with a file."""
    return {
        (layer, table_dir.name): str(table_dir / "date=*" / "*.parquet")
        for layer in LAKE_LAYERS
        if (lake / layer).is_dir()
        for table_dir in sorted(p for p in (lake / layer).iterdir() if p.is_dir())
        if _has_parquet(table_dir, "date=*/*.parquet")
    }


def attach_spark_tables(
    conn: duckdb.DuckDBPyConnection, lake: Path, spark_warehouse: Path, manifest: Path | None = None
) -> list[str]:
    """Views in ``conn``'s database over the lake's tables and the Spark warehouse's tables; returns the
    views (``schema.table``). A table without a file yet is an empty view with the columns its contract
    declares in the dbt ``manifest`` (none without one). A view of a table that is gone is dropped; a DuckDB
    table of the same name (the file was built on DuckDB before) is replaced by the view: the engine in use
    owns the marts."""
    declared = declared_columns(manifest)
    wanted = {key: _read(glob, "hive_types = {'date': date}") for key, glob in lake_tables(lake).items()}
    for key, glob in spark_tables(spark_warehouse).items():
        if glob is not None:
            wanted[key] = _read(glob, "hive_types_autocast = true")
        elif key in declared:
            typed_nulls = ", ".join(f'cast(null as {kind}) as "{name}"' for name, kind in declared[key])
            wanted[key] = f"select {typed_nulls} where false"
    schemas = sorted({schema for schema, _ in wanted} | set(LAKE_LAYERS) | _spark_schemas(spark_warehouse))
    existing = {
        (schema, name): kind
        for schema, name, kind in conn.execute(
            "select table_schema, table_name, table_type from information_schema.tables "
            "where table_catalog = current_database()"
        ).fetchall()
        if schema in schemas
    }
    for schema in schemas:
        conn.execute(f'create schema if not exists "{schema}"')
    for (schema, name), kind in existing.items():
        if (schema, name) not in wanted and kind == "VIEW":
            conn.execute(f'drop view "{schema}"."{name}"')
        elif (schema, name) in wanted and kind != "VIEW":
            conn.execute(f'drop table "{schema}"."{name}"')
    for (schema, name), query in sorted(wanted.items()):
        conn.execute(f'create or replace view "{schema}"."{name}" as {query}')
    return [f"{schema}.{name}" for schema, name in sorted(wanted)]


def _read(glob: str, options: str) -> str:
    return f"select * from read_parquet({_quoted(glob)}, hive_partitioning = true, {options})"


def _spark_schemas(spark_warehouse: Path) -> set[str]:
    return (
        {p.name[: -len(".db")] for p in spark_warehouse.glob("*.db")} if spark_warehouse.is_dir() else set()
    )
