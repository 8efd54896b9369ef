"""Object-centric process mining over the genealogy's OCEL tables: the directly-follows graph per object type,
lead times per object type, and the convergence and divergence of activities per object type.

Each object's events in time order (event id breaking ties) give its directly-follows pairs; per object type
and activity pair, three counts as pm4py's OC-DFG (``pm4py.discover_ocdfg``, its reference) names them:
event couples (distinct source/target event pairs), unique objects, total objects (pair and object). One
DuckDB query over the Arrow tables, so a full-scale day (millions of relations) needs no Python loop.

Every statistic reads three relations named ``event``, ``object`` and ``event_object``: either a day's Arrow
tables (a dict, registered in an in-memory DuckDB) or a DuckDB connection that already names them, such as
``window(folder)``'s views over many days' Parquet files, where DuckDB's memory limit bounds the memory and
spills the rest to its temporary directory. A relation (event, object) written twice (two qualifiers) counts
once, as it does in ``oc_dfg``. Each statistic is one query, right for a day; over a month at scale 1.0
(~190 M relations) one query does not fit in 4 GB, and ``window_statistics`` gives the same tables a part of
the objects at a time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow as pa

from orchestration.genealogy.relational import connect

Source = dict[str, pa.Table] | duckdb.DuckDBPyConnection
# The tables a window of days is written as, one Parquet file per day each: <folder>/<table>/<day>.parquet
WINDOW_TABLES = ("event", "object", "event_object")

# Each object's events in time order (event id breaking ties), paired with the one before: the OC-DFG's
# steps, for the objects of the relation ``links`` (event, object pairs).
STEPS_QUERY = """
    SELECT o.ocel_type AS object_type, l.ocel_object_id AS object_id, e.ocel_id AS event_id,
           e.ocel_type AS activity,
           lag(e.ocel_id) OVER in_order AS previous_id,
           lag(e.ocel_type) OVER in_order AS previous_activity
    FROM links l
    JOIN event e ON e.ocel_id = l.ocel_event_id
    JOIN object o ON o.ocel_id = l.ocel_object_id
    WINDOW in_order AS (PARTITION BY l.ocel_object_id ORDER BY e.ocel_time, e.ocel_id)
"""

OC_DFG_QUERY = f"""
    WITH links AS (SELECT DISTINCT ocel_event_id, ocel_object_id FROM event_object),
    steps AS ({STEPS_QUERY})
    SELECT object_type, previous_activity AS source, activity AS target,
           count(DISTINCT (previous_id, event_id)) AS event_couples,
           count(DISTINCT object_id) AS unique_objects,
           count(*) AS total_objects
    FROM steps WHERE previous_id IS NOT NULL
    GROUP BY ALL ORDER BY ALL
"""


def _connection(source: Source) -> duckdb.DuckDBPyConnection:
    return source if isinstance(source, duckdb.DuckDBPyConnection) else connect(source)


def oc_dfg(source: Source) -> pa.Table:
    """(object_type, source, target, event_couples, unique_objects, total_objects): the OC-DFG's edges, of a
    day's tables or of the relations a connection names (``window``)."""
    return _connection(source).sql(OC_DFG_QUERY).to_arrow_table()


def window_statistics(
    con: duckdb.DuckDBPyConnection,
    folder: Path,
    work: Path,
    buckets: int,
    progress: Callable[[str], None] | None = None,
) -> dict[str, pa.Table]:
    """``oc_dfg``, ``lead_times`` and ``convergence_divergence`` of a window of days written under ``folder``
    (``<folder>/<table>/<day>.parquet``, read by ``con = window(folder)``), the same tables row for row,
    computed a part at a time so that DuckDB stays within its memory limit. One query over a month at scale
    1.0 sorts ~190 M relations in one window and ran out of memory (4 GB exceeded after 4 minutes, 14 GB
    spilled); its joins alone (relations to events to objects) ran over 4 minutes and 14 GB of spill.

    Day by day: an event and all its relations are written on one day (its id starts with it), so each
    day's relations are joined to that day's events and to the objects (held once, in memory) on their
    own; objects per event are counted there, whole, as a histogram; and the joined relations are split
    by a hash of the object into ``buckets`` parts under ``work``. Part by part: each holds every event of
    its objects, so its steps (each object's consecutive events), lead times and events per object are
    exact and its objects its own: object counts add up over the parts, events per object as a histogram,
    lead times as one row per object. An event couple may be shared by objects of two parts (two coils in
    the same two events), so the steps are written out split by a hash of the target event and counted
    distinct per split. Medians come from the exact histograms. ``progress`` hears a line per phase.
    """
    began = time.perf_counter()

    def done(what: str) -> None:
        if progress is not None:
            progress(f"{what} ({time.perf_counter() - began:.0f} s)")

    by_object, steps = work / "by_object", work / "steps"
    by_object.mkdir(parents=True, exist_ok=True)
    steps.mkdir(parents=True, exist_ok=True)
    n = int(buckets)
    for table, columns in {
        "edge_objects": "object_type VARCHAR, source VARCHAR, target VARCHAR, unique_objects BIGINT, "
        "total_objects BIGINT",
        "edge_couples": "object_type VARCHAR, source VARCHAR, target VARCHAR, event_couples BIGINT",
        "spans": "object_type VARCHAR, seconds DOUBLE",
        "events_per_object": "object_type VARCHAR, activity VARCHAR, value BIGINT, n BIGINT",
        "objects_per_event": "object_type VARCHAR, activity VARCHAR, value BIGINT, n BIGINT",
    }.items():
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} ({columns})")
    con.execute("CREATE OR REPLACE TEMP TABLE window_objects AS SELECT * FROM object")
    done(f"{con.execute('SELECT count(*) FROM window_objects').fetchall()[0][0]:,} objects")
    days = sorted(path.name for path in (folder / "event").glob("*.parquet"))
    unknown_objects = 0
    for day in days:
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE day_links AS
            SELECT o.ocel_type AS object_type, l.ocel_object_id AS object_id, l.ocel_event_id AS event_id,
                   e.ocel_type AS activity, e.ocel_time
            FROM (SELECT DISTINCT ocel_event_id, ocel_object_id
                  FROM read_parquet('{folder / "event_object" / day}')) l
            LEFT JOIN read_parquet('{folder / "event" / day}') e ON e.ocel_id = l.ocel_event_id
            LEFT JOIN window_objects o ON o.ocel_id = l.ocel_object_id
        """)
        elsewhere, unknown = con.execute(
            "SELECT count(*) FILTER (WHERE activity IS NULL), count(*) FILTER (WHERE object_type IS NULL) "
            "FROM day_links"
        ).fetchall()[0]
        if elsewhere:
            raise ValueError(f"{day}: {elsewhere:,} relations name an event not written that day")
        if unknown:  # an object declared before the window: left out, as the single queries' joins do
            unknown_objects += unknown
            con.execute("DELETE FROM day_links WHERE object_type IS NULL")
        con.execute("""
            INSERT INTO objects_per_event
            SELECT object_type, activity, objects, count(*) FROM (
                SELECT object_type, activity, count(*) AS objects FROM day_links
                GROUP BY object_type, activity, event_id
            ) GROUP BY ALL
        """)
        con.execute(
            f"""COPY (SELECT *, hash(object_id) % {n} AS part FROM day_links)
                TO '{by_object / day.removesuffix(".parquet")}' (FORMAT parquet, PARTITION_BY (part))"""
        )
    con.execute("DROP TABLE day_links")
    con.execute("DROP TABLE window_objects")
    done(
        f"{len(days)} days joined, objects per event counted, split into {n} parts by object"
        + (
            f"; {unknown_objects:,} relations to objects not in the window left out"
            if unknown_objects
            else ""
        )
    )
    for part in range(n):
        files = f"{by_object}/*/part={part}/*.parquet"
        if not any(by_object.glob(f"*/part={part}/*.parquet")):
            continue
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE part_steps AS
            SELECT object_type, object_id, event_id, activity, ocel_time,
                   lag(event_id) OVER in_order AS previous_id,
                   lag(activity) OVER in_order AS previous_activity
            FROM read_parquet('{files}')
            WINDOW in_order AS (PARTITION BY object_id ORDER BY ocel_time, event_id)
        """)
        con.execute("""
            INSERT INTO edge_objects
            SELECT object_type, previous_activity, activity, count(DISTINCT object_id), count(*)
            FROM part_steps WHERE previous_id IS NOT NULL GROUP BY ALL
        """)
        con.execute(f"""
            COPY (SELECT object_type, previous_activity AS source, activity AS target, previous_id, event_id,
                         hash(event_id) % {n} AS shard
                  FROM part_steps WHERE previous_id IS NOT NULL)
            TO '{steps / str(part)}' (FORMAT parquet, PARTITION_BY (shard))
        """)
        con.execute("""
            INSERT INTO spans
            SELECT any_value(object_type), epoch(max(ocel_time) - min(ocel_time)) FROM part_steps
            GROUP BY object_id
        """)
        con.execute("""
            INSERT INTO events_per_object
            SELECT object_type, activity, events, count(*) FROM (
                SELECT object_type, activity, count(*) AS events FROM part_steps
                GROUP BY object_type, activity, object_id
            ) GROUP BY ALL
        """)
        con.execute("DROP TABLE part_steps")
        done(f"objects' part {part + 1}/{n}: steps, lead times, events per object")
    for shard in range(n):
        if any(steps.glob(f"*/shard={shard}/*.parquet")):
            con.execute(f"""
                INSERT INTO edge_couples
                SELECT object_type, source, target, count(DISTINCT (previous_id, event_id))
                FROM read_parquet('{steps}/*/shard={shard}/*.parquet') GROUP BY ALL
            """)
    done(f"event couples counted in {n} splits by event")
    edges = con.sql("""
        WITH objects AS (
            SELECT object_type, source, target, sum(unique_objects)::BIGINT AS unique_objects,
                   sum(total_objects)::BIGINT AS total_objects
            FROM edge_objects GROUP BY ALL
        ),
        couples AS (
            SELECT object_type, source, target, sum(event_couples)::BIGINT AS event_couples
            FROM edge_couples GROUP BY ALL
        )
        SELECT object_type, source, target, c.event_couples, o.unique_objects, o.total_objects
        FROM objects o JOIN couples c USING (object_type, source, target)
        ORDER BY ALL
    """).to_arrow_table()
    lead = con.sql("""
        SELECT object_type, count(*) AS objects, avg(seconds) AS mean_s, quantile_cont(seconds, 0.5) AS p50_s,
               quantile_cont(seconds, 0.95) AS p95_s, max(seconds) AS max_s
        FROM spans GROUP BY ALL ORDER BY ALL
    """).to_arrow_table()
    problems = con.sql(f"""
        WITH convergence AS ({_FROM_HISTOGRAM.format(table="objects_per_event", what="objects_per_event")}),
        divergence AS ({_FROM_HISTOGRAM.format(table="events_per_object", what="events_per_object")})
        SELECT object_type, activity,
               c.count AS events, c.above_one AS convergent_events, c.objects_per_event_mean,
               c.objects_per_event_median, c.objects_per_event_max,
               c.objects_per_event_median > 1 AS convergence,
               d.count AS objects, d.above_one AS divergent_objects, d.events_per_object_mean,
               d.events_per_object_median, d.events_per_object_max,
               d.events_per_object_median > 1 AS divergence
        FROM convergence c JOIN divergence d USING (activity, object_type)
        ORDER BY object_type, activity
    """).to_arrow_table()
    for table in ("edge_objects", "edge_couples", "spans", "events_per_object", "objects_per_event"):
        con.execute(f"DROP TABLE {table}")
    return {"oc_dfg": edges, "lead_times": lead, "convergence_divergence": problems}


# Count, values above one, mean, median (the two middle values averaged, as quantile_cont and Python's
# statistics.median) and max of a histogram (object_type, activity, value, n).
_FROM_HISTOGRAM = """
    WITH histogram AS (
        SELECT object_type, activity, value, sum(n) AS n FROM {table} GROUP BY ALL
    ),
    ranked AS (
        SELECT *, sum(n) OVER (PARTITION BY object_type, activity ORDER BY value) AS up_to,
               sum(n) OVER (PARTITION BY object_type, activity) AS total
        FROM histogram
    )
    SELECT object_type, activity, any_value(total)::BIGINT AS count,
           coalesce(sum(n) FILTER (WHERE value > 1), 0)::BIGINT AS above_one,
           sum(value * n) / any_value(total) AS {what}_mean,
           (min(value) FILTER (WHERE up_to > (total - 1) // 2)
            + min(value) FILTER (WHERE up_to > total // 2)) / 2 AS {what}_median,
           max(value) AS {what}_max
    FROM ranked GROUP BY ALL
"""


def window(
    folder: Path, memory_limit: str = "4GB", temp_directory: Path | None = None, threads: int | None = None
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB whose views ``event``, ``object`` and ``event_object`` read every day's Parquet
    under ``folder`` (``<folder>/<table>/*.parquet``). A day names again the objects it shares with other
    days (machines, crews, a batch's cells across midnight): ``object`` lists each once. Events and their
    relations belong to one day each (an event id starts with its day), so those are read as written.
    DuckDB keeps under ``memory_limit`` and spills to ``temp_directory`` (default: beside ``folder``)."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute("SET preserve_insertion_order = false")  # no order is promised: lets big queries spill
    spill = temp_directory or folder.with_name(folder.name + ".spill")
    con.execute(f"SET temp_directory = '{spill}'")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    for name in WINDOW_TABLES:
        files = f"{folder / name}/*.parquet"
        distinct = "DISTINCT " if name == "object" else ""
        con.execute(f"CREATE VIEW {name} AS SELECT {distinct}* FROM read_parquet('{files}')")
    return con


# Per object, its first and last event; per object type, how long objects take from first to last.
LEAD_TIMES_QUERY = """
    WITH links AS (SELECT DISTINCT ocel_event_id, ocel_object_id FROM event_object),
    spans AS (
        SELECT l.ocel_object_id, epoch(max(e.ocel_time) - min(e.ocel_time)) AS seconds
        FROM links l JOIN event e ON e.ocel_id = l.ocel_event_id
        GROUP BY l.ocel_object_id
    )
    SELECT o.ocel_type AS object_type, count(*) AS objects,
           avg(s.seconds) AS mean_s, quantile_cont(s.seconds, 0.5) AS p50_s,
           quantile_cont(s.seconds, 0.95) AS p95_s, max(s.seconds) AS max_s
    FROM spans s JOIN object o ON o.ocel_id = s.ocel_object_id
    GROUP BY ALL ORDER BY ALL
"""


def lead_times(source: Source) -> pa.Table:
    """(object_type, objects, mean_s, p50_s, p95_s, max_s): per object type, the time from each
    object's first to its last event in seconds (mean, median and 95th percentile, interpolated as pandas'
    ``quantile`` does), over the objects with at least one event. An object seen once takes 0 s."""
    return _connection(source).sql(LEAD_TIMES_QUERY).to_arrow_table()


# Per activity and object type, both ways round: objects of the type per event of the activity (convergence)
# and events of the activity per object of the type (divergence).
CONVERGENCE_DIVERGENCE_QUERY = """
    WITH typed AS (
        SELECT DISTINCT e.ocel_type AS activity, o.ocel_type AS object_type,
               l.ocel_event_id AS event_id, l.ocel_object_id AS object_id
        FROM event_object l
        JOIN event e ON e.ocel_id = l.ocel_event_id
        JOIN object o ON o.ocel_id = l.ocel_object_id
    ),
    per_event AS (
        SELECT activity, object_type, count(*) AS objects FROM typed GROUP BY activity, object_type, event_id
    ),
    per_object AS (
        SELECT activity, object_type, count(*) AS events FROM typed GROUP BY activity, object_type, object_id
    ),
    convergence AS (
        SELECT activity, object_type, count(*) AS events,
               count(*) FILTER (WHERE objects > 1) AS convergent_events,
               avg(objects) AS objects_per_event_mean,
               quantile_cont(objects, 0.5) AS objects_per_event_median,
               max(objects) AS objects_per_event_max
        FROM per_event GROUP BY ALL
    ),
    divergence AS (
        SELECT activity, object_type, count(*) AS objects,
               count(*) FILTER (WHERE events > 1) AS divergent_objects,
               avg(events) AS events_per_object_mean,
               quantile_cont(events, 0.5) AS events_per_object_median,
               max(events) AS events_per_object_max
        FROM per_object GROUP BY ALL
    )
    SELECT object_type, activity,
           c.events, c.convergent_events, c.objects_per_event_mean, c.objects_per_event_median,
           c.objects_per_event_max, c.objects_per_event_median > 1 AS convergence,
           d.objects, d.divergent_objects, d.events_per_object_mean, d.events_per_object_median,
           d.events_per_object_max, d.events_per_object_median > 1 AS divergence
    FROM convergence c JOIN divergence d USING (activity, object_type)
    ORDER BY object_type, activity
"""


def convergence_divergence(source: Source) -> pa.Table:
    """Per object type and activity, the two problems of flattening an object-centric log onto that type,
    as the OCPM literature names them (W. van der Aalst, "Object-Centric Process Mining: Dealing with
    Divergence and Convergence in Event Data", SEFM 2019; pm4py's ``convergence_divergence_diagnostics``):

    - convergence: one event of the activity names several objects of the type (a Packing event and the
      cells it packs), so flattening copies the event into every one of them. Columns: ``events`` (of the
      activity naming the type), ``convergent_events`` (naming more than one object of it), objects per
      event (mean, median, max), and ``convergence`` (the median above 1, pm4py's flag).
    - divergence: one object of the type takes several events of the same activity (a machine's many
      Stacking events; rework), so after flattening those events can no longer be told apart nor ordered
      causally. Columns: ``objects`` (of the type with an event of the activity), ``divergent_objects``
      (with more than one), events per object (mean, median, max), and ``divergence`` (median above 1).

    Relations are counted once per (event, object)."""
    return _connection(source).sql(CONVERGENCE_DIVERGENCE_QUERY).to_arrow_table()


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
