"""Reader for XES event logs (IEEE 1849), streamed with the standard library's XML parser.

We parse XES ourselves rather than through pm4py so that timestamps stay the strings the file holds (and are
converted once, by the same rules as every other source), and so that each event keeps its position in the
file for the quarantine. Trace attributes are offered with pm4py's ``case:`` prefix.
"""

from __future__ import annotations

import gzip
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from orchestration.connectors.records import RowProblem, SourceRecords

LIFECYCLE = "lifecycle:transition"
INSTANCE = "concept:instance"  # XES concept extension: ties the start and complete of one step
PAIRED_START_PREFIX = "start:"  # pair mode: the start event's timestamp, offered as "start:<timestamp key>"
_GZIP_MAGIC = b"\x1f\x8b"


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]  # files that declare the XES namespace prefix every tag with it


def _attributes(element: ET.Element) -> dict[str, Any]:
    """The element's own key/value attributes; nested list and container values are left out."""
    return {
        child.get("key"): child.get("value")
        for child in element
        if child.get("key") is not None and _local(child.tag) not in ("event", "trace")
    }


def _traces(file: Path):
    """(trace attributes, [(event index, event attributes), ...]) per trace, in file order; an event that is
    not a child of a trace comes alone, with None for the trace, where it stands (it belongs to no case)."""
    with open(file, "rb") as probe:
        compressed = probe.read(2) == _GZIP_MAGIC
    events: list[tuple[int, dict[str, Any]]] = []
    index = 0
    parents: list[str] = []  # the open elements' tags, to tell where an event stands
    with (gzip.open if compressed else open)(file, "rb") as stream:
        for kind, element in ET.iterparse(stream, events=("start", "end")):
            tag = _local(element.tag)
            if kind == "start":
                parents.append(tag)
                continue
            parents.pop()
            if tag == "event":
                index += 1
                if parents[-1:] == ["trace"]:
                    events.append((index, _attributes(element)))
                else:
                    yield None, [(index, _attributes(element))]
                element.clear()
            elif tag == "trace":
                case = {f"case:{key}": value for key, value in _attributes(element).items()}
                yield case, events
                events = []
                element.clear()


def read_xes(file: Path, lifecycle: str = "single", timestamp_key: str = "time:timestamp") -> SourceRecords:
    """One record per XES event (``single``), or per start/complete pair of one activity (``pair``).

    A complete closes the open start of its activity with the same ``concept:instance``, else the same
    resource, else the oldest (first in, first out); a complete without a start is a step without
    duration, a start never completed is quarantined, and other transitions (schedule, suspend, ...) are
    handed on as folded (counted, neither a step nor a fault), so every event of the file is accounted
    for. So is an event outside any ``<trace>``:
    it belongs to no case, and is quarantined with its index in the file (ElementTree gives no line).
    """
    records = SourceRecords(file=file, columns=set())
    try:
        for case, events in _traces(file):
            if case is None:
                for index, attributes in events:
                    reason = f"event {index} of the file is not inside a <trace>, so it belongs to no case"
                    records.add(attributes, index, RowProblem("event", reason))
                continue
            records.columns.update(case)
            for _, attributes in events:
                records.columns.update(attributes)
            if lifecycle == "pair":
                _pair(records, case, events, timestamp_key)
            else:
                for index, attributes in events:
                    records.add({**case, **attributes}, index)
    except (OSError, EOFError, ET.ParseError) as error:
        raise ValueError(f"{file}: cannot read the XES file ({error})") from None
    if lifecycle == "pair":
        records.columns.add(PAIRED_START_PREFIX + timestamp_key)
        order = sorted(range(len(records.rows)), key=records.lines.__getitem__)
        records.rows = [records.rows[i] for i in order]
        records.lines = [records.lines[i] for i in order]
        records.problems = [records.problems[i] for i in order]
    return records


def _pair(records: SourceRecords, case: dict, events: list, timestamp_key: str) -> None:
    open_starts: dict[Any, list] = {}
    for index, attributes in events:
        transition = str(attributes.get(LIFECYCLE) or "complete").strip().lower()
        activity = attributes.get("concept:name")
        if transition == "start":
            open_starts.setdefault(activity, []).append((index, attributes))
        elif transition == "complete":
            waiting = open_starts.get(activity, [])
            chosen = _matching_start(waiting, attributes)
            start = waiting.pop(chosen)[1] if chosen is not None else attributes  # no start: no duration
            row = {**case, **attributes, PAIRED_START_PREFIX + timestamp_key: start.get(timestamp_key)}
            records.add(row, index)
        else:  # schedule, assign, suspend, resume, abort, skip, ...: part of a step's life, not a step
            reason = f"lifecycle transition {transition!r} is part of a step's life, not a step"
            records.add({**case, **attributes}, index, RowProblem(LIFECYCLE, reason, folded=True))
    for waiting in open_starts.values():
        for index, attributes in waiting:
            reason = "lifecycle start without a matching complete in the trace"
            records.add({**case, **attributes}, index, RowProblem(LIFECYCLE, reason))


def _matching_start(waiting: list, complete: dict[str, Any]) -> int | None:
    """The open start a complete closes: same activity instance, else same resource, else the oldest."""
    for key in (INSTANCE, "org:resource"):
        if complete.get(key) is not None:
            for position, (_, start) in enumerate(waiting):
                if start.get(key) == complete[key]:
                    return position
            if key == INSTANCE:
                break  # an instance id that no start carries: fall back to the oldest open start
    return 0 if waiting else None
