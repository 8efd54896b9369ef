"""A landed day's genealogy continues each batch from its earlier landed days: the cells a batch made before
midnight go on after it, each object is declared once, and a day's tables do not depend on later days."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pyarrow as pa
import pytest

from orchestration.genealogy import model as m
from orchestration.genealogy.landed import expand_landed_day
from orchestration.lake.writer import write_partition
from orchestration.simulator.engine import run_factory_day
from tests.conftest import SMALL_SCENARIO

DAYS = [(date(2026, 11, 10) + timedelta(days=k)).isoformat() for k in range(3)]  # Tuesday to Thursday


@pytest.fixture(scope="module")
def landed(tmp_path_factory):
    """Three consecutive days of the tiny plant landed in a lake, and each day's genealogy."""
    from orchestration.simulator import load_scenario

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
