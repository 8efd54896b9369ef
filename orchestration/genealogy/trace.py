"""Backward and forward traces over the OCEL tables, each one recursive DuckDB query: over a day's Arrow
tables, or over the warehouse's ocel schema (all the days it holds).

Backward: a cell -> everything it is made of (rolls, segments, coils, slurry batches), where it sat (formation
channel, tray), and the machines and crews of every event that made or worked on it or its material.
Forward: a slurry batch, coil or coil segment -> every cell made from it, with its status and grading.

Each query runs over the tables narrowed first (Arrow ``is_in``, a pass per relation level) to the rows it can
reach: scanning the whole event_object table of a full-scale day (millions of rows) per join took seconds.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.genealogy import model as m
from orchestration.genealogy.relational import connect

GRADING_ATTRIBUTES = ("capacity_ah", "internal_resistance_mohm", "ocv_v", "self_discharge_mv_day")
GRADING = "(" + ", ".join(f"'{name}'" for name in GRADING_ATTRIBUTES) + ")"
_STATUS_ORDER = {m.IN_PROCESS: 0, m.GRADED: 1, m.STATUS_SCRAPPED: 2, m.STATUS_PACKED: 3}
_MATERIALS = ", ".join(f"'{q}'" for q in m.MATERIAL_RELATIONS)  # the qualifiers of "made from"
MAX_DEPTH = 10  # relation levels a backward trace follows (the material chain is four deep)


# The relations the queries read: the day's Arrow tables by their OCEL names, or the warehouse's ocel schema
# (its tables, not its views: a machine, crew or channel is in object_by_day on each day it works, so the
# queries take objects as distinct rows; the views exist on DuckDB only when Spark built the schema).
IN_MEMORY = {name: name for name in ("event", "object", "event_object", "object_object", "object_attribute")}
WAREHOUSE = {
    "event": "ocel.event",
    "object": "ocel.object_by_day",
    "event_object": "ocel.event_object",
    "object_object": "ocel.object_object_by_day",
    "object_attribute": "ocel.object_attribute_by_day",
}


def backward(tables: dict[str, pa.Table], cell: str) -> pa.Table:
    """(object_id, object_type, via) of everything upstream of ``cell``; via is the path of qualifiers.

    Machines and crews come from the events in which the cell or its material was made or worked on (not
    where it was only an input, or a roll would bring the crews of every cell stacked from it).
    """
    return backward_in(connect(_upstream_of(tables, cell)), cell, IN_MEMORY)


def forward(tables: dict[str, pa.Table], object_id: str) -> pa.Table:
    """Every cell made from ``object_id`` (a slurry batch, coil, coil segment or roll), with its last status
    and its grading (null where it was not graded)."""
    return forward_in(connect(_downstream_of(tables, object_id)), object_id, IN_MEMORY)


def backward_in_warehouse(con: duckdb.DuckDBPyConnection, cell: str) -> pa.Table:
    """``backward`` over every day the warehouse's ocel schema holds, reading only the days the cell's
    history can lie in: from the first day any of its material was named to the last day the cell changed.
    (The tables are written a factory day at a time, so a day range skips the rest of the month unread.)"""
    first = con.execute(
        f"""WITH RECURSIVE made_of(object_id) AS (
                SELECT $cell::VARCHAR
                UNION
                SELECT oo.ocel_target_id FROM made_of u
                JOIN {WAREHOUSE["object_object"]} oo
                  ON oo.ocel_source_id = u.object_id AND oo.ocel_qualifier IN ({_MATERIALS})
            )
            SELECT min(production_date) FROM {WAREHOUSE["object"]}
            WHERE ocel_id IN (SELECT object_id FROM made_of)""",
        {"cell": cell},
    ).fetchall()[0][0]
    last = con.execute(
        f"SELECT max(production_date) FROM {WAREHOUSE['object_attribute']} "
        "WHERE ocel_id = $cell AND production_date >= $first",
        {"cell": cell, "first": first},
    ).fetchall()[0][0]
    return backward_in(con, cell, _days(WAREHOUSE, first, last))


def forward_in_warehouse(con: duckdb.DuckDBPyConnection, object_id: str) -> pa.Table:
    """``forward`` over every day the warehouse's ocel schema holds from the day ``object_id`` was first
    named: what is made from it is named on that day or later."""
    first = con.execute(
        f"SELECT min(production_date) FROM {WAREHOUSE['object']} WHERE ocel_id = $id", {"id": object_id}
    ).fetchall()[0][0]
    return forward_in(con, object_id, _days(WAREHOUSE, first, None))


def _days(names: dict[str, str], first, last) -> dict[str, str]:
    """The relations ``names`` (dated tables) narrowed to the factory days ``first`` .. ``last``."""
    if first is None:  # nothing named: no rows
        return {name: f"(SELECT * FROM {table} WHERE false)" for name, table in names.items()}
    bounds = f"production_date >= DATE '{first.isoformat()}'"
    if last is not None:
        bounds += f" AND production_date <= DATE '{max(first, last).isoformat()}'"
    return {name: f"(SELECT * FROM {table} WHERE {bounds})" for name, table in names.items()}


def backward_in(con: duckdb.DuckDBPyConnection, cell: str, names: dict[str, str] = WAREHOUSE) -> pa.Table:
    """``backward`` over the relations ``names`` of connection ``con`` (default: the warehouse's)."""
    query = f"""
        WITH RECURSIVE upstream(object_id, via, depth, made_of) AS (
            SELECT $cell::VARCHAR, 'itself', 0, true
            UNION
            SELECT oo.ocel_target_id,
                   CASE WHEN u.depth = 0 THEN oo.ocel_qualifier ELSE u.via || ' / ' || oo.ocel_qualifier END,
                   u.depth + 1,
                   u.made_of AND oo.ocel_qualifier IN ({_MATERIALS})
            FROM upstream u JOIN {names["object_object"]} oo ON oo.ocel_source_id = u.object_id
            WHERE u.depth < {MAX_DEPTH}
        ),
        material AS (
            SELECT object_id, min_by(via, depth) AS via, min(depth) AS depth, bool_or(made_of) AS made_of
            FROM upstream GROUP BY object_id
        ),
        resources AS (
            -- the events that made or worked on the cell and what it is made of: not those of the channel
            -- or tray it sat in, whose other cells had other crews
            SELECT r.ocel_object_id AS object_id, min(e.ocel_type || ': ' || r.ocel_qualifier) AS via,
                   99 AS depth
            FROM material u
            JOIN {names["event_object"]} own
              ON own.ocel_object_id = u.object_id AND u.made_of AND own.ocel_qualifier <> '{m.INPUT}'
            JOIN {names["event"]} e ON e.ocel_id = own.ocel_event_id
            JOIN {names["event_object"]} r ON r.ocel_event_id = own.ocel_event_id
                AND r.ocel_qualifier IN ('{m.PERFORMED_ON}', '{m.OPERATED_BY}')
            WHERE r.ocel_object_id NOT IN (SELECT object_id FROM material)
            GROUP BY r.ocel_object_id
        ),
        found AS (SELECT object_id, via, depth FROM material UNION ALL SELECT * FROM resources),
        types AS (
            SELECT DISTINCT ocel_id, ocel_type FROM {names["object"]}
            WHERE ocel_id IN (SELECT object_id FROM found)
        )
        SELECT t.object_id, o.ocel_type AS object_type, t.via
        FROM found t JOIN types o ON o.ocel_id = t.object_id
        ORDER BY t.depth, o.ocel_type, t.object_id
    """
    return con.sql(query, params={"cell": cell}).to_arrow_table()


def forward_in(con: duckdb.DuckDBPyConnection, object_id: str, names: dict[str, str] = WAREHOUSE) -> pa.Table:
    """``forward`` over the relations ``names`` of connection ``con`` (default: the warehouse's)."""
    materials = _MATERIALS
    ranks = " ".join(f"WHEN '{status}' THEN {rank}" for status, rank in _STATUS_ORDER.items())
    query = f"""
        WITH RECURSIVE downstream(object_id) AS (
            SELECT $origin::VARCHAR
            UNION
            SELECT oo.ocel_source_id
            FROM downstream d JOIN {names["object_object"]} oo
                ON oo.ocel_target_id = d.object_id AND oo.ocel_qualifier IN ({materials})
        ),
        cells AS (
            SELECT DISTINCT d.object_id AS cell_id FROM downstream d
            JOIN {names["object"]} o ON o.ocel_id = d.object_id AND o.ocel_type = '{m.CELL}'
        ),
        attributes AS (
            SELECT a.* FROM {names["object_attribute"]} a JOIN cells c ON c.cell_id = a.ocel_id
        ),
        status AS (
            SELECT ocel_id, value_str AS status FROM attributes WHERE name = 'status'
            QUALIFY row_number() OVER (
                PARTITION BY ocel_id ORDER BY ocel_time DESC, CASE value_str {ranks} END DESC
            ) = 1
        ),
        grading AS (
            PIVOT (SELECT ocel_id, name, value_num FROM attributes WHERE name IN {GRADING})
            ON name IN {GRADING} USING max(value_num) GROUP BY ocel_id
        )
        SELECT c.cell_id, s.status, {", ".join(f"g.{name}" for name in GRADING_ATTRIBUTES)}
        FROM cells c
        LEFT JOIN status s ON s.ocel_id = c.cell_id
        LEFT JOIN grading g ON g.ocel_id = c.cell_id
        ORDER BY c.cell_id
    """
    return con.sql(query, params={"origin": object_id}).to_arrow_table()


def object_type_in(
    con: duckdb.DuckDBPyConnection, object_id: str, names: dict[str, str] = WAREHOUSE
) -> str | None:
    """The type of object ``object_id`` in the relations ``names`` of ``con``; None: no such object."""
    found = con.execute(
        f"SELECT ocel_type FROM {names['object']} WHERE ocel_id = $id LIMIT 1", {"id": object_id}
    ).fetchall()
    return found[0][0] if found else None


def _reachable(relations: pa.Table, start: str, along: str, to: str) -> pa.Table:
    """The object_object rows reachable from ``start``, going from column ``along`` to column ``to``."""
    found, frontier, seen = [], pa.array([start]), {start}
    for _ in range(MAX_DEPTH):
        rows = relations.filter(pc.is_in(relations[along], frontier))
        if not rows.num_rows:
            break
        found.append(rows)
        fresh = set(pc.unique(rows[to]).to_pylist()) - seen
        seen |= fresh
        frontier = pa.array(sorted(fresh), pa.string())
    return pa.concat_tables(found) if found else relations.slice(0, 0)


def _rows(table: pa.Table, column: str, ids) -> pa.Table:
    return table.filter(pc.is_in(table[column], pa.array(list(ids), pa.string())))


def _upstream_of(tables: dict[str, pa.Table], cell: str) -> dict[str, pa.Table]:
    """The rows ``backward`` can reach: the cell's material, their events and everything those name."""
    relations = _reachable(tables["object_object"], cell, "ocel_source_id", "ocel_target_id")
    material = {cell, *relations["ocel_target_id"].to_pylist()}
    events = set(_rows(tables["event_object"], "ocel_object_id", material)["ocel_event_id"].to_pylist())
    links = _rows(tables["event_object"], "ocel_event_id", events)
    return {
        "object_object": relations,
        "event_object": links,
        "event": _rows(tables["event"], "ocel_id", events),
        "object": _rows(tables["object"], "ocel_id", material | set(links["ocel_object_id"].to_pylist())),
    }


def _downstream_of(tables: dict[str, pa.Table], origin: str) -> dict[str, pa.Table]:
    """The rows ``forward`` can reach: what was made from the origin along material relations, and its
    attributes."""
    material = tables["object_object"].filter(
        pc.is_in(tables["object_object"]["ocel_qualifier"], pa.array(m.MATERIAL_RELATIONS))
    )
    relations = _reachable(material, origin, "ocel_target_id", "ocel_source_id")
    made = {origin, *relations["ocel_source_id"].to_pylist()}
    return {
        "object_object": relations,
        "object": _rows(tables["object"], "ocel_id", made),
        "object_attribute": _rows(tables["object_attribute"], "ocel_id", made),
    }
