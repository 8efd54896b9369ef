"""Reader for OCEL 2.0 object-centric event logs (SQLite and JSON), flattened on one object type.

The cases are the objects of ``case_object_type`` (the batches): an event linked to two batches becomes two
records, one per batch, as in pm4py's flattening. The flattened view offers these columns:
``ocel:eid``, ``ocel:activity``, ``ocel:timestamp``, ``ocel:case``, every event attribute by name, and
``ocel:object:<type>`` (the first linked object of that type, e.g. the machine object).
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from orchestration.connectors.records import RowProblem, SourceRecords, undecodable

OBJECT_PREFIX = "ocel:object:"
_STANDARD = {"ocel:eid", "ocel:activity", "ocel:timestamp", "ocel:case"}


def read_ocel(file: Path, case_object_type: str, encoding: str = "utf-8") -> SourceRecords:
    """The flattened records; a file that is not an OCEL 2.0 log is an error naming it (and, for JSON, the
    line, byte or event); ``encoding`` applies to JSON, SQLite stores its own."""
    with open(file, "rb") as probe:
        is_sqlite = probe.read(16).startswith(b"SQLite format 3")
    try:
        events, objects = _read_sqlite(file) if is_sqlite else _read_json(file, encoding)
    except (OSError, sqlite3.Error, json.JSONDecodeError) as error:
        raise ValueError(f"{file}: cannot read the OCEL 2.0 file ({error})") from None
    object_types = set(objects.values())
    if case_object_type not in object_types:
        raise ValueError(
            f"{file}: case_object_type {case_object_type!r} is not an object type of the log "
            f"(it has {sorted(object_types)})"
        )
    columns = set(_STANDARD) | {OBJECT_PREFIX + name for name in object_types}
    records = SourceRecords(file=file, columns=columns)
    for index, (event_id, activity, time, attributes, linked) in enumerate(events, start=1):
        columns.update(attributes)
        by_type: dict[str, list[str]] = defaultdict(list)
        for object_id in sorted(set(linked)):
            if object_id in objects:
                by_type[objects[object_id]].append(object_id)
        row = {"ocel:eid": event_id, "ocel:activity": activity, "ocel:timestamp": time, **attributes}
        row |= {OBJECT_PREFIX + name: ids[0] for name, ids in by_type.items()}
        cases = by_type.get(case_object_type, [])
        if not cases:
            reason = f"the event is linked to no {case_object_type!r} object"
            records.add({**row, "ocel:case": None}, index, RowProblem("case_id", reason))
        for case in cases:
            records.add({**row, "ocel:case": case}, index)
    return records


# (event id, activity, time, attributes, linked object ids) in file order; and object id -> object type.
_Events = list[tuple[str, str, Any, dict[str, Any], list[str]]]


def _read_sqlite(file: Path) -> tuple[_Events, dict[str, str]]:
    with sqlite3.connect(f"file:{file}?mode=ro", uri=True) as conn:
        objects = dict(conn.execute("select ocel_id, ocel_type from object"))
        links: dict[str, list[str]] = defaultdict(list)
        for event_id, object_id in conn.execute("select ocel_event_id, ocel_object_id from event_object"):
            links[event_id].append(object_id)
        # Each event type keeps its time and attributes in a table of its own, named by event_map_type.
        details: dict[str, dict[str, Any]] = {}
        listed = conn.execute("select name from sqlite_master where type in ('table', 'view')")
        tables = {name for (name,) in listed}
        for event_type, suffix in conn.execute("select ocel_type, ocel_type_map from event_map_type"):
            table = f"event_{suffix}"
            if table not in tables:
                raise ValueError(f"{file}: event type {event_type!r} maps to table {table!r}, not in the log")
            cursor = conn.execute(f"select * from {_quoted(table)}")  # a name from the file: never bare SQL
            names = [column[0] for column in cursor.description]
            for values in cursor:
                details[values[0]] = dict(zip(names, values, strict=True))
        events: _Events = []
        for event_id, activity in conn.execute("select ocel_id, ocel_type from event order by rowid"):
            attributes = dict(details.get(event_id, {}))
            attributes.pop("ocel_id", None)
            time = attributes.pop("ocel_time", None)
            events.append((event_id, activity, time, attributes, links.get(event_id, [])))
    return events, objects


def _quoted(identifier: str) -> str:
    """An SQLite identifier in double quotes, its own quotes doubled: read as a name, whatever it holds."""
    return '"' + identifier.replace('"', '""') + '"'


def _read_json(file: Path, encoding: str) -> tuple[_Events, dict[str, str]]:
    data = Path(file).read_bytes()
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        raise undecodable(file, data.count(b"\n", 0, error.start) + 1, error.start, encoding, error) from None
    log = json.loads(text)
    if not isinstance(log, dict):
        raise ValueError(
            f"{file}: an OCEL 2.0 JSON log is an object with 'objects' and 'events', "
            f"not a {type(log).__name__}"
        )
    objects = {}
    for number, item in enumerate(_items(file, log, "objects"), start=1):
        with _naming(file, "object", number):
            objects[item["id"]] = item["type"]
    events: _Events = []
    for number, item in enumerate(_items(file, log, "events"), start=1):
        with _naming(file, "event", number):
            attributes = {entry["name"]: entry.get("value") for entry in item.get("attributes") or []}
            linked = [link["objectId"] for link in item.get("relationships") or []]
            events.append((item["id"], item["type"], item.get("time"), attributes, linked))
    return events, objects


def _items(file: Path, log: dict, key: str) -> list[dict]:
    items = log.get(key, [])
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise ValueError(f"{file}: {key!r} must be a list of JSON objects")
    return items


@contextmanager
def _naming(file: Path, kind: str, number: int):
    """Turns a missing key or a wrong type inside one object or event into an error that says which."""
    try:
        yield
    except KeyError as error:
        raise ValueError(f"{file}: {kind} {number} has no {error.args[0]!r}") from None
    except (TypeError, AttributeError) as error:
        raise ValueError(f"{file}: {kind} {number} is not OCEL 2.0 ({error})") from None
