"""Real plant data connectors: mappings, readers, quarantine, factory days, master data and exports.

Hand-made inputs with known answers, plus the real samples in ../shared/data/real (skipped when absent).
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from orchestration.connectors import (
    QUARANTINE_SCHEMA,
    SOURCE_DIR_ENV,
    derive_machines,
    export_ocel,
    export_xes,
    load_events,
    load_machines_csv,
    load_mapping,
    read_plant_export,
    split_by_factory_day,
)
from orchestration.connectors.export import ocel_tables
from orchestration.connectors.mapping import parse_mapping
from orchestration.factory_calendar import FactoryCalendar
from orchestration.genealogy.export import to_sqlite
from orchestration.lake.tables import RAW_TABLES

REAL_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"
MAPPINGS = Path(__file__).resolve().parents[1] / "data" / "mappings"
OCEL_SCHEMA = REAL_DATA / "pm4py" / "schema_ocel2.json"

CSV_COLUMNS = {
    "case_id": "batch",
    "activity": "step",
    "start_ts": "started",
    "end_ts": "finished",
    "machine": "machine",
}


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def _write_mapping(folder: Path, **fields) -> Path:
    path = folder / "source.yaml"
    path.write_text(json.dumps(fields), encoding="utf-8")  # JSON is YAML
    return path


def _csv_source(tmp_path: Path, text: str, name: str = "mes_export.csv", **mapping) -> Path:
    (tmp_path / name).write_text(text, encoding="utf-8")
    fields = {"format": "csv", "path": name, "columns": CSV_COLUMNS, "timezone": "Europe/Berlin"}
    return _write_mapping(tmp_path, **{**fields, **mapping})


def _rows(table: pa.Table) -> list[dict]:
    return table.to_pylist()


def _check_invariant(loaded) -> None:
    assert loaded.rows_in == loaded.events.num_rows + loaded.quarantine.num_rows + loaded.lifecycle_folded
    assert loaded.events.schema == RAW_TABLES["production_events"]
    assert loaded.quarantine.schema == QUARANTINE_SCHEMA
    assert len(set(loaded.events["event_id"].to_pylist())) == loaded.events.num_rows


# --- mappings ---------------------------------------------------------------------------------------------


def test_mapping_errors_name_the_file_and_the_field(tmp_path: Path) -> None:
    typo = _write_mapping(tmp_path, format="csv", path="x.csv", columns={**CSV_COLUMNS, "activty": "step"})
    with pytest.raises(ValueError, match=r"source\.yaml.*columns\.activty"):
        load_mapping(typo)
    no_machine = _write_mapping(
        tmp_path,
        format="csv",
        path="x.csv",
        columns={"case_id": "b", "activity": "s"},
        machine_optional=False,
    )  # a machine is optional unless the mapping says it is required
    with pytest.raises(ValueError, match=r"source\.yaml.*machine_optional"):
        load_mapping(no_machine)
    no_time = _write_mapping(
        tmp_path, format="csv", path="x.csv", columns={"case_id": "b", "activity": "s", "machine": "m"}
    )
    with pytest.raises(ValueError, match=r"source\.yaml.*start_ts"):
        load_mapping(no_time)
    bad_zone = _write_mapping(tmp_path, format="csv", path="x.csv", columns=CSV_COLUMNS, timezone="Mars/Base")
    with pytest.raises(ValueError, match=r"source\.yaml.*timezone.*Mars/Base"):
        load_mapping(bad_zone)
    no_case_type = _write_mapping(tmp_path, format="ocel", path="x.sqlite", columns={"machine": "m"})
    with pytest.raises(ValueError, match=r"source\.yaml.*case_object_type"):
        load_mapping(no_case_type)


def test_factory_settings_default_to_the_mapping_timezone_and_hour_6(tmp_path: Path) -> None:
    mapping = load_mapping(_csv_source(tmp_path, "batch\n"))
    assert (mapping.factory_timezone, mapping.day_start_hour) == ("Europe/Berlin", 6)


def test_missing_file_names_the_mapping_and_the_path(tmp_path: Path) -> None:
    mapping = load_mapping(_write_mapping(tmp_path, format="csv", path="absent.csv", columns=CSV_COLUMNS))
    with pytest.raises(ValueError, match=r"source\.yaml.*absent\.csv"):
        load_events(mapping)


def test_missing_column_names_the_file_and_the_column(tmp_path: Path) -> None:
    source = _csv_source(tmp_path, "batch,step,started,machine\nB1,Coating,2026-11-09T08:00:00,COAT-01\n")
    with pytest.raises(ValueError, match=r"mes_export\.csv.*'finished'"):
        load_events(load_mapping(source))


# --- quarantine -------------------------------------------------------------------------------------------

BAD_ROWS = """batch,step,started,finished,machine,qty
B1,Coating,2026-11-09T08:00:00,2026-11-09T08:30:00,COAT-01,10
B1,Calendering,09/11/2026 09:00,2026-11-09T09:30:00,CAL-01,10
B1,Slitting,2026-11-09T10:00:00,2026-11-09T09:59:00,SLIT-01,10
B1,Coating,2026-11-09T08:00:00,2026-11-09T08:30:00,COAT-01,10
B2,Coating,2026-11-09T08:00:00,2026-11-09T08:30:00,COAT-99,10
,Coating,2026-11-09T08:00:00,2026-11-09T08:30:00,COAT-01,10
B3,Coating,2026-11-09T11:00:00,2026-11-09T11:30:00,COAT-01,-4
B4,Coating,2026-11-09T12:00:00
B5,Coating,2026-11-09T12:00:00,2026-11-09T12:30:00,COAT-02,7
"""


def test_bad_rows_are_quarantined_with_file_line_and_reason(tmp_path: Path) -> None:
    columns = {**CSV_COLUMNS, "quantity": "qty"}
    mapping = load_mapping(_csv_source(tmp_path, BAD_ROWS, columns=columns))
    loaded = load_events(mapping, known_machines={"COAT-01", "COAT-02", "CAL-01", "SLIT-01"})
    _check_invariant(loaded)
    assert loaded.rows_in == 9
    assert loaded.events["event_id"].to_pylist() == ["mes_export-L2", "mes_export-L10"]
    assert loaded.events["produced_qty"].to_pylist() == [10, 7]
    by_line = {row["source_line"]: row for row in _rows(loaded.quarantine)}
    assert sorted(by_line) == [3, 4, 5, 6, 7, 8, 9]
    assert {row["source_file"] for row in by_line.values()} == {str(tmp_path / "mes_export.csv")}
    expected = {
        3: ("start_ts", "unparsable timestamp '09/11/2026 09:00'"),
        4: ("end_ts", "is before start"),
        5: ("event", "duplicate of line 2"),
        6: ("machine_id", "unknown machine 'COAT-99'"),
        7: ("case_id", "missing case id"),
        8: ("produced_qty", "negative quantity"),
        9: ("row", "the row has 3 fields where the header has 6"),
    }
    for line, (field, reason) in expected.items():
        assert by_line[line]["field"] == field
        assert reason in by_line[line]["reason"]
    assert json.loads(by_line[6]["record"])["machine"] == "COAT-99"


def test_unknown_machines_pass_without_master_data(tmp_path: Path) -> None:
    mapping = load_mapping(_csv_source(tmp_path, BAD_ROWS, columns={**CSV_COLUMNS, "quantity": "qty"}))
    loaded = load_events(mapping)
    assert "B2" in loaded.events["case_id"].to_pylist()
    _check_invariant(loaded)


def test_duplicates_can_be_kept_when_the_source_records_parallel_copies(tmp_path: Path) -> None:
    text = "batch,step,started,finished,machine\n" + "B1,Coating,2026-11-09T08:00,2026-11-09T08:30,C1\n" * 2
    loaded = load_events(load_mapping(_csv_source(tmp_path, text, duplicates="keep")))
    assert (loaded.events.num_rows, loaded.quarantine.num_rows) == (2, 0)
    assert loaded.events["is_rework"].to_pylist() == [False, False]  # parallel, not a repeat


def test_a_log_without_machines_is_read_but_refused_by_the_warehouse_in_one_sentence(tmp_path: Path) -> None:
    text = "batch,step,started,finished\nB1,Coating,2026-11-09T08:00,2026-11-09T08:30\n"
    columns = {name: column for name, column in CSV_COLUMNS.items() if name != "machine"}
    mapping = load_mapping(_csv_source(tmp_path, text, columns=columns))
    loaded = load_events(mapping)  # the mine command's read: a null machine is no fault
    assert (loaded.events.num_rows, loaded.events["machine_id"].to_pylist()) == (1, [None])
    calendar = FactoryCalendar("Europe/Berlin", 6)
    with pytest.raises(ValueError, match="source.yaml: the warehouse needs a machine on every event"):
        read_plant_export(mapping, calendar)


# --- timestamps -------------------------------------------------------------------------------------------


def test_naive_stamps_are_plant_time_and_offsets_are_converted_not_relabelled(tmp_path: Path) -> None:
    text = (
        "batch,step,started,finished,machine\n"
        "B1,Coating,2026-11-09T08:00:00,2026-11-09T08:00:00.123456,C1\n"  # CET, UTC+1
        "B2,Coating,2026-07-09T08:00:00,2026-07-09T08:00:00,C1\n"  # CEST, UTC+2
        "B3,Coating,2026-11-09T08:00:00+02:00,2026-11-09T08:00:00Z,C1\n"  # offsets are facts
    )
    loaded = load_events(load_mapping(_csv_source(tmp_path, text)))
    starts = loaded.events["start_ts"].to_pylist()
    assert starts == [_utc(2026, 11, 9, 7), _utc(2026, 7, 9, 6), _utc(2026, 11, 9, 6)]
    assert loaded.events["end_ts"].to_pylist()[0] == _utc(2026, 11, 9, 7, 0, 0, 123456)
    assert loaded.events["end_ts"].to_pylist()[2] == _utc(2026, 11, 9, 8)
    assert loaded.events.schema.field("start_ts").type == pa.timestamp("us", tz="UTC")


def test_strftime_format_and_gzip_and_a_single_timestamp(tmp_path: Path) -> None:
    with gzip.open(tmp_path / "export.csv.gz", "wt", encoding="utf-8") as handle:
        handle.write("batch;step;done;machine\nB1;Formation;09.11.2026 08:00;FORM-01\n")
    mapping = load_mapping(
        _write_mapping(
            tmp_path,
            format="csv",
            path="export.csv.gz",
            delimiter=";",
            timestamp_format="%d.%m.%Y %H:%M",
            timezone="Europe/Berlin",
            columns={"case_id": "batch", "activity": "step", "end_ts": "done", "machine": "machine"},
        )
    )
    event = _rows(load_events(mapping).events)[0]
    assert event["start_ts"] == event["end_ts"] == _utc(2026, 11, 9, 7)  # instantaneous step
    assert event["event_id"] == "export-L2"


def test_parquet_with_typed_timestamps_and_quantities(tmp_path: Path) -> None:
    table = pa.table(
        {
            "lot": ["L1", "L1", "L2"],
            "op": ["Stacking", "Stacking", "Stacking"],
            "t0": pa.array([datetime(2026, 11, 9, 8), datetime(2026, 11, 9, 9), datetime(2026, 11, 9, 8)]),
            "res": ["STK-01", "STK-01", "STK-02"],
            "cells": [100, 100, 50],
            "bad": [2, 0, 60],
            "prod": ["P-NMC", "P-NMC", None],
        }
    )
    pq.write_table(table, tmp_path / "lots.parquet")
    mapping = parse_mapping(
        {
            "format": "parquet",
            "path": "lots.parquet",
            "timezone": "Europe/Berlin",
            "columns": {
                "case_id": "lot",
                "activity": "op",
                "start_ts": "t0",
                "machine": "res",
                "quantity": "cells",
                "scrap_qty": "bad",
                "product": "prod",
            },
        },
        tmp_path,
    )
    loaded = load_events(mapping)
    _check_invariant(loaded)
    events = _rows(loaded.events)
    assert [(e["good_qty"], e["scrap_qty"]) for e in events] == [(98, 2), (100, 0)]
    assert [e["is_rework"] for e in events] == [False, True]  # L1 went through Stacking again
    assert events[0]["start_ts"] == _utc(2026, 11, 9, 7) and events[0]["product_id"] == "P-NMC"
    assert _rows(loaded.quarantine)[0]["source_line"] == 3  # scrap 60 of 50 produced


# --- XES and OCEL -----------------------------------------------------------------------------------------


def _xes_event(activity: str, transition: str | None, local_time: str, resource: str) -> str:
    lifecycle = f'<string key="lifecycle:transition" value="{transition}"/>' if transition else ""
    return (
        f'<event><string key="concept:name" value="{activity}"/>{lifecycle}'
        f'<date key="time:timestamp" value="2026-11-09T{local_time}+01:00"/>'
        f'<string key="org:resource" value="{resource}"/></event>'
    )


XES_PAIRS = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<log xmlns="http://www.xes-standard.org/"><trace>'
    '<string key="concept:name" value="B1"/>'
    + _xes_event("Coating", "start", "08:00:00", "C1")
    + _xes_event("Coating", "start", "08:10:00", "C2")
    + _xes_event("Coating", "complete", "08:20:00", "C2")
    + _xes_event("Coating", "complete", "08:30:00", "C1")
    + _xes_event("Drying", "schedule", "08:40:00", "D1")
    + _xes_event("Drying", None, "09:00:00", "D1")
    + _xes_event("Slitting", "start", "09:10:00", "S1")
    + "</trace></log>"
)


def test_xes_lifecycle_pairs_start_and_complete_into_one_step(tmp_path: Path) -> None:
    (tmp_path / "steps.xes").write_text(XES_PAIRS, encoding="utf-8")
    mapping = parse_mapping({"format": "xes", "path": "steps.xes", "lifecycle": "pair"}, tmp_path)
    loaded = load_events(mapping)
    _check_invariant(loaded)
    assert loaded.rows_in == 5  # 2 pairs, 1 complete alone, 1 schedule (folded), 1 start alone
    steps = [(e["activity"], e["machine_id"], e["start_ts"], e["end_ts"]) for e in _rows(loaded.events)]
    assert steps == [
        ("Coating", "C2", _utc(2026, 11, 9, 7, 10), _utc(2026, 11, 9, 7, 20)),  # paired by resource
        ("Coating", "C1", _utc(2026, 11, 9, 7, 0), _utc(2026, 11, 9, 7, 30)),
        ("Drying", "D1", _utc(2026, 11, 9, 8, 0), _utc(2026, 11, 9, 8, 0)),  # no start: no duration
    ]
    quarantine = {row["source_line"]: row["reason"] for row in _rows(loaded.quarantine)}
    assert loaded.lifecycle_folded == 1 and 5 not in quarantine  # schedule: part of a step, neither lost
    assert "start without a matching complete" in quarantine[7]
    single = load_events(parse_mapping({"format": "xes", "path": "steps.xes"}, tmp_path))
    assert (single.rows_in, single.events.num_rows) == (7, 7)


def test_ocel_json_export_reads_back_as_the_same_steps(tmp_path: Path, levy_sample: pa.Table) -> None:
    export_ocel(levy_sample, tmp_path / "levy.jsonocel")
    mapping = parse_mapping(
        {
            "format": "ocel",
            "path": "levy.jsonocel",
            "case_object_type": "batch",
            "duplicates": "keep",  # the sample holds Levy's parallel repeats
            "columns": {"start_ts": "start_ts", "machine": "ocel:object:machine", "quantity": "produced_qty"},
        },
        tmp_path,
    )
    loaded = load_events(mapping)
    assert loaded.quarantine.num_rows == 0
    assert _step_set(loaded.events) == _step_set(levy_sample)

    import pm4py

    ocel = pm4py.read_ocel2_json(str(tmp_path / "levy.jsonocel"))
    assert len(ocel.events) == levy_sample.num_rows
    assert set(ocel.objects["ocel:type"]) == {"batch", "machine"}
    assert len(ocel.relations) == 2 * levy_sample.num_rows  # every event linked to its batch and machine
    assert set(ocel.relations["ocel:qualifier"]) == {"batch", "machine"}
    assert ocel.events["start_ts"].dt.tz is not None  # typed attributes: the start is a time, read as one
    if OCEL_SCHEMA.is_file():
        jsonschema = pytest.importorskip("jsonschema")
        document = json.loads((tmp_path / "levy.jsonocel").read_text())
        jsonschema.validate(document, json.loads(OCEL_SCHEMA.read_text()))


def test_the_batch_level_ocel_tables_write_as_sqlite_too(tmp_path: Path, levy_sample: pa.Table) -> None:
    """The batch-level log is the five OCEL tables the per-cell genealogy writes: SQLite comes with them."""
    import pm4py

    ocel = pm4py.read_ocel2_sqlite(str(to_sqlite(ocel_tables(levy_sample), tmp_path / "levy.sqlite")))
    assert len(ocel.events) == levy_sample.num_rows
    assert set(ocel.objects["ocel:type"]) == {"batch", "machine"}
    assert len(ocel.relations) == 2 * levy_sample.num_rows
    mapping = {"format": "ocel", "path": "levy.sqlite", "case_object_type": "batch", "duplicates": "keep"}
    mapping["columns"] = {
        "start_ts": "start_ts",
        "machine": "ocel:object:machine",
        "quantity": "produced_qty",
    }
    loaded = load_events(parse_mapping(mapping, tmp_path))
    assert loaded.quarantine.num_rows == 0
    assert _step_set(loaded.events) == _step_set(levy_sample)


def _step_set(table: pa.Table) -> list[tuple]:
    columns = ["case_id", "activity", "machine_id", "start_ts", "end_ts"]
    return sorted(zip(*(table[c].to_pylist() for c in columns), strict=True))


def test_xes_export_round_trips_through_pm4py(tmp_path: Path, levy_sample: pa.Table) -> None:
    import pandas as pd
    import pm4py

    export_xes(levy_sample.to_pandas(), tmp_path / "levy.xes")
    log = pm4py.read_xes(str(tmp_path / "levy.xes"))
    assert set(log["case:concept:name"]) == set(levy_sample["case_id"].to_pylist())
    assert len(log) == 2 * levy_sample.num_rows
    assert log["time:timestamp"].dt.tz is not None
    for transition, column in (("start", "start_ts"), ("complete", "end_ts")):
        part = log[log["lifecycle:transition"] == transition]
        read = sorted(
            zip(
                part["case:concept:name"],
                part["concept:name"],
                part["time:timestamp"].dt.tz_convert("UTC"),
                strict=True,
            )
        )
        written = sorted(
            (c, a, pd.Timestamp(t))
            for c, a, t in zip(
                *(levy_sample[n].to_pylist() for n in ("case_id", "activity", column)), strict=True
            )
        )
        assert read == written
    # and our own reader pairs the lifecycle events back into the same steps
    pairs = {"format": "xes", "path": "levy.xes", "lifecycle": "pair", "duplicates": "keep"}
    pairs = parse_mapping(pairs, tmp_path)
    assert _step_set(load_events(pairs).events) == _step_set(levy_sample)


# --- factory days and master data -------------------------------------------------------------------------


def test_split_by_factory_day_follows_the_factory_calendar() -> None:
    starts = [
        _utc(2026, 3, 28, 4, 59),  # 05:59 CET on the 28th: still factory day 27 March
        _utc(2026, 3, 28, 5, 0),  # 06:00 CET: factory day 28 March
        _utc(2026, 3, 29, 3, 59),  # 05:59 CEST after the spring change: still 28 March (a 23 h day)
        _utc(2026, 3, 29, 4, 0),  # 06:00 CEST: 29 March
    ]
    events = _events_table(starts)
    days = split_by_factory_day(events, FactoryCalendar("Europe/Berlin", 6))
    assert {day: t["event_id"].to_pylist() for day, t in days.items()} == {
        "2026-03-27": ["E0"],
        "2026-03-28": ["E1", "E2"],
        "2026-03-29": ["E3"],
    }
    for stamp, event_id in zip(starts, events["event_id"].to_pylist(), strict=True):
        day = FactoryCalendar("Europe/Berlin", 6).day_of(stamp).isoformat()
        assert event_id in days[day]["event_id"].to_pylist()
    assert split_by_factory_day(events.slice(0, 0), FactoryCalendar("Europe/Berlin", 6)) == {}


def _events_table(starts: list[datetime], machines: list[str] | None = None) -> pa.Table:
    n = len(starts)
    machines = machines or ["M1"] * n
    return pa.table(
        {
            "event_id": [f"E{i}" for i in range(n)],
            "case_id": ["B1"] * n,
            "product_id": [None] * n,
            "activity": [f"Step{i % 2}" for i in range(n)],
            "line_id": ["L1"] * n,
            "machine_id": machines,
            "crew_id": [None] * n,
            "start_ts": starts,
            "end_ts": starts,
            "produced_qty": [1] * n,
            "good_qty": [1] * n,
            "scrap_qty": [0] * n,
            "is_rework": [False] * n,
        },
        schema=RAW_TABLES["production_events"],
    )


def test_derive_machines_from_events_leaves_planned_runtime_null() -> None:
    start = _utc(2026, 11, 9, 8)
    machines = derive_machines(_events_table([start] * 3, ["M2", "M1", "M1"]))
    assert machines.schema == RAW_TABLES["machines"]
    assert _rows(machines) == [
        {
            "machine_id": "M1",
            "line_id": "L1",
            "activity": "Step0",  # Step0 and Step1 once each: ties go to the first name
            "room_id": None,
            "planned_runtime_per_unit_s": None,
            "conversion_cost_per_hour": None,
            "material_cost_share": None,
        },
        {
            "machine_id": "M2",
            "line_id": "L1",
            "activity": "Step0",
            "room_id": None,
            "planned_runtime_per_unit_s": None,
            "conversion_cost_per_hour": None,
            "material_cost_share": None,
        },
    ]


def test_machines_csv_master_data(tmp_path: Path) -> None:
    good = tmp_path / "machines.csv"
    good.write_text(
        "machine_id,line_id,activity,room_id,planned_runtime_per_unit_s\n"
        "COAT-01,L1,Coating,R1,0.5\nCAL-01,L1,Calendering,R1,\n",
        encoding="utf-8",
    )
    machines = load_machines_csv(good)
    assert machines.schema == RAW_TABLES["machines"]
    assert machines["planned_runtime_per_unit_s"].to_pylist() == [0.5, None]
    bad = tmp_path / "bad_machines.csv"
    bad.write_text(
        "machine_id,line_id,activity,room_id,planned_runtime_per_unit_s\nCOAT-01,L1,Coating,R1,fast\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match=r"bad_machines\.csv: line 2: field 'planned_runtime_per_unit_s'"):
        load_machines_csv(bad)
    lacking = tmp_path / "lacking.csv"
    lacking.write_text("machine_id,line_id\nCOAT-01,L1\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"lacking\.csv.*'activity'"):
        load_machines_csv(lacking)


# --- the real samples in ../shared ------------------------------------------------------------------------

needs_real_data = pytest.mark.skipif(not REAL_DATA.is_dir(), reason="../shared/data/real is not present")


@pytest.fixture(scope="module")
def levy() -> pa.Table:
    if not (REAL_DATA / "production_levy2014.csv.gz").is_file():
        pytest.skip("the Levy 2014 production log is not in ../shared/data/real")
    loaded = load_events(load_mapping(MAPPINGS / "levy2014.yaml"))
    _check_invariant(loaded)
    return loaded


@pytest.fixture(scope="module")
def levy_sample(levy) -> pa.Table:
    """The first 20 cases of the Levy log: real, overlapping, with repeats."""
    cases = sorted(set(levy.events["case_id"].to_pylist()))[:20]
    return levy.events.filter(pc.is_in(levy.events["case_id"], pa.array(cases)))


def test_levy_2014_loads_every_operation(levy) -> None:
    events = levy.events
    assert (levy.rows_in, events.num_rows, levy.quarantine.num_rows) == (4503, 4503, 0)
    assert len(pc.unique(events["case_id"])) == 225
    assert len(pc.unique(events["activity"])) == 24
    assert len(pc.unique(events["machine_id"])) == 46
    first = _rows(events.slice(0, 1))[0]  # Case1,2012-01-30T04:24:00 (UTC+2),...,Turning & Milling,ID4932
    assert first["event_id"] == "production_levy2014-L2"
    assert first["start_ts"] == _utc(2012, 1, 30, 2, 24) and first["machine_id"] == "ID4932"
    days = split_by_factory_day(events, FactoryCalendar("Etc/GMT-2", 5))
    assert sum(t.num_rows for t in days.values()) == 4503
    assert derive_machines(events).num_rows == 46


def test_levy_2014_has_51_exact_repeats_that_strict_mode_quarantines(levy) -> None:
    mapping = load_mapping(MAPPINGS / "levy2014.yaml").model_copy(update={"duplicates": "quarantine"})
    strict = load_events(mapping)
    assert (strict.events.num_rows, strict.quarantine.num_rows) == (4452, 51)
    assert set(strict.quarantine["field"].to_pylist()) == {"event"}


def test_source_dir_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "production_levy2014.csv.gz").write_bytes(
        gzip.compress(b"case_id,start_time,end_time,Activity,Resource\nC1,2012-01-30T04:24:00,,Packing,ID1\n")
    )
    monkeypatch.setenv(SOURCE_DIR_ENV, str(tmp_path))
    loaded = load_events(load_mapping(MAPPINGS / "levy2014.yaml"))
    assert loaded.rows_in == 1 and _rows(loaded.quarantine)[0]["reason"] == "missing end_ts timestamp"


@needs_real_data
def test_running_example_xes_loads() -> None:
    loaded = load_events(parse_mapping({"format": "xes", "path": "running-example.xes"}, REAL_DATA))
    _check_invariant(loaded)
    assert (loaded.rows_in, loaded.events.num_rows) == (42, 42)
    assert len(pc.unique(loaded.events["case_id"])) == 6
    first = _rows(loaded.events.slice(0, 1))[0]  # 2010-12-30T14:32:00.000+01:00, register request, Pete
    assert (first["case_id"], first["activity"], first["machine_id"]) == ("3", "register request", "Pete")
    assert first["start_ts"] == first["end_ts"] == _utc(2010, 12, 30, 13, 32)


@needs_real_data
def test_ocel2_sqlite_example_loads() -> None:
    resources = ["pr_creator", "pr_approver", "po_creator", "po_editor"]
    resources += ["invoice_inserter", "invoice_blocker", "invoice_block_rem", "payment_inserter"]
    mapping = parse_mapping(
        {
            "format": "ocel",
            "path": "ocel20_example.sqlite",
            "case_object_type": "Purchase Order",
            "columns": {"machine": resources},
        },
        REAL_DATA,
    )
    loaded = load_events(mapping)
    _check_invariant(loaded)
    # 13 events; 5 concern a purchase order (2 orders), the other 8 are quarantined as linked to none
    assert (loaded.rows_in, loaded.events.num_rows, loaded.quarantine.num_rows) == (13, 5, 8)
    assert sorted(set(loaded.events["case_id"].to_pylist())) == ["PO1", "PO2"]
    assert set(loaded.quarantine["field"].to_pylist()) == {"case_id"}
    assert date(2022, 1, 10) == loaded.events["start_ts"].to_pylist()[0].date()


def test_a_plant_export_lands_as_factory_days_with_its_master_data(tmp_path: Path) -> None:
    text = (
        "batch,step,started,finished,machine\n"
        "B1,Coating,2026-11-09T08:00:00,2026-11-09T09:00:00,COAT-01\n"
        "B1,Calendering,2026-11-10T05:00:00,2026-11-10T05:30:00,CAL-01\n"  # before 06:00: still the 9th
        "B2,Coating,2026-11-10T07:00:00,2026-11-10T08:00:00,COAT-01\n"
        "B2,Slitting,2026-11-10T09:00:00,2026-11-10T10:00:00,SLIT-09\n"  # not in the master data
    )
    machines_csv = tmp_path / "machines.csv"
    machines_csv.write_text(
        "machine_id,line_id,activity,room_id,planned_runtime_per_unit_s\n"
        "COAT-01,ELEC-1,Coating,R1,2.0\nCAL-01,ELEC-1,Calendering,R1,1.4\n"
    )
    mapping = load_mapping(_csv_source(tmp_path, text))
    calendar = FactoryCalendar(mapping.factory_timezone, mapping.day_start_hour)
    export = read_plant_export(mapping, calendar, machines_csv)
    assert export.loaded.rows_in == 4 and export.loaded.quarantine["source_line"].to_pylist() == [5]
    assert sorted(export.days) == ["2026-11-09", "2026-11-10"]
    ninth = export.raw_tables("2026-11-09")
    assert set(ninth) == set(RAW_TABLES)
    assert ninth["production_events"]["activity"].to_pylist() == ["Coating", "Calendering"]
    assert ninth["machines"]["planned_runtime_per_unit_s"].to_pylist() == [2.0, 1.4]
    assert (
        ninth["machine_states"].num_rows == 0
        and ninth["machine_states"].schema == RAW_TABLES["machine_states"]
    )
    quiet = export.raw_tables("2026-11-11")  # a day without events: empty, not missing
    assert quiet["production_events"].num_rows == 0 and quiet["machines"].num_rows == 2
    assert export.day_fingerprints().keys() == export.days.keys()
