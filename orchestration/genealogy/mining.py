"""Object-centric process mining over the genealogy's OCEL tables: the directly-follows graph per object type.

Each object's events in time order (event id breaking ties) give its directly-follows pairs; per object type
and activity pair, three counts as pm4py's OC-DFG (``pm4py.discover_ocdfg``, its reference) names them:
event couples (distinct source/target event pairs), unique objects, total objects (pair and object). One
DuckDB query over the Arrow tables, so a full-scale day (millions of relations) needs no Python loop.
"""

from __future__ import annotations

import pyarrow as pa

from orchestration.genealogy.relational import connect

OC_DFG_QUERY = """
    WITH links AS (SELECT DISTINCT ocel_event_id, ocel_object_id FROM event_object),
    steps AS (
        SELECT o.ocel_type AS object_type, l.ocel_object_id AS object_id, e.ocel_id AS event_id,
               e.ocel_type AS activity,
               lag(e.ocel_id) OVER in_order AS previous_id,
               lag(e.ocel_type) OVER in_order AS previous_activity
        FROM links l
        JOIN event e ON e.ocel_id = l.ocel_event_id
        JOIN object o ON o.ocel_id = l.ocel_object_id
        WINDOW in_order AS (PARTITION BY l.ocel_object_id ORDER BY e.ocel_time, e.ocel_id)
    )
    SELECT object_type, previous_activity AS source, activity AS target,
           count(DISTINCT (previous_id, event_id)) AS event_couples,
           count(DISTINCT object_id) AS unique_objects,
           count(*) AS total_objects
    FROM steps WHERE previous_id IS NOT NULL
    GROUP BY ALL ORDER BY ALL
"""


def oc_dfg(tables: dict[str, pa.Table]) -> pa.Table:
    """(object_type, source, target, event_couples, unique_objects, total_objects): the OC-DFG's edges."""
    return connect(tables).sql(OC_DFG_QUERY).to_arrow_table()


def batch_sample(tables: dict[str, pa.Table], case_ids: list[str]) -> dict[str, pa.Table]:
    """The sub-log of some batches: every event on one of their objects (cells, coils, ...), every object
    those events name (machines, crews, trays too) and their relations. Events, objects and event_object
    only: what a directly-follows graph reads."""
    con = connect(tables)
    con.execute(
        "CREATE TEMP TABLE cases AS SELECT unnest($cases::VARCHAR[]) || '-' AS prefix", {"cases": case_ids}
    )
    con.execute("""
        CREATE TEMP TABLE sampled AS SELECT DISTINCT eo.ocel_event_id AS event_id
        FROM event_object eo JOIN cases c ON starts_with(eo.ocel_object_id, c.prefix)
    """)
    in_sample = "SELECT eo.* FROM event_object eo SEMI JOIN sampled s ON s.event_id = eo.ocel_event_id"
    return {
        "event": con.sql(
            "SELECT e.* FROM event e SEMI JOIN sampled s ON s.event_id = e.ocel_id"
        ).to_arrow_table(),
        "event_object": con.sql(in_sample).to_arrow_table(),
        "object": con.sql(
            f"SELECT o.* FROM object o SEMI JOIN ({in_sample}) linked ON linked.ocel_object_id = o.ocel_id"
        ).to_arrow_table(),
    }


def pm4py_log(tables: dict[str, pa.Table]):
    """The tables as a pm4py OCEL, events in time order and event id breaking ties (as ``oc_dfg`` orders)."""
    from pm4py.objects.ocel.obj import OCEL  # lazily: pm4py is slow to import

    events = (
        tables["event"]
        .sort_by([("ocel_time", "ascending"), ("ocel_id", "ascending")])
        .rename_columns(["ocel:eid", "ocel:activity", "ocel:timestamp", "batch_event_id"])
        .to_pandas()
    )
    objects = tables["object"].rename_columns(["ocel:oid", "ocel:type"]).to_pandas()
    relations = tables["event_object"].rename_columns(["ocel:eid", "ocel:oid", "ocel:qualifier"]).to_pandas()
    relations = relations.merge(events[["ocel:eid", "ocel:activity", "ocel:timestamp"]], on="ocel:eid")
    relations = relations.merge(objects, on="ocel:oid")
    return OCEL(events=events, objects=objects, relations=relations)


def pm4py_oc_dfg_edges(ocdfg: dict) -> dict[tuple[str, str, str], tuple[int, int, int]]:
    """pm4py's OC-DFG edges as {(object_type, source, target): (couples, unique objects, total objects)}."""
    edges = ocdfg["edges"]
    return {
        (object_type, source, target): (
            len(couples),
            len(edges["unique_objects"][object_type][(source, target)]),
            len(edges["total_objects"][object_type][(source, target)]),
        )
        for object_type, pairs in edges["event_couples"].items()
        for (source, target), couples in pairs.items()
    }
