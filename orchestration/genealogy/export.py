"""OCEL 2.0 exports of the five OCEL tables: the JSON standard format and the SQLite relational format.

The one OCEL writer of the platform: the per-cell genealogy (``expand_day``, or a factory-day window of the
warehouse's ``ocel`` schema read by ``read_window``) and the batch-level log of a plant's export
(``orchestration.connectors.export.export_ocel``) are both written here. The tables have the columns of
``OCEL_SCHEMAS``; every column of ``event`` beyond ``ocel_id``, ``ocel_type`` and ``ocel_time`` is an event
attribute, typed by its Arrow type (string, integer, float, boolean, time).

JSON follows the OCEL 2.0 JSON schema (attribute values are strings, typed by the type declarations; values
that hold from the start carry the time 1970-01-01; a null event attribute is left out). SQLite follows the
layout pm4py writes and reads: event and object tables with the type of each id, event_object and
object_object with qualifiers, a map from each type to a table-safe name, and one table per event type (id,
time, attributes) and per object type (a row with the initial values, then one row per changed attribute
naming it in ocel_changed_field). The SQLite file is written in one transaction without a journal, the rows
streamed from DuckDB in Arrow record batches, converted column-wise, and inserted many rows per statement
(measured on a default-scale day, 2.0 M event-object rows: 11-17 s before, 7.2-8.3 s after, the same rows).
"""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.genealogy.expand import OCEL_SCHEMAS
from orchestration.genealogy.relational import connect

EPOCH = "1970-01-01T00:00:00Z"
_ISO = "%Y-%m-%dT%H:%M:%S.%fZ"
_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"
SQLITE_BATCH_ROWS = 200_000
JSON_BATCH_ROWS = 50_000  # events or objects written to the JSON file at once (tens of MB of text)
SQLITE_ROWS_PER_INSERT = 50  # rows per INSERT statement (measured: 50 to 300 alike, 1000 slower)
SQLITE_MAX_PARAMETERS = 999  # the lowest limit of bound parameters of a statement (SQLite before 3.32)
_EVENT_CORE = ("ocel_id", "ocel_type", "ocel_time")
WAREHOUSE_SCHEMA = "ocel"


def _quoted(name: str) -> str:
    """An SQL identifier in double quotes, its own quotes doubled."""
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    """An SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _json_value(column: str, kind: str) -> str:
    """The SQL expression of an event attribute's value as OCEL 2.0 JSON writes it: text (null stays null)."""
    if kind == "time":
        return f"strftime({column}::TIMESTAMP, '{_ISO}')"
    return f"CAST({column} AS VARCHAR)"  # DuckDB writes booleans true / false, as OCEL 2.0 reads them


def _event_attributes(event: pa.Table) -> list[tuple[str, str]]:
    """(column, OCEL 2.0 type) of the event table's columns beyond id, type and time, in column order."""
    attributes = []
    for field in event.schema:
        if field.name in _EVENT_CORE:
            continue
        kind = field.type
        if pa.types.is_boolean(kind):
            attributes.append((field.name, "boolean"))
        elif pa.types.is_integer(kind):
            attributes.append((field.name, "integer"))
        elif pa.types.is_floating(kind) or pa.types.is_decimal(kind):
            attributes.append((field.name, "float"))
        elif pa.types.is_timestamp(kind):
            attributes.append((field.name, "time"))
        else:
            attributes.append((field.name, "string"))
    return attributes


def _attribute_types(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, str]]]:
    """object type -> [(attribute, "float" | "string")], in name order."""
    rows = con.execute("""
        SELECT o.ocel_type, a.name, CASE WHEN bool_or(a.value_num IS NOT NULL) THEN 'float' ELSE 'string' END
        FROM object_attribute a JOIN object o ON o.ocel_id = a.ocel_id
        GROUP BY ALL ORDER BY 1, 2
    """).fetchall()
    types: dict[str, list[tuple[str, str]]] = {}
    for object_type, name, kind in rows:
        types.setdefault(object_type, []).append((name, kind))
    return types


def to_json(tables: dict[str, pa.Table], path: Path) -> Path:
    """Write the OCEL 2.0 JSON file. Each event and object is gathered (relations, attributes) and written as
    JSON text by DuckDB, streamed to the file in record batches: no Python object per event, so a day at full
    scale is written in bounded memory. The file is the same for the same tables (events in time order,
    objects by type and id, relations by object id)."""
    con = connect(tables)
    attribute_types = _attribute_types(con)
    event_attributes = _event_attributes(tables["event"])
    values = ", ".join(
        f"{{'name': {_literal(name)}, 'value': {_json_value('e.' + _quoted(name), kind)}}}"
        for name, kind in event_attributes
    )
    # the attributes of an event: those with a value (a null is left out, the schema has no null value)
    attributes = f"list_filter([{values}], lambda a: a.value IS NOT NULL)" if values else "[]"
    events = f"""
        SELECT to_json({{
            'id': e.ocel_id, 'type': e.ocel_type, 'time': strftime(e.ocel_time::TIMESTAMP, '{_ISO}'),
            'attributes': {attributes}, 'relationships': coalesce(r.relationships, [])
        }})
        FROM event e LEFT JOIN (
            SELECT ocel_event_id,
                   list({{'objectId': ocel_object_id, 'qualifier': ocel_qualifier}}
                        ORDER BY ocel_object_id, ocel_qualifier) AS relationships
            FROM event_object GROUP BY ocel_event_id
        ) r ON r.ocel_event_id = e.ocel_id
        ORDER BY e.ocel_time, e.ocel_id
    """
    objects = f"""
        SELECT to_json({{
            'id': o.ocel_id, 'type': o.ocel_type,
            'attributes': coalesce(a.attributes, []), 'relationships': coalesce(r.relationships, [])
        }})
        FROM object o
        LEFT JOIN (
            SELECT ocel_id, list({{
                'name': name,
                'value': coalesce(value_str, CAST(value_num AS VARCHAR)),
                'time': CASE WHEN epoch_us(ocel_time) = 0 THEN '{EPOCH}'
                             ELSE strftime(ocel_time::TIMESTAMP, '{_ISO}') END
            }} ORDER BY ocel_time, name) AS attributes
            FROM object_attribute GROUP BY ocel_id
        ) a ON a.ocel_id = o.ocel_id
        LEFT JOIN (
            SELECT ocel_source_id,
                   list({{'objectId': ocel_target_id, 'qualifier': ocel_qualifier}}
                        ORDER BY ocel_target_id, ocel_qualifier) AS relationships
            FROM object_object GROUP BY ocel_source_id
        ) r ON r.ocel_source_id = o.ocel_id
        ORDER BY o.ocel_type, o.ocel_id
    """
    event_types = [
        row[0] for row in con.execute("SELECT DISTINCT ocel_type FROM event ORDER BY 1").fetchall()
    ]
    object_types = [
        row[0] for row in con.execute("SELECT DISTINCT ocel_type FROM object ORDER BY 1").fetchall()
    ]
    declared = {
        "eventTypes": [
            {"name": name, "attributes": [{"name": a, "type": t} for a, t in event_attributes]}
            for name in event_types
        ],
        "objectTypes": [
            {"name": name, "attributes": [{"name": a, "type": t} for a, t in attribute_types.get(name, [])]}
            for name in object_types
        ],
    }
    path = Path(path)
    with path.open("w", encoding="utf-8") as out:
        out.write(json.dumps(declared, separators=(",", ":"))[:-1])  # the document, still open
        for key, query in (("events", events), ("objects", objects)):
            out.write(f',"{key}":[')
            _write_json_rows(out, con.sql(query).to_arrow_reader(JSON_BATCH_ROWS))
            out.write("]")
        out.write("}")
    return path


def _write_json_rows(out, batches: pa.RecordBatchReader) -> None:
    """The JSON texts of the batches' first column, comma-separated, joined by Arrow (not row by row)."""
    first = True
    for batch in batches:
        texts = batch.column(0)
        if not len(texts):
            continue
        joined = pc.binary_join(pa.ListArray.from_arrays(pa.array([0, len(texts)], pa.int32()), texts), ",")
        out.write(("" if first else ",") + joined[0].as_py())
        first = False


def _table_name(type_name: str, used: set[str]) -> str:
    """A table-safe name, unique ignoring case, for an event or object type ("Tab Welding" -> TabWelding)."""
    base = re.sub(r"[^0-9A-Za-z]", "", type_name.title()) or "Type"
    name, suffix = base, 2
    while name.casefold() in used:
        name, suffix = f"{base}_{suffix}", suffix + 1
    used.add(name.casefold())
    return name


def to_sqlite(tables: dict[str, pa.Table], path: Path) -> Path:
    """Write the OCEL 2.0 SQLite file (replaced if it exists)."""
    path = Path(path)
    path.unlink(missing_ok=True)
    con = connect(tables)
    attribute_types = _attribute_types(con)
    changed = set(
        con.sql("""
            SELECT DISTINCT o.ocel_type, a.name
            FROM object o JOIN object_attribute a ON a.ocel_id = o.ocel_id WHERE epoch_us(a.ocel_time) <> 0
        """).fetchall()
    )
    event_columns = "".join(
        f", strftime({_quoted(name)}::TIMESTAMP, '{_SQLITE_TIME}') AS {_quoted(name)}"
        if kind == "time"
        else f", {_quoted(name)}"
        for name, kind in _event_attributes(tables["event"])
    )
    db = sqlite3.connect(path)
    try:
        # A new file written in one transaction: no rollback journal, no sync (a failed export is deleted).
        db.execute("PRAGMA journal_mode = OFF")
        db.execute("PRAGMA synchronous = OFF")

        def write(name: str, query: str, params: list | None = None, create: bool = True) -> None:
            """The query's rows into table ``name`` (created with its columns, or existing with them)."""
            # Streamed in record batches: a full-scale day's relations as Python rows at once would take GiBs.
            result = con.sql(query, params=params or []).to_arrow_reader(SQLITE_BATCH_ROWS)
            if create:
                columns = ", ".join(_quoted(column) for column in result.schema.names)
                db.execute(f"CREATE TABLE {_quoted(name)} ({columns})")
            _insert(db, name, result.schema.names, result)

        write("event", "SELECT ocel_id, ocel_type FROM event ORDER BY ocel_time, ocel_id")
        write("object", "SELECT ocel_id, ocel_type FROM object ORDER BY ocel_id")
        write("event_object", "SELECT ocel_event_id, ocel_object_id, ocel_qualifier FROM event_object")
        write("object_object", "SELECT ocel_source_id, ocel_target_id, ocel_qualifier FROM object_object")
        for kind in ("event", "object"):
            used: set[str] = set()
            types = [
                r[0] for r in con.execute(f"SELECT DISTINCT ocel_type FROM {kind} ORDER BY 1").fetchall()
            ]
            mapping = {t: _table_name(t, used) for t in types}
            db.execute(f"CREATE TABLE {kind}_map_type (ocel_type, ocel_type_map)")
            db.executemany(f"INSERT INTO {kind}_map_type VALUES (?, ?)", mapping.items())
            for type_name, table in mapping.items():
                if kind == "event":
                    write(
                        f"event_{table}",
                        f"""SELECT ocel_id, strftime(ocel_time::TIMESTAMP, '{_SQLITE_TIME}') AS ocel_time
                                   {event_columns}
                            FROM event WHERE ocel_type = ? ORDER BY event.ocel_time, ocel_id""",
                        [type_name],
                    )
                else:
                    attributes = attribute_types.get(type_name, [])
                    write(f"object_{table}", _initial_rows(attributes), [type_name])
                    for attribute, value_kind in attributes:
                        if (type_name, attribute) in changed:  # the other attributes' columns stay NULL
                            query = _changed_rows(attribute, value_kind)
                            write(f"object_{table}", query, [type_name, attribute], create=False)
        db.commit()
    except BaseException:
        db.close()
        path.unlink(missing_ok=True)  # no half-written log left to be read as a whole one
        raise
    db.close()
    return path


def _python_values(column: pa.Array) -> np.ndarray:
    """The column's values as Python objects (None for null) in a numpy object array. Text is converted once
    per distinct value (ids, types and qualifiers repeat), numbers value by value."""
    values = np.empty(len(column), dtype=object)  # filled with None
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        encoded = pc.dictionary_encode(column)
        distinct = np.empty(len(encoded.dictionary) + 1, dtype=object)  # the last one: None, for nulls
        distinct[:-1] = encoded.dictionary.to_pylist()
        values[:] = distinct[encoded.indices.fill_null(len(encoded.dictionary)).to_numpy()]
    else:
        values[:] = column.to_pylist()
    return values


def _insert(db: sqlite3.Connection, table: str, columns: list[str], batches) -> None:
    """Insert the record batches' rows in order into ``columns`` of ``table``, many rows per INSERT
    statement: per row, sqlite3's executemany costs more than SQLite's writing of it."""
    width = len(columns)
    per = max(1, min(SQLITE_ROWS_PER_INSERT, SQLITE_MAX_PARAMETERS // width))
    row = "(" + ", ".join("?" * width) + ")"
    into = f"INSERT INTO {_quoted(table)} ({', '.join(_quoted(column) for column in columns)}) VALUES"
    many, one = f"{into} " + ", ".join([row] * per), f"{into} {row}"
    step = per * width
    for batch in batches:
        # row after row in one flat list: Python values column-wise from Arrow, interleaved by numpy
        values = np.column_stack([_python_values(column) for column in batch.columns]).ravel().tolist()
        whole = len(values) // step * step
        db.executemany(many, (values[i : i + step] for i in range(0, whole, step)))
        db.executemany(one, (values[i : i + width] for i in range(whole, len(values), width)))


def _initial_rows(attributes: list[tuple[str, str]]) -> str:
    """One row per object of a type: its values at time 1970-01-01 (those that hold from the start)."""
    initial = "".join(
        f", max({_value(kind)}) FILTER (WHERE a.name = {_literal(name)} AND epoch_us(a.ocel_time) = 0)"
        f" AS {_quoted(name)}"
        for name, kind in attributes
    )
    return f"""
        SELECT o.ocel_id, '1970-01-01 00:00:00.000000' AS ocel_time,
               NULL::VARCHAR AS ocel_changed_field{initial}
        FROM object o LEFT JOIN object_attribute a ON a.ocel_id = o.ocel_id
        WHERE o.ocel_type = ? GROUP BY o.ocel_id ORDER BY o.ocel_id
    """


def _changed_rows(name: str, kind: str) -> str:
    """One row per later change of an attribute of a type's objects, naming it in ocel_changed_field."""
    return f"""
        SELECT o.ocel_id, strftime(a.ocel_time::TIMESTAMP, '{_SQLITE_TIME}') AS ocel_time,
               a.name AS ocel_changed_field, {_value(kind)} AS {_quoted(name)}
        FROM object o JOIN object_attribute a ON a.ocel_id = o.ocel_id
        WHERE o.ocel_type = ? AND a.name = ? AND epoch_us(a.ocel_time) <> 0
        ORDER BY o.ocel_id, a.ocel_time
    """


def _value(kind: str) -> str:
    return "a.value_num" if kind == "float" else "a.value_str"


def warehouse_window_events(
    con: duckdb.DuckDBPyConnection, first_day: date, last_day: date, schema: str = WAREHOUSE_SCHEMA
) -> int:
    """How many OCEL events the warehouse's ``schema`` holds for the factory days first_day..last_day; 0
    where the schema or its event table does not exist (a warehouse built before it, or a plant's export)."""
    [(exists,)] = con.sql(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'event'",
        params=[schema],
    ).fetchall()
    if not exists:
        return 0
    [(events,)] = con.sql(
        f"SELECT count(*) FROM {_quoted(schema)}.event WHERE production_date BETWEEN $first AND $last",
        params={"first": first_day, "last": last_day},
    ).fetchall()
    return events


def _dated(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> str:
    """The relation of ``schema`` that holds table ``name`` with its factory day: ``name`` itself if it has
    a ``production_date`` column, else ``name``_by_day (where ``name`` is a view holding each row once)."""
    for relation in (name, f"{name}_by_day"):
        [(dated,)] = con.sql(
            "SELECT count(*) FROM information_schema.columns "
            "WHERE table_schema = $1 AND table_name = $2 AND column_name = 'production_date'",
            params=[schema, relation],
        ).fetchall()
        if dated:
            return f"{_quoted(schema)}.{_quoted(relation)}"
    raise ValueError(
        f"the warehouse has no {schema}.{name} (nor {schema}.{name}_by_day) with a production_date"
    )


def read_window(
    con: duckdb.DuckDBPyConnection, first_day: date, last_day: date, schema: str = WAREHOUSE_SCHEMA
) -> dict[str, pa.Table]:
    """The five OCEL tables (``OCEL_SCHEMAS``) of the factory days first_day..last_day (inclusive), read from
    the warehouse's ``schema`` (the same tables with a ``production_date`` column, the factory day; for
    object_object and object_attribute, the ``_by_day`` tables where the plain names are views without it),
    ready for ``to_json`` and ``to_sqlite``.

    Events, event-object and object-object relations: those of the window's days. Objects: every object that
    those events or relations name, wherever it was first declared (a slurry batch mixed the day before the
    window is there, its coils' cells being in it). Attributes: those objects' values recorded up to the
    window's last day, not later: an export of a past window is the same whenever it is run.
    """
    ocel = _quoted(schema)
    window = "production_date BETWEEN $first AND $last"
    relations, attributes = (_dated(con, schema, name) for name in ("object_object", "object_attribute"))
    named = f"""
        SELECT ocel_object_id AS ocel_id FROM {ocel}.event_object WHERE {window}
        UNION SELECT ocel_source_id FROM {relations} WHERE {window}
        UNION SELECT ocel_target_id FROM {relations} WHERE {window}
    """
    queries = {
        "event": f"SELECT * FROM {ocel}.event WHERE {window}",
        "object": f"SELECT * FROM {ocel}.object WHERE ocel_id IN ({named})",
        "event_object": f"SELECT * FROM {ocel}.event_object WHERE {window}",
        "object_object": f"SELECT * FROM {relations} WHERE {window}",
        "object_attribute": f"""
            SELECT * FROM {attributes} WHERE production_date <= $last AND ocel_id IN ({named})""",
    }
    tables = {}
    for name, query in queries.items():
        columns = ", ".join(_quoted(column) for column in OCEL_SCHEMAS[name].names)
        params = {"first": first_day, "last": last_day}
        # each relation and value once, however many days of the window state it
        distinct = "DISTINCT " if name in ("object_object", "object_attribute") else ""
        table = con.sql(f"SELECT {distinct}{columns} FROM ({query})", params=params).to_arrow_table()
        tables[name] = table.cast(OCEL_SCHEMAS[name])  # instants as UTC, whatever the session's zone
    return tables
