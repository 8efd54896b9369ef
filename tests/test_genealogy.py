"""Per-cell traceability on the tiny plant: the objects of a simulated day, their traces, OCEL 2.0 exports."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pm4py
import pytest

from orchestration.genealogy import backward, expand_day, forward, to_json, to_sqlite
from orchestration.genealogy import model as m
from orchestration.genealogy.mining import batch_sample, oc_dfg, pm4py_log, pm4py_oc_dfg_edges
from orchestration.simulator.config import load_scenario
from orchestration.simulator.engine import run_factory_day

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "data" / "scenarios" / "test_small.yaml"
SCHEMA = REPO.parent / "shared" / "data" / "real" / "pm4py" / "schema_ocel2.json"
DAY = date(2026, 11, 10)
# A batch stacked and graded inside the day; its first anode coil gets one thin segment.
BAD_COIL, BAD_SEGMENT, SHIFT_UM = "B20261110-0003-A1", 7, -4.0


@pytest.fixture(scope="module")
def day():
    config = load_scenario(TINY)
    factory_day = run_factory_day(config, DAY)
    return config, factory_day, expand_day(config, factory_day)


@pytest.fixture(scope="module")
def planted(day, tmp_path_factory):
    """The same simulated day, expanded under a scenario that plants one thin coil segment."""
    config, factory_day, _ = day
    scenario = tmp_path_factory.mktemp("genealogy") / "bad_segment.yaml"
    scenario.write_text(
        f"base: {TINY}\n"
        f"genealogy: {{bad_segment: {{coil: {BAD_COIL}, segment: {BAD_SEGMENT}, "
        f"thickness_shift_um: {SHIFT_UM}}}}}\n"
    )
    planted_config = load_scenario(scenario)
    # The key touches only the genealogy: the simulated day is the same, so it is not simulated again.
    assert planted_config.model_copy(update={"genealogy": config.genealogy}) == config
    return planted_config, expand_day(planted_config, factory_day)


def sql(tables, query: str) -> list[tuple]:
    con = duckdb.connect()
    for name, table in tables.items():
        con.register(name, table)
    return con.sql(query).fetchall()


def test_every_cell_comes_from_one_anode_and_one_cathode_roll_each_roll_from_one_coil_of_its_slurry(day):
    _, _, tables = day
    per_cell = sql(
        tables,
        f"""SELECT o.ocel_id,
                   count(*) FILTER (WHERE oo.ocel_qualifier = '{m.ANODE_FROM}' AND t.ocel_type = '{m.ROLL}'),
                   count(*) FILTER (WHERE oo.ocel_qualifier = '{m.CATHODE_FROM}' AND t.ocel_type = '{m.ROLL}')
            FROM object o LEFT JOIN object_object oo ON oo.ocel_source_id = o.ocel_id
            LEFT JOIN object t ON t.ocel_id = oo.ocel_target_id
            WHERE o.ocel_type = '{m.CELL}' GROUP BY 1""",
    )
    assert len(per_cell) > 10_000
    assert {(a, c) for _, a, c in per_cell} == {(1, 1)}
    # Anode rolls come from anode coils, which come from the anode slurry of the same batch.
    chains = sql(
        tables,
        f"""SELECT r.ocel_id, count(DISTINCT c.ocel_target_id), count(DISTINCT s.ocel_target_id),
                   bool_and(s.ocel_target_id = regexp_extract(r.ocel_id, '^(B\\d+-\\d+-[AC])', 1))
            FROM object r
            JOIN object_object c ON c.ocel_source_id = r.ocel_id AND c.ocel_qualifier = '{m.SLIT_FROM}'
            JOIN object_object s
                ON s.ocel_source_id = c.ocel_target_id AND s.ocel_qualifier = '{m.COATED_WITH}'
            WHERE r.ocel_type = '{m.ROLL}' GROUP BY 1""",
    )
    rolls = sql(tables, f"SELECT count(*) FROM object WHERE ocel_type = '{m.ROLL}'")[0][0]
    assert len(chains) == rolls
    assert {row[1:] for row in chains} == {(1, 1, True)}


def test_cells_reconcile_with_the_batch_events_good_and_scrap(day):
    _, factory_day, tables = day
    tables = {**tables, "production_events": factory_day.tables["production_events"]}
    # Each cell step's batch event: its produced_qty cells have one event each, its scrap_qty cells end there.
    rows = sql(
        tables,
        f"""WITH cell_events AS (
                SELECT e.batch_event_id, eo.ocel_object_id AS cell, eo.ocel_qualifier
                FROM event e JOIN event_object eo ON eo.ocel_event_id = e.ocel_id
                JOIN object o ON o.ocel_id = eo.ocel_object_id AND o.ocel_type = '{m.CELL}'
            ), last_event AS (
                SELECT eo.ocel_object_id AS cell, arg_max(e.batch_event_id, e.ocel_time) AS last_id
                FROM event e JOIN event_object eo ON eo.ocel_event_id = e.ocel_id
                JOIN object o ON o.ocel_id = eo.ocel_object_id AND o.ocel_type = '{m.CELL}'
                WHERE e.ocel_type <> 'Packing' GROUP BY 1
            )
            SELECT p.event_id, p.activity, p.produced_qty, p.scrap_qty, count(*),
                   count(*) FILTER (WHERE c.ocel_qualifier = '{m.SCRAPPED}'),
                   count(*) FILTER (WHERE c.ocel_qualifier = '{m.SCRAPPED}' AND l.last_id = p.event_id),
                   count(*) FILTER (WHERE c.ocel_qualifier = '{m.CREATED}')
            FROM production_events p JOIN cell_events c ON c.batch_event_id = p.event_id
            LEFT JOIN last_event l ON l.cell = c.cell
            GROUP BY ALL""",
    )
    stacking = [r for r in rows if r[1] == "Stacking"]
    assert len(stacking) >= 10
    for _, activity, produced, scrap, cells, scrapped, ended_here, created in rows:
        assert cells == produced, activity
        assert scrapped == ended_here == scrap, activity
        assert created == (produced - scrap if activity == "Stacking" else 0), activity
    # The cells of the day are the Stacking events' produced_qty, and those of the batches stacked before
    # the day (no earlier events given) at their first cell step of the day.
    made = sql(tables, f"SELECT count(*) FROM object WHERE ocel_type = '{m.CELL}'")[0][0]
    first_seen = sql(
        tables,
        """SELECT sum(produced_qty) FROM (
               SELECT arg_min(produced_qty, start_ts) AS produced_qty FROM production_events
               WHERE activity NOT IN ('Mixing', 'Coating', 'Drying', 'Calendering', 'Slitting')
               GROUP BY case_id HAVING bool_and(activity <> 'Stacking'))""",
    )[0][0]
    assert first_seen > 0
    assert made == sum(r[2] for r in stacking) + first_seen


def test_a_planted_thin_segment_is_found_exactly_by_a_forward_trace_and_costs_capacity(planted):
    config, tables = planted
    case_id = BAD_COIL.rsplit("-", 1)[0]
    made = {
        r[0]
        for r in sql(
            tables, f"SELECT ocel_id FROM object WHERE ocel_type = '{m.CELL}' AND ocel_id LIKE '{case_id}-%'"
        )
    }
    truth = {
        m.cell_id(case_id, k) for k in m.numbers_cut_from(0, BAD_SEGMENT, config.batch_size_cells)
    } & made
    assert len(truth) >= 20

    found = forward(tables, m.segment_id(BAD_COIL, BAD_SEGMENT)).to_pylist()
    cells = {r["cell_id"] for r in found}
    assert len(cells & truth) / len(cells) == 1.0  # precision
    assert len(cells & truth) / len(truth) == 1.0  # recall
    assert {r["status"] for r in found} <= {m.STATUS_SCRAPPED, m.GRADED, m.STATUS_PACKED}

    batch = forward(tables, m.slurry_id(case_id, "A")).to_pylist()
    assert {r["cell_id"] for r in batch} == made
    bad = [r["capacity_ah"] for r in batch if r["cell_id"] in truth]
    good = [r["capacity_ah"] for r in batch if r["cell_id"] not in truth and r["capacity_ah"] is not None]
    drop = sum(good) / len(good) - sum(bad) / len(bad)
    # 4 um of 120 um is 3.3 % less active material: about 2 Ah of 61 Ah, far beyond the cell-to-cell spread.
    assert 1.0 < drop < 3.5
    # A thin segment also raises the internal resistance of exactly its cells.
    resistance = [(r["cell_id"] in truth, r["internal_resistance_mohm"]) for r in batch]
    thin = [v for is_bad, v in resistance if is_bad]
    rest = [v for is_bad, v in resistance if not is_bad and v is not None]
    assert sum(thin) / len(thin) > sum(rest) / len(rest) + 0.02


def test_the_planted_segment_changes_the_grading_of_exactly_its_own_cells(day, planted):
    _, _, healthy = day
    config, thin = planted
    case_id = BAD_COIL.rsplit("-", 1)[0]
    truth = {m.cell_id(case_id, k) for k in m.numbers_cut_from(0, BAD_SEGMENT, config.batch_size_cells)}
    changed = sql(
        {"healthy": healthy["object_attribute"], "thin": thin["object_attribute"]},
        """SELECT h.ocel_id, h.name FROM healthy h JOIN thin t USING (ocel_id, name, ocel_time)
           WHERE h.value_num IS DISTINCT FROM t.value_num""",
    )
    graded = {cell for cell, name in changed if name in ("capacity_ah", "internal_resistance_mohm")}
    measured = {r[0] for r in sql(thin, "SELECT ocel_id FROM object_attribute WHERE name = 'capacity_ah'")}
    assert graded == truth & measured and len(graded) >= 20  # each of its cells graded that day, no other
    segments = {obj for obj, name in changed if name in ("coating_thickness_um", "areal_loading_mg_cm2")}
    assert segments == {m.segment_id(BAD_COIL, BAD_SEGMENT)}
    # A forward trace from the coil finds the cells cut from either of its lanes and all its segments.
    coil_cells = {r["cell_id"] for r in forward(thin, BAD_COIL).to_pylist()}
    assert coil_cells == {
        c
        for c in {r["cell_id"] for r in forward(thin, m.slurry_id(case_id, "A")).to_pylist()}
        if m.position(int(c.rsplit("-", 1)[1]), config.batch_size_cells)[0] == 0
    }


def test_a_backward_trace_names_the_rolls_coils_segments_slurries_machines_crews_channel_and_tray(day):
    config, _, tables = day
    case_id, number = "B20261110-0003", 180
    cell = m.cell_id(case_id, number)
    assert forward(tables, m.slurry_id(case_id, "C")).to_pydict()["cell_id"].count(cell) == 1
    status = {r["cell_id"]: r["status"] for r in forward(tables, m.slurry_id(case_id, "C")).to_pylist()}[cell]
    upstream = backward(tables, cell).to_pylist()
    by_type: dict[str, set[str]] = {}
    for row in upstream:
        by_type.setdefault(row["object_type"], set()).add(row["object_id"])
    coil, segment, lane, section = m.position(number, config.batch_size_cells)
    coils = {m.coil_id(case_id, e, coil) for e in m.ELECTRODES}
    assert by_type[m.ROLL] == {m.roll_id(c, lane, section) for c in coils}
    assert by_type[m.SEGMENT] == {m.segment_id(c, segment) for c in coils}
    assert by_type[m.COIL] == coils
    assert by_type[m.SLURRY] == {m.slurry_id(case_id, e) for e in m.ELECTRODES}
    assert len(by_type[m.CHANNEL]) == 1
    assert len(by_type.get(m.TRAY, set())) == (1 if status == m.STATUS_PACKED else 0)
    # One machine per route step in the tiny plant, all of them on this cell's way; crews of the shifts.
    assert {config.activity_of(machine) for machine in by_type[m.MACHINE]} == set(config.route)
    assert by_type[m.CREW] <= set(config.shifts.crews) and by_type[m.CREW]


@pytest.fixture(scope="module")
def small_batches(tmp_path_factory):
    """The tiny plant with its 15 batches a day of 100 cells: an export small enough to validate quickly."""
    folder = tmp_path_factory.mktemp("ocel")
    scenario = folder / "small_batches.yaml"
    scenario.write_text(f"base: {TINY}\nbatch_size_cells: 100\nrelease: {{batches_per_day: 15}}\n")
    config = load_scenario(scenario)
    tables = expand_day(config, run_factory_day(config, DAY))
    return tables, to_json(tables, folder / "day.jsonocel"), to_sqlite(tables, folder / "day.sqlite")


@pytest.mark.skipif(not SCHEMA.exists(), reason="the OCEL 2.0 schema is in ../shared (real data)")
def test_the_ocel_json_export_validates_against_the_ocel_2_schema(small_batches):
    jsonschema = pytest.importorskip("jsonschema")
    _, json_path, _ = small_batches
    document = json.loads(json_path.read_text())
    jsonschema.validate(document, json.loads(SCHEMA.read_text()))
    assert len(document["events"]) > 1000


def test_pm4py_reads_both_exports_back_with_every_event_and_object(small_batches):
    tables, json_path, sqlite_path = small_batches
    events = tables["event"].num_rows
    # pm4py keeps only objects that take part in an event; the day's objects without one (material of
    # batches worked on the day before) are valid OCEL 2.0 but not read back.
    linked = sql(
        tables, "SELECT count(*) FROM object WHERE ocel_id IN (SELECT ocel_object_id FROM event_object)"
    )[0][0]
    for log in (pm4py.read_ocel2_json(str(json_path)), pm4py.read_ocel2_sqlite(str(sqlite_path))):
        assert len(log.events) == events
        assert len(log.objects) == linked
        assert log.objects["ocel:type"].nunique() >= 5
        assert len(log.relations) == tables["event_object"].num_rows


def test_the_object_centric_dfg_equals_pm4pys_on_a_sample_of_batches_and_follows_the_cells_route(day):
    config, _, tables = day
    sample = batch_sample(tables, ["B20261110-0003", "B20261110-0004"])
    ours = {
        (r["object_type"], r["source"], r["target"]): (
            r["event_couples"],
            r["unique_objects"],
            r["total_objects"],
        )
        for r in oc_dfg(sample).to_pylist()
    }
    reference = pm4py_oc_dfg_edges(pm4py.discover_ocdfg(pm4py_log(sample), compute_edges_performance=False))
    assert ours == reference
    # A cell's own graph is its route from Stacking on, plus Packing after Grading.
    route = list(config.route)
    cell_steps = [*route[route.index("Stacking") :], "Packing"]
    cell_edges = {(s, t) for (kind, s, t) in ours if kind == m.CELL}
    assert cell_edges == set(zip(cell_steps, cell_steps[1:], strict=False))
