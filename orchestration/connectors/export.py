"""Export production events as standard event logs, so that other process-mining tools can read our data.

XES: one trace per batch, each step as a ``start`` and a ``complete`` event (lifecycle extension), the
machine as ``org:resource``, written with the standard library so the file does not depend on one pm4py
version's writer; timestamps in UTC with an explicit offset and microseconds: a reader never has to guess a
zone. OCEL 2.0 JSON: object types ``batch`` and ``machine``, each event linked to both, built as the five
OCEL tables and written by the platform's one OCEL writer (``orchestration.genealogy.export``), the one that
writes the per-cell genealogy, so both validate against the same schema (times in UTC, ``Z``).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa

from orchestration.genealogy.expand import OCEL_SCHEMAS
from orchestration.genealogy.export import to_json

REQUIRED_COLUMNS = ("case_id", "activity", "start_ts", "end_ts", "machine_id")
_TEXT_ATTRIBUTES = ("event_id", "machine_id", "product_id", "line_id", "crew_id")
_INT_ATTRIBUTES = ("produced_qty", "good_qty", "scrap_qty")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # OCEL 2.0: the time of an object attribute valid from the start
UTC_TS = pa.timestamp("us", tz="UTC")


def _event_frame(events: pd.DataFrame | pa.Table) -> pd.DataFrame:
    frame = events.to_pandas() if isinstance(events, pa.Table) else events.copy()
    missing = [name for name in REQUIRED_COLUMNS if name not in frame.columns]
    if missing:
        raise ValueError(f"the event log lacks column(s) {missing}")
    for column in ("start_ts", "end_ts"):
        stamps = pd.to_datetime(frame[column])
        # the contract stores UTC; a naive column is UTC that lost its label, not local time
        frame[column] = stamps.dt.tz_localize("UTC") if stamps.dt.tz is None else stamps.dt.tz_convert("UTC")
    return frame.reset_index(drop=True)


def _iso(stamp: pd.Timestamp) -> str:
    return stamp.to_pydatetime().isoformat(timespec="microseconds")


def _present(value) -> bool:
    return value is not None and not (isinstance(value, float) and value != value) and value is not pd.NA


def export_xes(events: pd.DataFrame | pa.Table, path: str | Path) -> Path:
    """Write an XES log: per step a start and a complete event; returns the path."""
    frame = _event_frame(events)
    log = ET.Element("log", {"xes.version": "1849-2016", "xes.features": "nested-attributes"})
    for name, prefix, uri in (
        ("Concept", "concept", "http://www.xes-standard.org/concept.xesext"),
        ("Lifecycle", "lifecycle", "http://www.xes-standard.org/lifecycle.xesext"),
        ("Time", "time", "http://www.xes-standard.org/time.xesext"),
        ("Organizational", "org", "http://www.xes-standard.org/org.xesext"),
    ):
        ET.SubElement(log, "extension", {"name": name, "prefix": prefix, "uri": uri})
    ET.SubElement(log, "classifier", {"name": "Activity", "keys": "concept:name"})
    for case_id, steps in frame.groupby("case_id", sort=True):
        trace = ET.SubElement(log, "trace")
        ET.SubElement(trace, "string", {"key": "concept:name", "value": str(case_id)})
        # start and complete events in time order; at equal times a start comes before a complete
        moments = [(row.start_ts, 0, i, "start") for i, row in steps.iterrows()]
        moments += [(row.end_ts, 1, i, "complete") for i, row in steps.iterrows()]
        for stamp, _, i, transition in sorted(moments):
            step = steps.loc[i]
            event = ET.SubElement(trace, "event")
            ET.SubElement(event, "string", {"key": "concept:name", "value": str(step["activity"])})
            if "event_id" in steps.columns:  # pairs this start with its complete, even for parallel steps
                ET.SubElement(event, "string", {"key": "concept:instance", "value": str(step["event_id"])})
            ET.SubElement(event, "string", {"key": "lifecycle:transition", "value": transition})
            ET.SubElement(event, "date", {"key": "time:timestamp", "value": _iso(stamp)})
            ET.SubElement(event, "string", {"key": "org:resource", "value": str(step["machine_id"])})
            for name in _TEXT_ATTRIBUTES:
                if name in steps.columns and _present(step[name]):
                    ET.SubElement(event, "string", {"key": name, "value": str(step[name])})
            for name in _INT_ATTRIBUTES:
                if name in steps.columns and _present(step[name]):
                    ET.SubElement(event, "int", {"key": name, "value": str(int(step[name]))})
            if "is_rework" in steps.columns and _present(step["is_rework"]):
                ET.SubElement(
                    event, "boolean", {"key": "is_rework", "value": str(bool(step["is_rework"])).lower()}
                )
    path = Path(path)
    ET.indent(log)
    ET.ElementTree(log).write(path, encoding="utf-8", xml_declaration=True)
    return path


def _values(column: pd.Series, convert) -> list:
    """The column's values as plain Python values (``convert``ed), None where absent."""
    return [convert(value) if _present(value) else None for value in column]


def _instants(column: pd.Series) -> pa.Array:
    """UTC instants with microseconds, as OCEL writes them."""
    return pa.Array.from_pandas(column).cast(UTC_TS, safe=False)


def ocel_tables(events: pd.DataFrame | pa.Table) -> dict[str, pa.Table]:
    """The batch-level log as the five OCEL 2.0 tables of ``orchestration.genealogy`` (``OCEL_SCHEMAS``):
    objects ``batch`` (its ``product_id`` as an attribute from the start) and ``machine``; each step one event
    at its end, linked to its batch and its machine (qualifiers ``batch``, ``machine``), with its start as the
    ``start_ts`` attribute and the step's ids, quantities and rework flag as typed attributes. No
    object-to-object links: a plant's export names no material flow between batches."""
    log = _event_frame(events)
    products: dict[str, str] = {}
    if "product_id" in log.columns:  # a batch's product: the first one its steps name, in the log's order
        first = log.dropna(subset=["product_id"]).drop_duplicates("case_id")
        products = dict(zip(first["case_id"].astype(str), first["product_id"].astype(str), strict=True))
    frame = log.sort_values(["end_ts", "case_id"], kind="stable")
    batches = frame["case_id"].astype(str).tolist()
    machines = _values(frame["machine_id"], str)
    batch_ids, machine_ids = sorted(set(batches)), sorted(set(machines) - {None})
    shared = set(batch_ids) & set(machine_ids)
    if shared:  # one object id space in OCEL: a batch and a machine must not share an id
        raise ValueError(f"batch and machine ids collide: {sorted(shared)[:5]}")
    if "event_id" in frame.columns:
        event_ids = frame["event_id"].astype(str).tolist()
    else:
        event_ids = [f"E{index + 1}" for index in frame.index]
    steps = {
        "ocel_id": pa.array(event_ids, pa.string()),
        "ocel_type": pa.array(frame["activity"].astype(str).tolist(), pa.string()),
        "ocel_time": _instants(frame["end_ts"]),
        "start_ts": _instants(frame["start_ts"]),
    }
    typed = [(name, str, pa.string()) for name in _TEXT_ATTRIBUTES]
    typed += [(name, int, pa.int64()) for name in _INT_ATTRIBUTES]
    for name, convert, kind in [*typed, ("is_rework", bool, pa.bool_())]:
        if name in frame.columns:
            steps[name] = pa.array(_values(frame[name], convert), kind)
    links = [
        (event_id, object_id, qualifier)
        for qualifier, objects in (("batch", batches), ("machine", machines))
        for event_id, object_id in zip(event_ids, objects, strict=True)
        if object_id is not None
    ]
    named = [batch for batch in batch_ids if batch in products]
    return {
        "event": pa.table(steps),
        "object": pa.table(
            {
                "ocel_id": batch_ids + machine_ids,
                "ocel_type": ["batch"] * len(batch_ids) + ["machine"] * len(machine_ids),
            },
            schema=OCEL_SCHEMAS["object"],
        ),
        "event_object": pa.table(
            [list(column) for column in zip(*links, strict=True)] if links else [[], [], []],
            schema=OCEL_SCHEMAS["event_object"],
        ),
        "object_object": OCEL_SCHEMAS["object_object"].empty_table(),
        "object_attribute": pa.table(
            {
                "ocel_id": named,
                "ocel_time": pa.array([_EPOCH] * len(named), UTC_TS),
                "name": ["product_id"] * len(named),
                "value_num": pa.nulls(len(named), pa.float64()),
                "value_str": [products[batch] for batch in named],
            },
            schema=OCEL_SCHEMAS["object_attribute"],
        ),
    }


def export_ocel(events: pd.DataFrame | pa.Table, path: str | Path) -> Path:
    """Write an OCEL 2.0 JSON log of the batch-level steps (``ocel_tables``) with the platform's OCEL writer
    (``orchestration.genealogy.export.to_json``); returns the path."""
    return to_json(ocel_tables(events), Path(path))
