"""A landed day's genealogy continues each batch from its earlier landed days: the cells a batch made before
midnight go on after it, each object is declared once, and a day's tables do not depend on later days."""

from __future__ import annotations

import json
from datetime import date, timedelta

import duckdb
import pyarrow as pa
import pytest

from orchestration.genealogy import model as m
from orchestration.genealogy.cli import main
from orchestration.genealogy.landed import expand_landed_day
from orchestration.genealogy.trace import backward_in_warehouse, forward_in_warehouse
from orchestration.lake.writer import write_partition
from orchestration.simulator import load_scenario
from orchestration.simulator.engine import run_factory_day
from tests.conftest import SMALL_SCENARIO

# Saturday to Monday: batches cross two midnights, one of them a week's end (the plant runs on: no restart).
DAYS = [(date(2026, 11, 14) + timedelta(days=k)).isoformat() for k in range(3)]


@pytest.fixture(scope="module")
def landed(tmp_path_factory):
    """Three consecutive days of the tiny plant landed in a lake, and each day's genealogy."""
    config = load_scenario(SMALL_SCENARIO)
    lake = tmp_path_factory.mktemp("lake")
    events = []
    for day in DAYS:
        tables = run_factory_day(config, date.fromisoformat(day)).tables
        for table in ("production_events", "machines"):
            write_partition(lake, table, day, tables[table])
        events.append(tables["production_events"])
    genealogy = {day: expand_landed_day(config, lake, day) for day in DAYS}
    return config, lake, pa.concat_tables(events), genealogy


def _connect(events: pa.Table, genealogy: dict[str, dict[str, pa.Table]]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.register("production_events", events)
    for name in next(iter(genealogy.values())):
        tagged = [
            t.append_column("day", pa.repeat(pa.scalar(d), t.num_rows))
            for d, ts in genealogy.items()
            for t in [ts[name]]
        ]
        con.register(name, pa.concat_tables(tagged))
    return con


def test_each_cell_and_event_is_declared_once_over_the_days(landed):
    _, _, events, genealogy = landed
    con = _connect(events, genealogy)
    assert con.sql("select count(*) - count(distinct ocel_id) from event").fetchall()[0] == (0,)
    per_type = dict(
        con.sql("select ocel_type, count(*) - count(distinct ocel_id) from object group by 1").fetchall()
    )
    material = (m.SLURRY, m.COIL, m.SEGMENT, m.ROLL, m.CELL, m.TRAY)
    assert {kind: per_type[kind] for kind in material} == dict.fromkeys(material, 0)
    assert per_type[m.MACHINE] > 0  # machines are named on every day they work, the warehouse keeps one


def test_batches_go_on_across_midnight_with_the_cells_they_made(landed):
    _, _, events, genealogy = landed
    con = _connect(events, genealogy)
    # Every cell step's batch event, on every day: its produced_qty cells have an event each, its scrap ends.
    rows = con.sql(
        f"""select p.event_id, p.activity, p.produced_qty, p.scrap_qty, count(*),
                   count(*) filter (where eo.ocel_qualifier = '{m.SCRAPPED}')
            from production_events p join event e on e.batch_event_id = p.event_id
            join event_object eo on eo.ocel_event_id = e.ocel_id
            join object o on o.ocel_id = eo.ocel_object_id and o.ocel_type = '{m.CELL}'
            group by all"""
    ).fetchall()
    assert len(rows) > 100
    assert [r for r in rows if (r[2], r[3]) != (r[4], r[5])] == []
    # Batches stacked on one day and graded on the next: their next day's events name the cells made before.
    crossing = con.sql(
        f"""select count(distinct o.ocel_id) from event e
            join event_object eo on eo.ocel_event_id = e.ocel_id
            join object o on o.ocel_id = eo.ocel_object_id and o.ocel_type = '{m.CELL}'
            where e.day > o.day"""
    ).fetchall()[0][0]
    assert crossing > 500
    # Their status ends graded, packed or scrapped on the later day, never left "in process" where it ended.
    assert (
        con.sql(
            f"""select count(*) from object_attribute a join object o on o.ocel_id = a.ocel_id
            where o.ocel_type = '{m.CELL}' and a.name = 'status' and a.day > o.day
              and a.value_str in ('{m.GRADED}', '{m.STATUS_PACKED}', '{m.STATUS_SCRAPPED}')"""
        ).fetchall()[0][0]
        > 0
    )


def test_a_day_does_not_depend_on_the_days_landed_after_it(landed, tmp_path):
    config, _, _, genealogy = landed
    # The first two days alone in a fresh lake: the second day's tables are the same row for row.
    for day in DAYS[:2]:
        tables = run_factory_day(config, date.fromisoformat(day)).tables
        for table in ("production_events", "machines"):
            write_partition(tmp_path, table, day, tables[table])
    again = expand_landed_day(config, tmp_path, DAYS[1])
    for name, table in genealogy[DAYS[1]].items():
        assert again[name].equals(table), name


def test_a_thin_segment_coated_before_midnight_is_traced_over_the_days_of_the_warehouse(
    landed, tmp_path, capsys
):
    """The warehouse's traces follow a coil across days: a segment coated on one day, its cells stacked
    and graded on the next. Forward from it: exactly its cells (precision and recall 1.0), with the lower
    capacity a thin coating gives; backward from one of them: the segment. The command line reads the same."""
    config, lake, events, _ = landed
    coated = {e["case_id"]: e for e in events.to_pylist() if e["activity"] == "Coating"}
    stacked = {e["case_id"]: e for e in events.to_pylist() if e["activity"] == "Stacking"}
    case_id = next(
        c for c in sorted(coated) if c in stacked and coated[c]["event_id"][:10] < stacked[c]["event_id"][:10]
    )
    coil = m.coil_id(case_id, "C", 1)
    scenario = tmp_path / "thin.yaml"
    scenario.write_text(
        f"base: {SMALL_SCENARIO}\n"
        f"genealogy: {{bad_segment: {{coil: {coil}, segment: 12, thickness_shift_um: -4.0}}}}\n"
    )
    planted = load_scenario(scenario)
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema ocel")
        for table, name in {
            "event": "event",
            "event_object": "event_object",
            "object": "object_by_day",
            "object_object": "object_object_by_day",
            "object_attribute": "object_attribute_by_day",
        }.items():
            days = []
            for day in DAYS:
                rows = expand_landed_day(planted, lake, day)[table]
                days.append(
                    rows.append_column(
                        "production_date", pa.repeat(pa.scalar(date.fromisoformat(day)), len(rows))
                    )
                )
            con.register("rows", pa.concat_tables(days))
            con.execute(f"create table ocel.{name} as select * from rows")
            con.unregister("rows")
        made = {
            r[0]
            for r in con.execute(
                "select ocel_id from ocel.object_by_day where ocel_type = ? and starts_with(ocel_id, ?)",
                [m.CELL, case_id + "-"],
            ).fetchall()
        }
        truth = {m.cell_id(case_id, k) for k in m.numbers_cut_from(1, 12, planted.batch_size_cells)} & made
        assert len(truth) >= 20
        segment = m.segment_id(coil, 12)
        found = forward_in_warehouse(con, segment).to_pylist()
        assert {r["cell_id"] for r in found} == truth  # precision and recall 1.0
        batch = forward_in_warehouse(con, m.slurry_id(case_id, "C")).to_pylist()
        assert {r["cell_id"] for r in batch} == made
        thin = [r["capacity_ah"] for r in batch if r["cell_id"] in truth and r["capacity_ah"] is not None]
        rest = [r["capacity_ah"] for r in batch if r["cell_id"] not in truth and r["capacity_ah"] is not None]
        assert sum(rest) / len(rest) - sum(thin) / len(thin) > 1.0
        upstream = {r["object_id"] for r in backward_in_warehouse(con, sorted(truth)[0]).to_pylist()}
        assert {segment, coil, m.slurry_id(case_id, "C")} <= upstream
    code = main(["trace", "--forward", segment, "--warehouse", str(warehouse), "--json"])
    document = json.loads(capsys.readouterr().out)
    assert code == 0 and {r["cell_id"] for r in document["rows"]} == truth
