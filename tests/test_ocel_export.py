"""OCEL 2.0 export from the warehouse's `ocel` schema: a factory-day window read back as the five OCEL tables,
written as JSON and SQLite that validate against the OCEL 2.0 schema and that pm4py reads back; the export
command picks the per-cell log where the warehouse has one for the window, the batch-level log otherwise."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pm4py
import pyarrow as pa
import pytest

from orchestration.connectors import export_cli
from orchestration.genealogy import OCEL_SCHEMAS, expand_day, to_json, to_sqlite
from orchestration.genealogy.export import read_window, warehouse_window_events
from orchestration.simulator.config import load_scenario
from orchestration.simulator.engine import run_factory_day

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "data" / "scenarios" / "test_small.yaml"
SCHEMA = REPO.parent / "shared" / "data" / "real" / "pm4py" / "schema_ocel2.json"
DAY = date(2026, 11, 10)
BEFORE, AFTER, LATER = DAY - timedelta(days=1), DAY + timedelta(days=1), DAY + timedelta(days=2)
NOON = datetime(2026, 11, 9, 12, tzinfo=UTC)

needs_schema = pytest.mark.skipif(
    not SCHEMA.exists(), reason="the OCEL 2.0 schema is in ../shared (real data)"
)


def _rows(table: pa.Table) -> list[tuple]:
    return sorted((tuple(row.values()) for row in table.to_pylist()), key=repr)


def _table(name: str, rows: list[tuple]) -> pa.Table:
    return pa.Table.from_pylist([dict(zip(OCEL_SCHEMAS[name].names, row, strict=True)) for row in rows])


@pytest.fixture(scope="module")
def plant(tmp_path_factory):
    """The tiny plant with 15 batches a day of 100 cells (small enough to validate quickly): its day's OCEL
    tables and batch steps, in a warehouse whose `ocel` schema also holds rows of the days around it."""
    folder = tmp_path_factory.mktemp("ocel_export")
    scenario = folder / "small_batches.yaml"
    scenario.write_text(f"base: {TINY}\nbatch_size_cells: 100\nrelease: {{batches_per_day: 15}}\n")
    config = load_scenario(scenario)
    factory_day = run_factory_day(config, DAY)
    day = expand_day(config, factory_day)
    cell = day["object"].filter(pa.compute.equal(day["object"]["ocel_type"], "cell"))["ocel_id"][0].as_py()
    # Around the day: an object of the day before that the window names (with its attribute of that day),
    # and the next day's event, objects and changes, which the window must leave out.
    extra = {
        "event": [("E-BEFORE", "Mixing", NOON, "X", BEFORE), ("E-AFTER", "Packing", NOON, "X", AFTER)],
        "object": [("OLD-SLURRY", "slurry batch"), ("GONE", "crew"), ("NEW", "tray")],
        "event_object": [("E-BEFORE", "GONE", "crew", BEFORE), ("E-AFTER", "NEW", "tray", AFTER)],
        "object_object": [(cell, "OLD-SLURRY", "made of", DAY), ("NEW", cell, "holds", AFTER)],
        "object_attribute": [
            ("OLD-SLURRY", NOON, "viscosity_pa_s", 4.2, None, BEFORE),
            (cell, NOON + timedelta(days=2), "status", None, "shipped", AFTER),
        ],
    }
    warehouse = folder / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CREATE SCHEMA ocel")
        for name, table in day.items():
            if name != "object":
                table = table.append_column("production_date", pa.array([DAY] * table.num_rows, pa.date32()))
            rows = pa.Table.from_pylist(
                [dict(zip(table.schema.names, row, strict=True)) for row in extra[name]], schema=table.schema
            )
            con.register("day_rows", pa.concat_tables([table, rows]))
            con.execute(f"CREATE TABLE ocel.{name} AS SELECT * FROM day_rows")
            con.unregister("day_rows")
        # The same warehouse in dbt's layout: relations and attribute values by day (each day stating them
        # again), and views without the day that hold each once.
        con.execute("CREATE SCHEMA ocel_dbt")
        con.execute("CREATE VIEW ocel_dbt.event AS SELECT * FROM ocel.event")
        con.execute("CREATE VIEW ocel_dbt.event_object AS SELECT * FROM ocel.event_object")
        con.execute(
            f"CREATE VIEW ocel_dbt.object AS SELECT *, DATE '{DAY}' AS first_production_date FROM ocel.object"
        )
        for name in ("object_object", "object_attribute"):
            con.execute(f"CREATE TABLE ocel_dbt.{name}_by_day AS SELECT * FROM ocel.{name}")
            con.execute(f"INSERT INTO ocel_dbt.{name}_by_day SELECT * FROM ocel.{name}")
            con.execute(
                f"CREATE VIEW ocel_dbt.{name} AS SELECT DISTINCT * EXCLUDE (production_date) FROM ocel.{name}"
            )
        # the batch steps of the day, and a copy of a few on a later day that the ocel schema does not hold
        steps = factory_day.tables["production_events"]
        con.register("steps", steps)
        con.execute("CREATE SCHEMA marts")
        con.execute(
            f"CREATE TABLE marts.fct_process_events AS SELECT *, DATE '{DAY}' AS production_date FROM steps"
        )
        con.execute(
            f"INSERT INTO marts.fct_process_events SELECT * REPLACE ('L-' || event_id AS event_id), "
            f"DATE '{LATER}' FROM steps LIMIT 5"
        )
    return {"day": day, "cell": cell, "warehouse": warehouse, "steps": steps.num_rows, "folder": folder}


@pytest.fixture(scope="module")
def window(plant):
    with duckdb.connect(str(plant["warehouse"]), read_only=True) as con:
        return read_window(con, DAY, DAY)


def test_a_window_holds_its_days_events_and_relations_and_every_object_they_name(plant, window):
    day, cell = plant["day"], plant["cell"]
    assert {name: table.schema for name, table in window.items()} == OCEL_SCHEMAS
    assert _rows(window["event"]) == _rows(day["event"])
    assert _rows(window["event_object"]) == _rows(day["event_object"])
    made_of = _table("object_object", [(cell, "OLD-SLURRY", "made of")])
    assert _rows(window["object_object"]) == _rows(pa.concat_tables([day["object_object"], made_of]))
    # objects: those the day's events and relations name, the one of the day before included
    named = set(day["event_object"]["ocel_object_id"].to_pylist())
    named |= set(day["object_object"]["ocel_source_id"].to_pylist())
    named |= set(day["object_object"]["ocel_target_id"].to_pylist())
    objects = [row for row in _rows(day["object"]) if row[0] in named] + [("OLD-SLURRY", "slurry batch")]
    assert _rows(window["object"]) == sorted(objects, key=repr)
    # their attributes up to the window's last day: the next day's change of the cell is not in it
    attributes = [row for row in _rows(day["object_attribute"]) if row[0] in named]
    attributes.append(("OLD-SLURRY", NOON, "viscosity_pa_s", 4.2, None))
    assert _rows(window["object_attribute"]) == sorted(attributes, key=repr)


def test_a_window_reads_the_same_from_dbts_layout_of_the_schema(plant, window):
    with duckdb.connect(str(plant["warehouse"]), read_only=True) as con:
        tables = read_window(con, DAY, DAY, schema="ocel_dbt")
    assert {name: _rows(table) for name, table in tables.items()} == {
        name: _rows(table) for name, table in window.items()
    }


def test_a_window_of_two_days_takes_the_next_days_rows_too(plant):
    with duckdb.connect(str(plant["warehouse"]), read_only=True) as con:
        tables = read_window(con, DAY, AFTER)
        assert warehouse_window_events(con, DAY, AFTER) == plant["day"]["event"].num_rows + 1
        assert warehouse_window_events(con, LATER, LATER) == 0
    assert "E-AFTER" in tables["event"]["ocel_id"].to_pylist()
    assert (
        "NEW" in tables["object"]["ocel_id"].to_pylist()
        and "GONE" not in tables["object"]["ocel_id"].to_pylist()
    )
    assert "shipped" in tables["object_attribute"]["value_str"].to_pylist()


def test_a_warehouse_without_the_ocel_schema_has_no_window(tmp_path):
    with duckdb.connect(str(tmp_path / "empty.duckdb")) as con:
        assert warehouse_window_events(con, DAY, DAY) == 0


@pytest.fixture(scope="module")
def exported(plant, window):
    folder = plant["folder"]
    return to_json(window, folder / "window.jsonocel"), to_sqlite(window, folder / "window.sqlite")


def _sqlite_document(path: Path) -> dict:
    """The OCEL 2.0 JSON document that an OCEL 2.0 SQLite file holds, read with sqlite3 alone: its events with
    their attributes and relations, its objects with their attribute values over time and their relations."""
    db = sqlite3.connect(path)

    def rows(query: str) -> list[dict]:
        cursor = db.execute(query)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor]

    def iso(text: str) -> str:
        return text.replace(" ", "T") + "Z"

    def relations(query: str) -> dict[str, list[dict]]:
        related: dict[str, list[dict]] = {}
        for source, target, qualifier in db.execute(query):
            related.setdefault(source, []).append({"objectId": target, "qualifier": qualifier})
        return related

    types = {"event": {}, "object": {}}
    for kind in types:
        for row in rows(f"SELECT * FROM {kind}_map_type"):
            types[kind][row["ocel_type"]] = rows(f"SELECT * FROM {kind}_{row['ocel_type_map']}")
    core = {"ocel_id", "ocel_time", "ocel_changed_field"}
    event_type = dict(db.execute("SELECT ocel_id, ocel_type FROM event"))
    object_type = dict(db.execute("SELECT ocel_id, ocel_type FROM object"))
    event_links = relations("SELECT ocel_event_id, ocel_object_id, ocel_qualifier FROM event_object")
    object_links = relations("SELECT ocel_source_id, ocel_target_id, ocel_qualifier FROM object_object")
    events, objects, attributes = [], [], {}
    for name, table in types["event"].items():
        for row in table:
            assert event_type[row["ocel_id"]] == name
            events.append(
                {
                    "id": row["ocel_id"],
                    "type": name,
                    "time": iso(row["ocel_time"]),
                    "attributes": [{"name": k, "value": str(v)} for k, v in row.items() if k not in core],
                    "relationships": event_links.get(row["ocel_id"], []),
                }
            )
    for row in (r for table in types["object"].values() for r in table):
        changed = (
            [row["ocel_changed_field"]] if row["ocel_changed_field"] else [k for k in row if k not in core]
        )
        values = [{"name": k, "value": str(row[k]), "time": iso(row["ocel_time"])} for k in changed]
        attributes.setdefault(row["ocel_id"], []).extend(v for v in values if row[v["name"]] is not None)
    for object_id, name in object_type.items():
        objects.append(
            {
                "id": object_id,
                "type": name,
                "attributes": attributes.get(object_id, []),
                "relationships": object_links.get(object_id, []),
            }
        )
    declared = {
        kind: [
            {
                "name": name,
                "attributes": [
                    {"name": c, "type": "string"} for c in (table[:1] or [{}])[0] if c not in core
                ],
            }
            for name, table in types[kind].items()
        ]
        for kind in types
    }
    db.close()
    return {
        "eventTypes": declared["event"],
        "objectTypes": declared["object"],
        "events": events,
        "objects": objects,
    }


def _content(document: dict) -> dict[str, list]:
    """What a document says, comparably: times as instants, numbers as numbers, lists as sorted rows."""

    def instant(text: str) -> datetime:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    def value(text: str):
        try:
            return float(text)
        except ValueError:
            return text

    return {
        "events": sorted(
            (e["id"], e["type"], instant(e["time"]), sorted((a["name"], a["value"]) for a in e["attributes"]))
            for e in document["events"]
        ),
        "event_object": sorted(
            (e["id"], r["objectId"], r["qualifier"]) for e in document["events"] for r in e["relationships"]
        ),
        "objects": sorted((o["id"], o["type"]) for o in document["objects"]),
        "object_object": sorted(
            (o["id"], r["objectId"], r["qualifier"]) for o in document["objects"] for r in o["relationships"]
        ),
        "object_attribute": sorted(
            (
                (o["id"], a["name"], instant(a["time"]), value(a["value"]))
                for o in document["objects"]
                for a in o["attributes"]
            ),
            key=repr,
        ),
    }


def test_the_sqlite_export_holds_the_same_log_as_the_json_export(exported):
    json_path, sqlite_path = exported
    assert _content(_sqlite_document(sqlite_path)) == _content(json.loads(json_path.read_text()))


@needs_schema
def test_the_window_exports_validate_against_the_ocel_2_schema(exported):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA.read_text())
    json_path, sqlite_path = exported
    document = json.loads(json_path.read_text())
    jsonschema.validate(document, schema)
    assert len(document["events"]) > 1000 and len({o["type"] for o in document["objects"]}) >= 5
    # SQLite is not JSON: the document it holds (the same as the JSON's, as the test above shows) validates
    jsonschema.validate(_sqlite_document(sqlite_path), schema)


def test_pm4py_reads_the_window_back_from_json_and_sqlite_with_every_object_type(window, exported):
    # pm4py keeps the objects that take part in an event, and the relations between those (the slurry of
    # the day before is linked by an object-to-object relation only: valid OCEL 2.0, not read back)
    linked = set(window["event_object"]["ocel_object_id"].to_pylist())
    types = {t for i, t in zip(*window["object"].columns, strict=True) if i.as_py() in linked}
    o2o = window["object_object"]
    pairs = zip(o2o["ocel_source_id"].to_pylist(), o2o["ocel_target_id"].to_pylist(), strict=True)
    between_linked = [pair for pair in pairs if set(pair) <= linked]
    logs = [pm4py.read_ocel2_json(str(exported[0])), pm4py.read_ocel2_sqlite(str(exported[1]))]
    for log in logs:
        assert len(log.events) == window["event"].num_rows
        assert len(log.objects) == len(linked)
        assert log.objects["ocel:type"].nunique() == len(types) >= 5
        assert len(log.relations) == window["event_object"].num_rows
        assert len(log.o2o) == len(between_linked)
    # both files hold the same log
    by_json, by_sqlite = logs
    relations = ["ocel:eid", "ocel:oid", "ocel:qualifier"]
    assert sorted(map(tuple, by_json.relations[relations].values)) == sorted(
        map(tuple, by_sqlite.relations[relations].values)
    )
    assert sorted(by_json.events["ocel:timestamp"]) == sorted(by_sqlite.events["ocel:timestamp"])


def test_the_export_command_writes_the_per_cell_log_where_the_warehouse_has_it(plant, tmp_path, capsys):
    arguments = ["--from", str(DAY), "--to", str(DAY), "--warehouse", str(plant["warehouse"])]
    assert export_cli.main([*arguments, "--out", str(tmp_path / "json")]) == 0
    said = capsys.readouterr().out
    assert f"{plant['steps']} steps" in said and "per-cell" in said
    log = pm4py.read_ocel2_json(str(tmp_path / "json" / "event_log.jsonocel"))
    assert len(log.events) == plant["day"]["event"].num_rows
    assert log.objects["ocel:type"].nunique() >= 5
    assert export_cli.main([*arguments, "--out", str(tmp_path / "sqlite"), "--ocel-format", "sqlite"]) == 0
    assert "per-cell" in capsys.readouterr().out
    log = pm4py.read_ocel2_sqlite(str(tmp_path / "sqlite" / "event_log.sqlite"))
    assert len(log.events) == plant["day"]["event"].num_rows
    assert pm4py.read_xes(str(tmp_path / "sqlite" / "event_log.xes"))["case:concept:name"].nunique() > 1


def test_the_export_command_writes_the_batch_level_log_where_the_window_has_no_cells(plant, tmp_path, capsys):
    arguments = ["--from", str(LATER), "--to", str(LATER), "--warehouse", str(plant["warehouse"])]
    assert export_cli.main([*arguments, "--out", str(tmp_path)]) == 0
    said = capsys.readouterr().out
    assert "5 steps" in said and "batch-level: 5 events, 2 object types" in said
    log = pm4py.read_ocel2_json(str(tmp_path / "event_log.jsonocel"))
    assert set(log.objects["ocel:type"]) == {"batch", "machine"}
    assert len(log.events) == 5 and len(log.relations) == 10
