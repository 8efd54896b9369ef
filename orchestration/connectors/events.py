"""A plant export, through its mapping, to the raw ``production_events`` table and a quarantine.

Every source row ends up in exactly one of the two tables (``rows_in == events + quarantine``), so nothing is
lost silently. A row is quarantined for the first problem found, with the file, the line and a sentence.
Problems with the whole file (missing, unreadable, not in its declared encoding, a repeated column, a mapped
column absent or of a type that would have to be coerced) raise ValueError instead, naming the file.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa

from orchestration.connectors.mapping import SourceMapping
from orchestration.connectors.ocel import read_ocel
from orchestration.connectors.records import SourceRecords, is_blank
from orchestration.connectors.tabular import read_csv, read_parquet
from orchestration.connectors.timestamps import TimestampRejected, describe_format, to_utc
from orchestration.connectors.xes import PAIRED_START_PREFIX, read_xes
from orchestration.lake.tables import RAW_TABLES

EVENTS_SCHEMA = RAW_TABLES["production_events"]

QUARANTINE_SCHEMA = pa.schema(
    [
        ("source_file", pa.string()),
        ("source_line", pa.int64()),  # CSV: physical line, header = 1; Parquet: row; XES / OCEL: event index
        ("field", pa.string()),  # the event field (or "row", "event") the problem is about
        ("reason", pa.string()),
        ("record", pa.string()),  # the raw row as JSON
    ]
)


@dataclass(frozen=True)
class LoadedEvents:
    events: pa.Table  # exactly RAW_TABLES["production_events"]
    quarantine: pa.Table  # QUARANTINE_SCHEMA
    rows_in: int  # source records read: events.num_rows + quarantine.num_rows + lifecycle_folded
    duplicates: int = 0  # repeats of an earlier event, kept or quarantined as the mapping's policy says
    lifecycle_folded: int = 0  # XES pair mode: transitions that are part of a step's life, not steps
    duplicates_kept: bool = False

    def summary(self) -> str:
        folded = f", {self.lifecycle_folded} lifecycle transitions folded into steps"
        folded *= bool(self.lifecycle_folded)
        return (
            f"{self.rows_in} rows in: {self.events.num_rows} events accepted, "
            f"{self.quarantine.num_rows} quarantined{folded}; {self.duplicates} duplicates "
            f"({'kept' if self.duplicates_kept else 'quarantined'})"
        )


class _Rejected(Exception):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


def load_events(mapping: SourceMapping, known_machines: Iterable[str] | None = None) -> LoadedEvents:
    """Read every file of the mapping; ``known_machines`` (from master data) quarantines other machines."""
    sources = [read_source(mapping, file) for file in mapping.source_files()]
    return to_production_events(sources, mapping, known_machines)


def read_source(mapping: SourceMapping, file: Path) -> SourceRecords:
    """One file's raw records, checked to offer every column the mapping names."""
    if mapping.format == "csv":
        records = read_csv(
            file, mapping.delimiter, mapping.encoding, mapping.max_line_bytes, mapping.multiline_fields
        )
    elif mapping.format == "parquet":
        kinds = {
            column: (field, _FIELD_KINDS[field])
            for field, columns in _field_columns(mapping).items()
            for column in columns
        }
        records = read_parquet(file, kinds)
    elif mapping.format == "xes":
        timestamp_key = _names(mapping.columns.end_ts or mapping.columns.start_ts)[0]
        records = read_xes(file, mapping.lifecycle, timestamp_key)
    else:
        records = read_ocel(file, mapping.case_object_type or "", mapping.encoding)
    missing = sorted({name for names in _field_columns(mapping).values() for name in names} - records.columns)
    if missing:
        raise ValueError(
            f"{file}: mapped column(s) {missing} not in the file (mapping {mapping.origin}; "
            f"the file has {sorted(records.columns)})"
        )
    return records


# The kind of value each event field takes, for typed sources (Parquet columns, OCEL JSON values).
_FIELD_KINDS = {
    **dict.fromkeys(("case_id", "activity", "machine", "product", "crew", "line"), "text"),
    **dict.fromkeys(("start_ts", "end_ts"), "timestamp"),
    **dict.fromkeys(("quantity", "scrap_qty", "good_qty"), "quantity"),
}


def _names(columns: str | list[str] | None) -> list[str]:
    return [] if columns is None else [columns] if isinstance(columns, str) else list(columns)


def _field_columns(mapping: SourceMapping) -> dict[str, list[str]]:
    """Event field -> the source columns it is read from (the first non-empty wins)."""
    mapped = mapping.columns.model_dump(exclude_none=True)
    fields = {name: _names(value) for name, value in mapped.items()}
    if mapping.format == "xes" and mapping.lifecycle == "pair":
        fields["start_ts"] = [PAIRED_START_PREFIX + fields["end_ts"][0]]
    return fields


def _first(row: dict[str, Any], columns: list[str]) -> Any:
    for column in columns:
        value = row.get(column)
        if not is_blank(value):
            return value.strip() if isinstance(value, str) else value
    return None


def _classified(row: dict[str, Any], classifier: list[str]) -> str | None:
    """The classifier's attributes joined by "+" (blank ones left out, as pm4py's classifiers do); None when
    all are blank."""
    parts = [str(_first(row, [name])) for name in classifier if _first(row, [name]) is not None]
    return "+".join(parts) if parts else None


def _text(value: Any, field: str, label: str) -> str:
    """A text field's value; an integer id reads as its digits, any other type (a bool, a float, a nested
    value) would only be its repr, so the row is rejected rather than coerced."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise _Rejected(field, f"{label} {value!r} is a {type(value).__name__}, not text")


def _quantity(value: Any, field: str) -> int:
    if isinstance(value, bool):
        raise _Rejected(field, f"{field} {value!r} is a bool, not a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise _Rejected(field, f"{field} {value!r} is not a number") from None
    if not number.is_integer():
        raise _Rejected(field, f"{field} {value!r} is not a whole number")
    if number < 0:
        raise _Rejected(field, f"negative quantity: {field} is {value!r}")
    return int(number)


def _event(row: dict[str, Any], fields: dict[str, list[str]], mapping: SourceMapping, zone, known) -> dict:
    """The event fields of one row; raises _Rejected with the first problem."""
    event: dict[str, Any] = {}
    for field, label in (("case_id", "case id"), ("activity", "activity"), ("machine", "machine")):
        value = _classified(row, mapping.classifier) if field == "activity" and mapping.classifier else None
        if value is None:
            value = _first(row, fields.get(field, []))
        if value is None and field == "machine" and not mapping.needs_machine:
            event[field] = None  # an office log has no machines; a null machine is no fault there
            continue
        if value is None:
            raise _Rejected(field if field != "machine" else "machine_id", f"missing {label}")
        event[field] = _text(value, field if field != "machine" else "machine_id", label)
    stamps: dict[str, datetime] = {}
    for field in ("start_ts", "end_ts"):
        if field not in fields:
            continue
        value = _first(row, fields[field])
        if value is None:
            raise _Rejected(field, f"missing {field} timestamp")
        try:
            policy = (mapping.ambiguous, mapping.nonexistent)  # for naive stamps in a DST change
            stamps[field] = to_utc(value, mapping.timestamp_format, zone, *policy)
        except TimestampRejected as rejected:
            raise _Rejected(field, f"{field}: {rejected}") from None
        except (ValueError, TypeError, OverflowError):
            expected = describe_format(mapping.timestamp_format)
            raise _Rejected(field, f"unparsable timestamp {value!r} (expected {expected})") from None
    start = stamps.get("start_ts", stamps.get("end_ts"))
    end = stamps.get("end_ts", start)
    if end < start:
        raise _Rejected("end_ts", f"end {end.isoformat()} is before start {start.isoformat()} (UTC)")
    event["start_ts"], event["end_ts"] = start, end
    for field in ("product", "crew", "line"):
        value = _first(row, fields.get(field, []))
        event[field] = None if value is None else _text(value, f"{field}_id", field)
    # Quantities: produced is 1 per event when unmapped; scrap from scrap_qty, else produced - good.
    produced = 1
    if "quantity" in fields:
        value = _first(row, fields["quantity"])
        if value is None:
            raise _Rejected("produced_qty", "missing quantity")
        produced = _quantity(value, "produced_qty")
    scrap = 0
    if "scrap_qty" in fields:
        value = _first(row, fields["scrap_qty"])
        scrap = 0 if value is None else _quantity(value, "scrap_qty")
        if "good_qty" in fields:
            good = _first(row, fields["good_qty"])
            if good is not None and _quantity(good, "good_qty") + scrap != produced:
                raise _Rejected("good_qty", f"good {good} + scrap {scrap} is not the produced {produced}")
    elif "good_qty" in fields:
        value = _first(row, fields["good_qty"])
        scrap = 0 if value is None else produced - _quantity(value, "good_qty")
    if scrap > produced or scrap < 0:
        raise _Rejected("scrap_qty", f"scrap {scrap} is outside 0..produced ({produced})")
    event["produced_qty"], event["scrap_qty"], event["good_qty"] = produced, scrap, produced - scrap
    if known is not None and event["machine"] not in known:
        raise _Rejected("machine_id", f"unknown machine {event['machine']!r} (not in the master data)")
    return event


def _event_ids(sources: list[SourceRecords]) -> list[list[str]]:
    """Deterministic, unique ids "<file stem>-L<line>", with "-<n>" when one line yields several records."""
    all_ids: list[list[str]] = []
    for records in sources:
        stem = records.file.name.split(".")[0]
        seen: dict[int, int] = {}
        ids = []
        for line in records.lines:
            seen[line] = seen.get(line, 0) + 1
            ids.append(f"{stem}-L{line}")
        repeats: dict[int, int] = {}
        for i, line in enumerate(records.lines):
            if seen[line] > 1:
                repeats[line] = repeats.get(line, 0) + 1
                ids[i] += f"-{repeats[line]}"
        all_ids.append(ids)
    flat = [event_id for ids in all_ids for event_id in ids]
    if len(set(flat)) != len(flat):
        raise ValueError(f"event ids collide across {[str(r.file) for r in sources]}: file names must differ")
    return all_ids


def to_production_events(
    sources: list[SourceRecords], mapping: SourceMapping, known_machines: Iterable[str] | None = None
) -> LoadedEvents:
    zone = ZoneInfo(mapping.timezone)
    known = set(known_machines) if known_machines is not None else None
    fields = _field_columns(mapping)
    accepted: list[dict[str, Any]] = []
    quarantined: list[dict[str, Any]] = []
    first_seen: dict[tuple, int] = {}
    rows_in = duplicates = folded = 0
    keep_duplicates = mapping.duplicates_policy == "keep"
    for records, ids in zip(sources, _event_ids(sources), strict=True):
        rows = zip(records.rows, records.lines, records.problems, ids, strict=True)
        for row, line, problem, event_id in rows:
            rows_in += 1
            try:
                if problem is not None and problem.folded:
                    folded += 1
                    continue
                if problem is not None:
                    raise _Rejected(problem.field, problem.reason)
                event = _event(row, fields, mapping, zone, known)
                key = tuple(event[name] for name in ("case_id", "activity", "machine", "start_ts", "end_ts"))
                if key in first_seen:
                    duplicates += 1
                    if not keep_duplicates:
                        same = "same case, activity, machine, start and end"
                        raise _Rejected("event", f"duplicate of line {first_seen[key]} ({same})")
                first_seen.setdefault(key, line)
            except _Rejected as rejected:
                quarantined.append(
                    {
                        "source_file": str(records.file),
                        "source_line": line,
                        "field": rejected.field,
                        "reason": rejected.reason,
                        "record": json.dumps(row, default=str, ensure_ascii=False),
                    }
                )
                continue
            accepted.append({"event_id": event_id, **event})
    _mark_rework(accepted)
    events = pa.table(
        {
            "event_id": [e["event_id"] for e in accepted],
            "case_id": [e["case_id"] for e in accepted],
            "product_id": [e["product"] for e in accepted],
            "activity": [e["activity"] for e in accepted],
            "line_id": [e["line"] for e in accepted],
            "machine_id": [e["machine"] for e in accepted],
            "crew_id": [e["crew"] for e in accepted],
            "start_ts": [e["start_ts"] for e in accepted],
            "end_ts": [e["end_ts"] for e in accepted],
            "produced_qty": [e["produced_qty"] for e in accepted],
            "good_qty": [e["good_qty"] for e in accepted],
            "scrap_qty": [e["scrap_qty"] for e in accepted],
            "is_rework": [e["is_rework"] for e in accepted],
        },
        schema=EVENTS_SCHEMA,
    )
    quarantine = pa.Table.from_pylist(quarantined, schema=QUARANTINE_SCHEMA)
    return LoadedEvents(
        events=events,
        quarantine=quarantine,
        rows_in=rows_in,
        duplicates=duplicates,
        lifecycle_folded=folded,
        duplicates_kept=keep_duplicates,
    )


def _mark_rework(events: list[dict[str, Any]]) -> None:
    """Rework: the batch already went through this step, i.e. an earlier start of the same case and activity.

    Copies that start at the same instant as the first are parallel, not rework.
    """
    first_start: dict[tuple[str, str], datetime] = {}
    for event in events:
        key = (event["case_id"], event["activity"])
        if key not in first_start or event["start_ts"] < first_start[key]:
            first_start[key] = event["start_ts"]
    for event in events:
        event["is_rework"] = event["start_ts"] > first_start[(event["case_id"], event["activity"])]
