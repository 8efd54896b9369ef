"""Read-only helpers over the warehouse: whether a table exists, rows as plain Python dicts."""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def plain(value: Any) -> Any:
    """DuckDB values as plain Python numbers (DECIMAL -> float)."""
    return float(value) if isinstance(value, Decimal) else value


def table_exists(conn, qualified: str) -> bool:
    schema, name = qualified.split(".", 1)
    found = conn.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ? "
        "and table_catalog = current_database()",
        [schema, name],
    ).fetchone()
    return bool(found and found[0])


def rows(conn, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    cursor = conn.execute(sql, params or [])
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, map(plain, row), strict=True)) for row in cursor.fetchall()]


def table_columns(conn, qualified: str) -> set[str]:
    schema, name = qualified.split(".", 1)
    found = conn.execute(
        "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
        "and table_catalog = current_database()",
        [schema, name],
    ).fetchall()
    return {column for (column,) in found}
