"""Backward and forward traces over the OCEL tables, each one recursive DuckDB query over the Arrow tables.

Backward: a cell -> everything it is made of (rolls, segments, coils, slurry batches), where it sat (formation
channel, tray), and the machines and crews of every event that made or worked on it or its material.
Forward: a slurry batch, coil or coil segment -> every cell made from it, with its status and grading.

Each query runs over the tables narrowed first (Arrow ``is_in``, a pass per relation level) to the rows it can
reach: scanning the whole event_object table of a full-scale day (millions of rows) per join took seconds.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from orchestration.genealogy import model as m
from orchestration.genealogy.relational import connect

GRADING_ATTRIBUTES = ("capacity_ah", "internal_resistance_mohm", "ocv_v", "self_discharge_mv_day")
GRADING = "(" + ", ".join(f"'{name}'" for name in GRADING_ATTRIBUTES) + ")"
_STATUS_ORDER = {m.IN_PROCESS: 0, m.GRADED: 1, m.STATUS_SCRAPPED: 2, m.STATUS_PACKED: 3}
MAX_DEPTH = 10  # relation levels a backward trace follows (the material chain is four deep)


def backward(tables: dict[str, pa.Table], cell: str) -> pa.Table:
    """(object_id, object_type, via) of everything upstream of ``cell``; via is the path of qualifiers.

    Machines and crews come from the events in which the cell or its material was made or worked on (not
    where it was only an input, or a roll would bring the crews of every cell stacked from it).
    """
    query = f"""
        WITH RECURSIVE upstream(object_id, via, depth) AS (
            SELECT $cell::VARCHAR, 'itself', 0
            UNION
            SELECT oo.ocel_target_id,
                   CASE WHEN u.depth = 0 THEN oo.ocel_qualifier ELSE u.via || ' / ' || oo.ocel_qualifier END,
                   u.depth + 1
            FROM upstream u JOIN object_object oo ON oo.ocel_source_id = u.object_id
            WHERE u.depth < {MAX_DEPTH}
        ),
        material AS (
            SELECT object_id, min_by(via, depth) AS via, min(depth) AS depth FROM upstream GROUP BY object_id
        ),
        resources AS (
            SELECT r.ocel_object_id AS object_id, min(e.ocel_type || ': ' || r.ocel_qualifier) AS via,
                   99 AS depth
            FROM material u
            JOIN event_object own ON own.ocel_object_id = u.object_id AND own.ocel_qualifier <> '{m.INPUT}'
            JOIN event e ON e.ocel_id = own.ocel_event_id
            JOIN event_object r ON r.ocel_event_id = own.ocel_event_id
                AND r.ocel_qualifier IN ('{m.PERFORMED_ON}', '{m.OPERATED_BY}')
            WHERE r.ocel_object_id NOT IN (SELECT object_id FROM material)
            GROUP BY r.ocel_object_id
        )
        SELECT t.object_id, o.ocel_type AS object_type, t.via
        FROM (SELECT * FROM material UNION ALL SELECT * FROM resources) t
        JOIN object o ON o.ocel_id = t.object_id
        ORDER BY t.depth, o.ocel_type, t.object_id
    """
    return connect(_upstream_of(tables, cell)).sql(query, params={"cell": cell}).to_arrow_table()


def forward(tables: dict[str, pa.Table], object_id: str) -> pa.Table:
    """Every cell made from ``object_id`` (a slurry batch, coil, coil segment or roll), with its last status
    of the day and its grading (null where it was not graded)."""
    materials = ", ".join(f"'{q}'" for q in m.MATERIAL_RELATIONS)
    ranks = " ".join(f"WHEN '{status}' THEN {rank}" for status, rank in _STATUS_ORDER.items())
    query = f"""
        WITH RECURSIVE downstream(object_id) AS (
            SELECT $origin::VARCHAR
            UNION
            SELECT oo.ocel_source_id
            FROM downstream d JOIN object_object oo
                ON oo.ocel_target_id = d.object_id AND oo.ocel_qualifier IN ({materials})
        ),
        cells AS (
            SELECT d.object_id AS cell_id FROM downstream d
            JOIN object o ON o.ocel_id = d.object_id AND o.ocel_type = '{m.CELL}'
        ),
        attributes AS (
            SELECT a.* FROM object_attribute a JOIN cells c ON c.cell_id = a.ocel_id
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
    return (
        connect(_downstream_of(tables, object_id)).sql(query, params={"origin": object_id}).to_arrow_table()
    )


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
