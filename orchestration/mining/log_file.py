"""Any event log file as the statistics' event relation, without the warehouse: CSV, XES, OCEL 2.0, Parquet,
or a source mapping (YAML) that names one.

The file is read through the connectors, so timestamps, faults and duplicates follow one set of rules and
every record is accounted for. A bare file gets the mapping a process-mining tool would assume, so that its
figures are pm4py's on the same file: XES and OCEL name their own attributes; a CSV or Parquet file's
columns are recognised by their usual names (pm4py's ``case:concept:name``, ``concept:name``,
``time:timestamp``, ``start_timestamp``, or case_id / activity / start_time / end_time ...); the resource is
optional; repeated events are kept (pm4py keeps them) and counted; each XES event is one step. A mapping
file decides all of that itself.
"""

from __future__ import annotations

import csv
import gzip
import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyarrow as pa

from orchestration.connectors.events import LoadedEvents, load_events
from orchestration.connectors.mapping import SourceMapping, load_mapping, parse_mapping

# Usual column names per event field, in order of preference; matched ignoring case, spaces and underscores.
_USUAL_COLUMNS = {
    "case_id": ["case:concept:name", "case_id", "caseid", "case", "case id", "trace_id"],
    "activity": ["concept:name", "activity", "activity_name", "event", "task"],
    "end_ts": ["time:timestamp", "end_time", "end_ts", "complete_timestamp", "timestamp", "time", "end"],
    "start_ts": ["start_timestamp", "start_time", "start_ts", "start"],
    "machine": ["org:resource", "resource", "machine", "machine_id"],
}
_SUFFIXES = {
    ".xes": "xes",
    ".xes.gz": "xes",
    ".csv": "csv",
    ".csv.gz": "csv",
    ".parquet": "parquet",
    ".jsonocel": "ocel",
    ".json": "ocel",
    ".sqlite": "ocel",
    ".sqliteocel": "ocel",
}


@dataclass(frozen=True)
class ReadLog:
    mapping: SourceMapping
    loaded: LoadedEvents

    def summary(self) -> dict:
        """What reading did to the file's records: the figures the mine command reports first."""
        loaded = self.loaded
        return {
            "files": [str(f) for f in self.mapping.source_files()],
            "format": self.mapping.format,
            "records_in": loaded.rows_in,
            "events": loaded.events.num_rows,
            "quarantined": loaded.quarantine.num_rows,
            "duplicates": loaded.duplicates,
            "duplicates_policy": self.mapping.duplicates_policy,
            "lifecycle": self.mapping.lifecycle,
            "lifecycle_folded": loaded.lifecycle_folded,
            "classifier": self.mapping.classifier,
            "machine_required": self.mapping.needs_machine,
        }


def log_format(path: Path) -> str | None:
    name = path.name.lower()
    for suffix in sorted(_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return _SUFFIXES[suffix]
    return None


def default_mapping(
    path: Path,
    case_object_type: str | None = None,
    lifecycle: str = "single",
    classifier: list[str] | None = None,
) -> SourceMapping:
    """The mapping a process-mining tool assumes for ``path`` (see the module); a file whose columns are not
    recognised is an error that names the columns it has."""
    path = Path(path).resolve()
    kind = log_format(path)
    if kind is None:
        raise ValueError(
            f"{path}: not a log the mine command reads (.csv, .xes, .parquet, OCEL), nor a mapping"
        )
    data: dict = {"format": kind, "path": str(path), "machine_optional": True, "duplicates": "keep"}
    if kind == "xes":
        data["lifecycle"] = lifecycle
    if kind == "ocel":
        if not case_object_type:
            raise ValueError(
                f"{path}: an OCEL log needs --case-type, the object type whose objects are the cases"
            )
        data["case_object_type"] = case_object_type
    if classifier:
        data["classifier"] = classifier
    if kind in ("csv", "parquet"):
        data["columns"] = _recognised_columns(path, kind)
    return parse_mapping(data, path.parent, str(path))


def _recognised_columns(path: Path, kind: str) -> dict:
    header = _header(path, kind)
    by_key = {_key(name): name for name in reversed(header)}  # the first of equal keys wins
    columns = {}
    for field, usual in _USUAL_COLUMNS.items():
        found = next((by_key[_key(name)] for name in usual if _key(name) in by_key), None)
        if found is not None:
            columns[field] = found
    missing = [field for field in ("case_id", "activity", "end_ts") if field not in columns]
    if missing:
        raise ValueError(
            f"{path}: no column recognised as {', '.join(missing)} (the file has {', '.join(header)}); "
            "name them in a mapping (docs/plant-data.md) and run mine on the mapping"
        )
    return columns


def _key(name: str) -> str:
    return name.strip().lower().replace(" ", "").replace("_", "")


def _header(path: Path, kind: str) -> list[str]:
    if kind == "parquet":
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    with open(path, "rb") as probe:
        compressed = probe.read(2) == b"\x1f\x8b"
    with (gzip.open if compressed else open)(path, "rb") as stream:
        first = stream.readline().decode("utf-8-sig", errors="replace")
    return next(csv.reader(io.StringIO(first)), [])


def read_log(
    path: Path | str,
    case_object_type: str | None = None,
    lifecycle: str = "single",
    classifier: list[str] | None = None,
) -> ReadLog:
    """The events of a log file, or of the source a mapping YAML names (its own settings then apply)."""
    path = Path(path)
    if not path.exists():
        raise ValueError(f"{path}: no such file")
    if path.suffix.lower() in (".yaml", ".yml"):
        mapping = load_mapping(path)
    else:
        mapping = default_mapping(path, case_object_type, lifecycle, classifier)
    return ReadLog(mapping, load_events(mapping))


def register_events(
    conn, events: pa.Table, name: str = "log_events", window: tuple[date, date] | None = None
):
    """``events`` (production_events) as a DuckDB table ``name`` in the statistics' columns (case_steps), in
    file order (``event_seq``); with ``window``, only the events ending within its days (UTC). Returns the
    table name."""
    numbered = events.append_column("event_seq", pa.array(range(events.num_rows), pa.int64()))
    conn.register("_log_events_arrow", numbered)
    try:
        where = ""
        if window is not None:
            first, last = window[0].isoformat(), window[1].isoformat()
            where = f"where end_ts >= date '{first}' and end_ts < date '{last}' + 1"
        conn.execute(
            f"""create or replace temp table {name} as
                select case_id, activity, machine_id, crew_id as shift_id, start_ts, end_ts, event_seq
                from _log_events_arrow {where}"""
        )
    finally:
        conn.unregister("_log_events_arrow")
    return name
