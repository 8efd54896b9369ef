"""Process-mining results as rows of two warehouse tables keyed by factory day, and their idempotent write.

``process_mining.discovered_models`` and ``process_mining.conformance``: a rerun of a day replaces that day's
rows (delete + insert in one transaction), so partitions can be rematerialised freely.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from orchestration.factory_calendar import as_date
from orchestration.mining.conformance import ConformanceResult
from orchestration.mining.discovery import DiscoveredModel
from orchestration.mining.model_picture import ModelPicture

SCHEMA = "process_mining"
MODELS_TABLE = f"{SCHEMA}.discovered_models"
CONFORMANCE_TABLE = f"{SCHEMA}.conformance"

# column -> DuckDB type, in table order
TABLE_COLUMNS: dict[str, dict[str, str]] = {
    MODELS_TABLE: {
        "production_date": "DATE NOT NULL",
        "algorithm": "VARCHAR NOT NULL",
        "noise_threshold": "DOUBLE",
        "places": "INTEGER",
        "transitions": "INTEGER",
        "silent_transitions": "INTEGER",
        "arcs": "INTEGER",
        "picture_svg_path": "VARCHAR",
        "picture_png_path": "VARCHAR",
        "renderer": "VARCHAR",
        "note": "VARCHAR",
    },
    CONFORMANCE_TABLE: {
        "production_date": "DATE NOT NULL",
        "model_name": "VARCHAR NOT NULL",
        "cases": "INTEGER",
        "events": "INTEGER",
        "variants": "INTEGER",
        "variants_used": "INTEGER",
        "log_fitness": "DOUBLE",
        "fitting_traces_share": "DOUBLE",
        "precision": "DOUBLE",
        "note": "VARCHAR",
    },
}


def _path_or_none(path) -> str | None:
    return None if path is None else str(path)


def to_rows(
    production_date: date | str,
    model: DiscoveredModel,
    conformance: ConformanceResult,
    picture: ModelPicture | None = None,
) -> dict[str, pd.DataFrame]:
    """One row per table for the day, as DataFrames whose columns are the tables' columns."""
    day = as_date(production_date)
    model_notes = [model.note] + ([picture.note] if picture is not None else [])
    models = {
        "production_date": day,
        "algorithm": model.algorithm,
        "noise_threshold": model.noise_threshold,
        "places": model.places,
        "transitions": model.transitions,
        "silent_transitions": model.silent_transitions,
        "arcs": model.arcs,
        "picture_svg_path": _path_or_none(picture.svg_path) if picture else None,
        "picture_png_path": _path_or_none(picture.png_path) if picture else None,
        "renderer": picture.renderer if picture else None,
        "note": "; ".join(model_notes),
    }
    conformance_row = {
        "production_date": day,
        "model_name": conformance.model_name,
        "cases": conformance.cases,
        "events": conformance.events,
        "variants": conformance.variants,
        "variants_used": conformance.variants_used,
        "log_fitness": conformance.log_fitness,
        "fitting_traces_share": conformance.fitting_traces_share,
        "precision": conformance.precision,
        "note": conformance.note,
    }
    return {
        MODELS_TABLE: pd.DataFrame([models], columns=list(TABLE_COLUMNS[MODELS_TABLE])),
        CONFORMANCE_TABLE: pd.DataFrame([conformance_row], columns=list(TABLE_COLUMNS[CONFORMANCE_TABLE])),
    }


def ensure_tables(conn) -> None:
    conn.execute(f"create schema if not exists {SCHEMA}")
    for table, columns in TABLE_COLUMNS.items():
        body = ", ".join(f'"{name}" {sql_type}' for name, sql_type in columns.items())
        conn.execute(f"create table if not exists {table} ({body})")


def write_results(conn, production_date: date | str, rows: dict[str, pd.DataFrame]) -> dict[str, int]:
    """Replace the day's rows of each table in ``rows`` (an empty frame clears the day) in one transaction.

    Creates the schema and tables when missing; returns the rows written per table. Rows dated another day
    are refused: a partition only ever writes its own day."""
    day = as_date(production_date)
    unknown = set(rows) - set(TABLE_COLUMNS)
    if unknown:
        raise ValueError(f"unknown process-mining tables {sorted(unknown)}")
    for table, frame in rows.items():
        if len(frame) and {as_date(value) for value in frame["production_date"]} != {day}:
            raise ValueError(f"{table} rows are not all dated {day}")

    ensure_tables(conn)
    written: dict[str, int] = {}
    conn.execute("begin transaction")
    try:
        for table, frame in rows.items():
            conn.execute(f"delete from {table} where production_date = ?::date", [day])
            if frame.empty:
                written[table] = 0
                continue
            columns = list(TABLE_COLUMNS[table])
            view = f"_process_mining_rows_{table.split('.')[-1]}"
            conn.register(view, frame[columns])
            try:
                quoted = ", ".join(f'"{name}"' for name in columns)
                conn.execute(f"insert into {table} ({quoted}) select {quoted} from {view}")
            finally:
                conn.unregister(view)
            written[table] = len(frame)
        conn.execute("commit")
    except BaseException:
        conn.execute("rollback")
        raise
    return written
