"""Faults a plant export meets every week, each read as a new user would meet it (issue 18, point 4).

Every case ends either in an error that names the file and the line (or row, or column) or in quarantined rows
with their line and reason, and never in a value that was silently changed: rows in = accepted + quarantined.
"""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration.connectors import load_events, load_mapping
from orchestration.connectors.tabular import MAX_LINE_BYTES

COLUMNS = {
    "case_id": "batch",
    "activity": "step",
    "start_ts": "started",
    "end_ts": "finished",
    "machine": "machine",
}
HEADER = "batch,step,started,finished,machine\n"
GOOD = "B1,Coating,2026-11-09T08:00:00,2026-11-09T08:30:00,COAT-01\n"


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def _mapping(folder: Path, **fields):
    path = folder / "source.yaml"
    path.write_text(json.dumps(fields), encoding="utf-8")  # JSON is YAML
    return load_mapping(path)


def _csv(folder: Path, data: bytes, **mapping):
    (folder / "mes_export.csv").write_bytes(data)
    fields = {"format": "csv", "path": "mes_export.csv", "columns": COLUMNS, "timezone": "Europe/Berlin"}
    return _mapping(folder, **{**fields, **mapping})


def _balanced(loaded) -> dict[int, dict]:
    """The quarantine by line, after checking that every row in is accepted or quarantined."""
    assert loaded.rows_in == loaded.events.num_rows + loaded.quarantine.num_rows
    by_line = {row["source_line"]: row for row in loaded.quarantine.to_pylist()}
    assert len(by_line) == loaded.quarantine.num_rows
    return by_line


# 1 --------------------------------------------------------------------------------------------------------


def test_a_repeated_csv_column_is_an_error_naming_the_file_and_the_column(tmp_path: Path) -> None:
    mapping = _csv(
        tmp_path, b"batch,step,started,finished,machine,step\n" + GOOD.encode()[:-1] + b",Drying\n"
    )
    with pytest.raises(
        ValueError, match=r"mes_export\.csv: line 1: the header repeats column\(s\) \['step'\]"
    ):
        load_events(mapping)


# 2 --------------------------------------------------------------------------------------------------------


def _parquet(folder: Path, **overrides) -> object:
    columns = {
        "lot": pa.array(["L1", "L2"]),
        "op": pa.array(["Stacking", "Stacking"]),
        "done": pa.array([datetime(2026, 11, 9, 8), datetime(2026, 11, 9, 9)]),
        "res": pa.array(["STK-01", "STK-02"]),
        "cells": pa.array([100, 50]),
    }
    pq.write_table(pa.table({**columns, **overrides}), folder / "lots.parquet")
    mapped = {"case_id": "lot", "activity": "op", "end_ts": "done", "machine": "res", "quantity": "cells"}
    return _mapping(folder, format="parquet", path="lots.parquet", timezone="Europe/Berlin", columns=mapped)


@pytest.mark.parametrize(
    ("column", "values", "physical"),
    [
        ("done", pa.array([20261109, 20261110]), "int64"),  # was read as midnight of 9 November
        ("op", pa.array([True, False]), "bool"),  # was read as the activity "True"
        ("res", pa.array([{"id": "STK-01"}, {"id": "STK-02"}]), "struct"),  # was read as its repr
        ("cells", pa.array([True, True]), "bool"),  # was read as 1 unit produced
    ],
)
def test_a_parquet_column_of_the_wrong_type_is_an_error_naming_file_and_column(
    tmp_path: Path, column: str, values: pa.Array, physical: str
) -> None:
    mapping = _parquet(tmp_path, **{column: values})
    with pytest.raises(ValueError, match=rf"lots\.parquet: column '{column}' is {physical}"):
        load_events(mapping)


def test_parquet_values_that_do_not_fit_their_field_are_quarantined_not_coerced(tmp_path: Path) -> None:
    stamps = pa.array(["2026-11-09T08:00:00", "20261109", "2026-11-09", "2026-11-09T09:00:00"])
    mapping = _parquet(
        tmp_path,
        lot=pa.array(["L1", "L2", "L3", "L4"]),
        op=pa.array(["Stacking"] * 4),
        done=stamps,
        res=pa.array(["STK-01"] * 4),
        cells=pa.array([100.0, 50.0, 50.0, 2.5]),
    )
    loaded = load_events(mapping)
    quarantine = _balanced(loaded)
    assert loaded.events["case_id"].to_pylist() == ["L1"]
    assert loaded.events["end_ts"].to_pylist() == [_utc(2026, 11, 9, 7)]
    assert {row: (q["field"], q["reason"]) for row, q in quarantine.items()} == {
        2: ("end_ts", "end_ts: timestamp '20261109' is a date without a time of day"),
        3: ("end_ts", "end_ts: timestamp '2026-11-09' is a date without a time of day"),
        4: ("produced_qty", "produced_qty 2.5 is not a whole number"),
    }


# 3 --------------------------------------------------------------------------------------------------------


def _xes_event(activity: str, transition: str, time: str) -> str:
    return (
        f'<event><string key="concept:name" value="{activity}"/>'
        f'<string key="lifecycle:transition" value="{transition}"/>'
        f'<date key="time:timestamp" value="2026-11-09T{time}+01:00"/>'
        '<string key="org:resource" value="C1"/></event>'
    )


STRAY_XES = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<log xmlns="http://www.xes-standard.org/">'
    + _xes_event("Mixing", "complete", "07:00:00")  # 1: before any trace
    + '<trace><string key="concept:name" value="B1"/>'
    + _xes_event("Coating", "start", "08:00:00")  # 2
    + _xes_event("Coating", "complete", "08:30:00")  # 3
    + "</trace>"
    + _xes_event("Drying", "complete", "09:00:00")  # 4: between traces, was given to B2
    + '<trace><string key="concept:name" value="B2"/>'
    + _xes_event("Coating", "start", "10:00:00")  # 5
    + _xes_event("Coating", "complete", "10:30:00")  # 6
    + "</trace>"
    + _xes_event("Slitting", "complete", "11:00:00")  # 7: after the last trace, was dropped
    + "</log>"
)


@pytest.mark.parametrize("lifecycle", ["single", "pair"])
def test_xes_events_outside_a_trace_are_quarantined_with_their_position(
    tmp_path: Path, lifecycle: str
) -> None:
    (tmp_path / "steps.xes").write_text(STRAY_XES, encoding="utf-8")
    loaded = load_events(_mapping(tmp_path, format="xes", path="steps.xes", lifecycle=lifecycle))
    quarantine = _balanced(loaded)
    assert loaded.rows_in == (7 if lifecycle == "single" else 5)  # pair: two starts joined their completes
    assert sorted(quarantine) == [1, 4, 7]
    for index, row in quarantine.items():
        assert row["field"] == "event"
        assert row["reason"] == f"event {index} of the file is not inside a <trace>, so it belongs to no case"
    assert set(loaded.events["activity"].to_pylist()) == {"Coating"}
    assert sorted(loaded.events["case_id"].to_pylist()) == (
        ["B1", "B1", "B2", "B2"] if lifecycle == "single" else ["B1", "B2"]
    )


# 4 --------------------------------------------------------------------------------------------------------


def test_a_nul_byte_quarantines_its_row_with_line_and_field(tmp_path: Path) -> None:
    data = HEADER + GOOD.replace("COAT-01", "COAT-\x0001").replace("B1", "B0") + GOOD
    loaded = load_events(_csv(tmp_path, data.encode()))
    quarantine = _balanced(loaded)
    assert (loaded.rows_in, loaded.events["event_id"].to_pylist()) == (2, ["mes_export-L3"])
    assert (quarantine[2]["field"], quarantine[2]["reason"]) == (
        "machine",
        "field 'machine' holds a NUL byte",
    )


# 5 --------------------------------------------------------------------------------------------------------


def test_the_encoding_is_declared_and_a_decode_error_names_file_line_and_byte(tmp_path: Path) -> None:
    data = (HEADER + GOOD + GOOD.replace("B1", "B2").replace("Coating", "Trocknung (Kühlzone)")).encode(
        "latin-1"
    )
    mapping = _csv(tmp_path, data)
    offset = data.index("ü".encode("latin-1"))
    message = rf"mes_export\.csv: line 3, byte offset {offset}: not valid utf-8 .*encoding: latin-1"
    with pytest.raises(ValueError, match=message):
        load_events(mapping)
    loaded = load_events(_csv(tmp_path, data, encoding="latin-1"))
    assert _balanced(loaded) == {}
    assert loaded.events["activity"].to_pylist() == ["Coating", "Trocknung (Kühlzone)"]
    with pytest.raises(ValueError, match=r"source\.yaml.*encoding.*utf-16.*not ASCII-compatible"):
        _csv(tmp_path, data, encoding="utf-16")


# 6 --------------------------------------------------------------------------------------------------------


def test_a_field_over_the_limit_quarantines_its_row_with_its_line(tmp_path: Path) -> None:
    huge = GOOD.replace("COAT-01", "x" * (10 * MAX_LINE_BYTES))
    loaded = load_events(_csv(tmp_path, (HEADER + huge + GOOD.replace("B1", "B2")).encode()))
    quarantine = _balanced(loaded)
    assert (loaded.rows_in, loaded.events["event_id"].to_pylist()) == (2, ["mes_export-L3"])
    assert quarantine[2]["reason"] == f"the line is longer than {MAX_LINE_BYTES:,} bytes (max_line_bytes)"
    assert quarantine[2]["record"] == "{}"  # the 10 MB are not copied into the quarantine
    # the limit is the mapping's to declare
    small = load_events(
        _csv(tmp_path, (HEADER + GOOD + GOOD.replace("B1", "B2" * 40)).encode(), max_line_bytes=80)
    )
    assert _balanced(small)[3]["reason"] == "the line is longer than 80 bytes (max_line_bytes)"


# 7 --------------------------------------------------------------------------------------------------------


def test_an_unclosed_quote_costs_its_own_row_and_never_swallows_the_next(tmp_path: Path) -> None:
    data = HEADER + GOOD.replace("Coating", '"Coating') + GOOD.replace("B1", "B2") + GOOD.replace("B1", "B3")
    loaded = load_events(_csv(tmp_path, data.encode()))
    quarantine = _balanced(loaded)
    assert loaded.rows_in == 3  # one per physical data line
    assert loaded.events["event_id"].to_pylist() == ["mes_export-L3", "mes_export-L4"]
    assert quarantine[2]["field"] == "step"
    assert quarantine[2]["reason"].startswith("field 'step' runs past the end of the line: an unclosed quote")


def test_declared_multiline_fields_keep_physical_line_numbers_and_report_a_quote_never_closed(
    tmp_path: Path,
) -> None:
    data = (
        HEADER
        + GOOD.replace("Coating", '"Coating\nsecond ""pass"""')  # lines 2-3: one record
        + GOOD.replace("B1", "B2").replace("COAT-01", '12" COAT')  # line 4: a quote inside a field is literal
        + GOOD.replace("B1", "B3").replace("Coating", '"Coating')  # line 5: never closed
        + GOOD.replace("B1", "B4")
    )
    loaded = load_events(_csv(tmp_path, data.encode(), multiline_fields=True))
    quarantine = _balanced(loaded)
    assert loaded.rows_in == 3
    assert loaded.events["event_id"].to_pylist() == ["mes_export-L2", "mes_export-L4"]
    assert loaded.events["activity"].to_pylist() == ['Coating\nsecond "pass"', "Coating"]
    assert loaded.events["machine_id"].to_pylist() == ["COAT-01", '12" COAT']
    assert quarantine[5]["reason"] == "a quoted field opened on this line is never closed"


# 8 --------------------------------------------------------------------------------------------------------

DST = HEADER + (
    "B1,Coating,2026-03-29T02:30:00,2026-03-29T03:40:00,C1\n"  # 02:30 does not exist in Berlin that night
    "B2,Coating,2026-10-25T02:10:00,2026-10-25T02:40:00,C1\n"  # 02:10 and 02:40 happen twice
    "B3,Coating,2026-10-25T02:50:00,2026-10-25T02:10:00,C1\n"  # across the change: 02:50 CEST, 02:10 CET
    "B4,Coating,2026-10-25T01:30:00+02:00,2026-10-25T02:10:00+01:00,C1\n"  # offsets are facts: read
)


def test_local_times_in_a_dst_gap_or_repeated_hour_are_rejected_naming_the_zone(tmp_path: Path) -> None:
    loaded = load_events(_csv(tmp_path, DST.encode()))
    quarantine = _balanced(loaded)
    assert sorted(quarantine) == [2, 3, 4]
    assert quarantine[2]["field"] == "start_ts"
    assert quarantine[2]["reason"] == (
        "start_ts: local time 2026-03-29T02:30:00 does not exist in Europe/Berlin "
        "(the clocks jump forward over it); declare nonexistent: shift_forward in the mapping to read it, "
        "the default is reject"
    )
    for line in (3, 4):
        assert re.fullmatch(
            r"start_ts: local time 2026-10-25T02:[15]0:00 occurs twice in Europe/Berlin "
            r"\(the clocks go back over it\); declare ambiguous: earliest or latest in the mapping to read "
            r"it, the default is reject",
            quarantine[line]["reason"],
        )
    assert loaded.events["start_ts"].to_pylist() == [_utc(2026, 10, 24, 23, 30)]


@pytest.mark.parametrize(
    ("ambiguous", "b2_start"),
    [("earliest", _utc(2026, 10, 25, 0, 10)), ("latest", _utc(2026, 10, 25, 1, 10))],
)
def test_a_declared_dst_policy_resolves_the_local_times(
    tmp_path: Path, ambiguous: str, b2_start: datetime
) -> None:
    mapping = _csv(tmp_path, DST.encode(), ambiguous=ambiguous, nonexistent="shift_forward")
    loaded = load_events(mapping)
    quarantine = _balanced(loaded)
    starts = dict(
        zip(loaded.events["case_id"].to_pylist(), loaded.events["start_ts"].to_pylist(), strict=True)
    )
    assert starts["B1"] == _utc(2026, 3, 29, 1, 30)  # 02:30 read with the winter offset: 03:30 summer time
    assert starts["B2"] == b2_start
    # One policy for every stamp cannot place a step across the change: it stays quarantined, and says so.
    assert list(quarantine) == [4] and "is before start" in quarantine[4]["reason"]
    with pytest.raises(ValueError, match=r"source\.yaml.*ambiguous"):
        _csv(tmp_path, DST.encode(), ambiguous="guess")


# 9 --------------------------------------------------------------------------------------------------------


def _ocel_json(folder: Path, data: bytes, **mapping):
    (folder / "log.jsonocel").write_bytes(data)
    fields = {
        "format": "ocel",
        "path": "log.jsonocel",
        "case_object_type": "batch",
        "columns": {"machine": "res"},
    }
    return _mapping(folder, **{**fields, **mapping})


OCEL_LOG = {
    "objectTypes": [{"name": "batch", "attributes": []}],
    "eventTypes": [{"name": "Coating", "attributes": [{"name": "res", "type": "string"}]}],
    "objects": [{"id": "B1", "type": "batch"}],
    "events": [
        {
            "id": "e1",
            "type": "Coating",
            "time": "2026-11-09T08:00:00+01:00",
            "attributes": [{"name": "res", "value": "Beschichter Süd"}],
            "relationships": [{"objectId": "B1", "qualifier": "batch"}],
        }
    ],
}


def test_ocel_json_that_is_not_a_log_or_not_in_its_encoding_is_an_error_naming_the_file(
    tmp_path: Path,
) -> None:
    with pytest.raises(ValueError, match=r"log\.jsonocel: an OCEL 2\.0 JSON log is an object .*not a list"):
        load_events(_ocel_json(tmp_path, b"[]"))
    with pytest.raises(ValueError, match=r"log\.jsonocel: event 1 has no 'id'"):
        load_events(_ocel_json(tmp_path, json.dumps({"events": [{"type": "Coating"}]}).encode()))
    latin = json.dumps(OCEL_LOG, ensure_ascii=False, indent=1).encode("latin-1")
    offset = latin.index("ü".encode("latin-1"))
    line = latin.count(b"\n", 0, offset) + 1
    with pytest.raises(
        ValueError, match=rf"log\.jsonocel: line {line}, byte offset {offset}: not valid utf-8"
    ):
        load_events(_ocel_json(tmp_path, latin))
    loaded = load_events(_ocel_json(tmp_path, latin, encoding="latin-1"))
    assert _balanced(loaded) == {} and loaded.events["machine_id"].to_pylist() == ["Beschichter Süd"]


def test_ocel_json_values_of_the_wrong_type_are_quarantined_not_coerced(tmp_path: Path) -> None:
    log = json.loads(json.dumps(OCEL_LOG))
    log["events"][0]["attributes"][0]["value"] = True
    loaded = load_events(_ocel_json(tmp_path, json.dumps(log).encode()))
    quarantine = _balanced(loaded)
    assert (quarantine[1]["field"], quarantine[1]["reason"]) == (
        "machine_id",
        "machine True is a bool, not text",
    )


MALICIOUS = 'x"; drop table event; --'


def _ocel_sqlite(path: Path, table_suffix: str, create_table: bool = True) -> None:
    with sqlite3.connect(path) as conn:
        conn.executescript(
            "create table event (ocel_id text, ocel_type text);"
            "create table object (ocel_id text, ocel_type text);"
            "create table event_object (ocel_event_id text, ocel_object_id text, ocel_qualifier text);"
            "create table event_map_type (ocel_type text, ocel_type_map text);"
            "insert into event values ('e1', 'Coating');"
            "insert into object values ('B1', 'batch');"
            "insert into event_object values ('e1', 'B1', 'batch');"
        )
        conn.execute("insert into event_map_type values ('Coating', ?)", (table_suffix,))
        if create_table:
            quoted = '"event_' + table_suffix.replace('"', '""') + '"'
            conn.execute(f"create table {quoted} (ocel_id text, ocel_time text, res text)")
            conn.execute(f"insert into {quoted} values ('e1', '2026-11-09 08:00:00', 'C1')")
    conn.close()


def test_ocel_sqlite_table_names_from_the_file_are_quoted_never_run_as_sql(tmp_path: Path) -> None:
    _ocel_sqlite(tmp_path / "log.sqlite", MALICIOUS)
    fields = {
        "format": "ocel",
        "path": "log.sqlite",
        "case_object_type": "batch",
        "columns": {"machine": "res"},
    }
    loaded = load_events(_mapping(tmp_path, **fields, timezone="Europe/Berlin"))
    assert _balanced(loaded) == {}
    assert loaded.events.select(["case_id", "activity", "machine_id", "start_ts"]).to_pylist() == [
        {"case_id": "B1", "activity": "Coating", "machine_id": "C1", "start_ts": _utc(2026, 11, 9, 7)}
    ]
    with sqlite3.connect(tmp_path / "log.sqlite") as conn:
        assert conn.execute("select count(*) from event").fetchone() == (1,)
    conn.close()
    _ocel_sqlite(tmp_path / "unmapped.sqlite", MALICIOUS, create_table=False)  # named, but not in the file
    with pytest.raises(
        ValueError, match=r"unmapped\.sqlite: event type 'Coating' maps to table .*not in the log"
    ):
        load_events(_mapping(tmp_path, **{**fields, "path": "unmapped.sqlite"}))
