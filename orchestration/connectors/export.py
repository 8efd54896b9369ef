"""Export production events as standard event logs, so that other process-mining tools can read our data.

XES: one trace per batch, each step as a ``start`` and a ``complete`` event (lifecycle extension), the
machine as ``org:resource``. OCEL 2.0 JSON: object types ``batch`` and ``machine``, each event linked to both.
Both are written with the standard library so the files do not depend on one pm4py version's writer.
Timestamps are written in UTC with an explicit offset and microseconds: a reader never has to guess a zone.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pyarrow as pa

REQUIRED_COLUMNS = ("case_id", "activity", "start_ts", "end_ts", "machine_id")
_TEXT_ATTRIBUTES = ("event_id", "machine_id", "product_id", "line_id", "crew_id")
_INT_ATTRIBUTES = ("produced_qty", "good_qty", "scrap_qty")
_JSON_VALUE = {"string": str, "integer": int, "boolean": bool}  # numpy scalars are not JSON
_EPOCH = "1970-01-01T00:00:00+00:00"  # OCEL 2.0: the time of an object attribute valid from the start


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


def export_ocel(events: pd.DataFrame | pa.Table, path: str | Path) -> Path:
    """Write an OCEL 2.0 JSON log: objects ``batch`` and ``machine``; each step is one event at its end,
    with its start as the ``start_ts`` attribute; returns the path."""
    frame = _event_frame(events)
    batches = sorted(frame["case_id"].astype(str).unique())
    machines = sorted(frame["machine_id"].astype(str).unique())
    shared = set(batches) & set(machines)
    if shared:  # one object id space in OCEL: a batch and a machine must not share an id
        raise ValueError(f"batch and machine ids collide: {sorted(shared)[:5]}")
    event_attributes = [{"name": "start_ts", "type": "time"}]
    event_attributes += [{"name": n, "type": "string"} for n in _TEXT_ATTRIBUTES if n in frame.columns]
    event_attributes += [{"name": n, "type": "integer"} for n in _INT_ATTRIBUTES if n in frame.columns]
    if "is_rework" in frame.columns:
        event_attributes.append({"name": "is_rework", "type": "boolean"})
    products = {}
    if "product_id" in frame.columns:
        first = frame.dropna(subset=["product_id"]).drop_duplicates("case_id")
        products = dict(zip(first["case_id"].astype(str), first["product_id"].astype(str), strict=True))
    objects = [
        {
            "id": batch,
            "type": "batch",
            "attributes": (
                [{"name": "product_id", "time": _EPOCH, "value": products[batch]}]
                if batch in products
                else []
            ),
        }
        for batch in batches
    ]
    objects += [{"id": machine, "type": "machine", "attributes": []} for machine in machines]
    ocel_events = []
    for row in frame.sort_values(["end_ts", "case_id"], kind="stable").itertuples(index=True):
        attributes = [{"name": "start_ts", "value": _iso(row.start_ts)}]
        for spec in event_attributes[1:]:
            value = getattr(row, spec["name"])
            if _present(value):
                attributes.append({"name": spec["name"], "value": _JSON_VALUE[spec["type"]](value)})
        ocel_events.append(
            {
                "id": str(row.event_id) if "event_id" in frame.columns else f"E{row.Index + 1}",
                "type": str(row.activity),
                "time": _iso(row.end_ts),
                "attributes": attributes,
                "relationships": [
                    {"objectId": str(row.case_id), "qualifier": "batch"},
                    {"objectId": str(row.machine_id), "qualifier": "machine"},
                ],
            }
        )
    document = {
        "objectTypes": [
            {"name": "batch", "attributes": [{"name": "product_id", "type": "string"}]},
            {"name": "machine", "attributes": []},
        ],
        "eventTypes": [
            {"name": activity, "attributes": event_attributes}
            for activity in sorted(frame["activity"].astype(str).unique())
        ],
        "objects": objects,
        "events": ocel_events,
    }
    path = Path(path)
    path.write_text(json.dumps(document, indent=1, ensure_ascii=False), encoding="utf-8")
    return path
