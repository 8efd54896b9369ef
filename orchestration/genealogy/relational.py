"""The genealogy's OCEL tables (Arrow) registered in an in-memory DuckDB, for the traces and the exports."""

from __future__ import annotations

import duckdb
import pyarrow as pa


def connect(tables: dict[str, pa.Table]) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB over ``tables`` (by name), instants as UTC."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")  # a command's output is its answer, not a bar
    for name, table in tables.items():
        con.register(name, table)
    return con
