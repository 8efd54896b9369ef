"""The simulated gigafactory against behaviour with known ground truth, on the tiny test plant."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import yaml

from orchestration.lake.tables import MACHINE_STATES, RAW_TABLES, TRUTH_TABLES
from orchestration.lake.writer import conform, partition_file
from orchestration.simulator import load_scenario, simulate_factory_day
from orchestration.simulator.cli import main as simulator_cli
from orchestration.simulator.engine import run_factory_day
from orchestration.simulator.line_state import LineStates, fingerprint
from orchestration.simulator.shifts import scenario_calendar

REPO = Path(__file__).resolve().parent.parent
SMALL = REPO / "data" / "scenarios" / "test_small.yaml"
DAY = date(2026, 11, 9)
IN_PROCESS_STATES = {"producing", "micro_stop", "breakdown"}


@pytest.fixture(scope="module")
def config():
    return load_scenario(SMALL)


@pytest.fixture(scope="module")
def simulated(config):
    return run_factory_day(config, DAY)


@pytest.fixture(scope="module")
def tables(simulated):
    return simulated.raw_tables()


@pytest.fixture(scope="module")
def window(config):
    return scenario_calendar(config).day_window(DAY)


def scenario(tmp_path: Path, overrides: dict, name: str = "scenario.yaml") -> Path:
    """A scenario file layered over the test plant."""
    path = tmp_path / name
    path.write_text(yaml.safe_dump({"base": str(SMALL), **overrides}))
    return path


def rows(table: pa.Table) -> list[dict]:
    return table.to_pylist()


def test_every_raw_table_conforms_to_the_contract(tables, window):
    assert set(tables) == set(RAW_TABLES)
    for name, table in tables.items():
        assert conform(name, table).schema == RAW_TABLES[name]
        assert table.num_rows > 0, name
    start, end = window
    for name, column in [
        ("production_events", "start_ts"),
        ("machine_states", "start_ts"),
        ("quality_measurements", "measured_ts"),
        ("sensor_readings", "reading_ts"),
    ]:
        values = tables[name][column]
        assert pc.min(values).as_py() >= start and pc.max(values).as_py() < end, name


def test_production_events_are_unique_ordered_and_balanced(tables):
    events = rows(tables["production_events"])
    ids = [e["event_id"] for e in events]
    assert len(set(ids)) == len(ids)
    assert all(i.startswith(f"{DAY.isoformat()}-E") and len(i) == len("2026-11-09-E000001") for i in ids)
    for e in events:
        assert e["end_ts"] >= e["start_ts"]
        assert e["good_qty"] + e["scrap_qty"] == e["produced_qty"] > 0
        assert e["scrap_qty"] >= 0
        # today's batches, or the previous day's still in progress when the day began (the warm-up)
        assert e["case_id"][:10] in (f"B{DAY:%Y%m%d}-", f"B{DAY - timedelta(days=1):%Y%m%d}-")


def test_machine_states_cover_each_machine_day_exactly(config, tables, window):
    start, end = window
    states = rows(tables["machine_states"])
    assert {s["state"] for s in states} <= set(MACHINE_STATES)
    machines = tables["machines"]["machine_id"].to_pylist()
    for machine in machines:
        own = sorted((s for s in states if s["machine_id"] == machine), key=lambda s: s["start_ts"])
        assert own[0]["start_ts"] == start and own[-1]["end_ts"] == end
        for before, after in zip(own, own[1:], strict=False):
            assert before["end_ts"] == after["start_ts"], machine  # contiguous, no overlap
            assert before["state"] != after["state"]  # merged
        assert sum((s["end_ts"] - s["start_ts"] for s in own), timedelta()) == end - start
    # One machine of every route step has its hour of planned maintenance.
    maintenance = [s for s in states if s["state"] == "planned_maintenance"]
    assert sum((s["end_ts"] - s["start_ts"] for s in maintenance), timedelta()) == timedelta(
        hours=len(config.route)
    )


def _busy_spans(events: list[dict], machine: str, end) -> list[tuple]:
    """A machine's event intervals, clipped to the day, back-to-back ones joined."""
    spans: list[list] = []
    for e in sorted((e for e in events if e["machine_id"] == machine), key=lambda e: e["start_ts"]):
        if spans and spans[-1][1] == e["start_ts"]:
            spans[-1][1] = min(e["end_ts"], end)
        else:
            spans.append([e["start_ts"], min(e["end_ts"], end)])
    return [tuple(span) for span in spans]


def test_machine_is_running_exactly_while_it_processes_a_batch(tables, window):
    """Producing and micro-stops happen only inside events; inside an event the machine never idles."""
    events, states = rows(tables["production_events"]), rows(tables["machine_states"])
    for machine in tables["machines"]["machine_id"].to_pylist():
        spans = _busy_spans(events, machine, window[1])
        mine = sorted((s for s in states if s["machine_id"] == machine), key=lambda s: s["start_ts"])
        carried = window[0]  # a step started the day before (its event is yesterday's) runs on into the day
        for s in mine:
            if s["start_ts"] != carried or s["state"] not in IN_PROCESS_STATES:
                break
            carried = s["end_ts"]
        spans.append((window[0], carried))
        for s in (s for s in states if s["machine_id"] == machine):
            inside = any(a <= s["start_ts"] and s["end_ts"] <= b for a, b in spans)
            overlaps = any(s["start_ts"] < b and a < s["end_ts"] for a, b in spans)
            if s["state"] in ("producing", "micro_stop"):
                assert inside, s
            elif s["state"] not in IN_PROCESS_STATES:
                assert not overlaps, s


def test_batches_follow_the_route_and_repeats_are_rework(config, tables):
    route = list(config.route)
    by_case: dict[str, list[dict]] = {}
    for e in sorted(rows(tables["production_events"]), key=lambda e: e["start_ts"]):
        by_case.setdefault(e["case_id"], []).append(e)
    for case_id, case in by_case.items():
        carried = not case_id.startswith(f"B{DAY:%Y%m%d}-")  # released the day before: earlier steps then
        if not carried:
            assert case[0]["activity"] == route[0]
        seen = set(route[: route.index(case[0]["activity"]) + (0 if carried else 1)])
        for before, after in zip(case, case[1:], strict=False):
            assert after["start_ts"] >= before["end_ts"]
            step, previous = route.index(after["activity"]), route.index(before["activity"])
            assert step == previous + 1 or step <= previous  # next step, or a loop back
            assert after["is_rework"] == (after["activity"] in seen)
            seen.add(after["activity"])
        first_passes = [route.index(e["activity"]) for e in case if not e["is_rework"]]
        begin = first_passes[0] if first_passes else 0
        assert first_passes == list(range(begin, begin + len(first_passes)))
        assert carried or begin == 0


def test_crew_on_each_event_is_the_crew_on_shift(tables, window):
    shifts = rows(tables["shifts"])
    assert [s["shift_name"] for s in shifts] == ["early", "late", "night"]
    assert shifts[0]["start_ts"] == window[0] and shifts[-1]["end_ts"] == window[1]
    assert len({s["crew_id"] for s in shifts}) == 3
    for e in rows(tables["production_events"]):
        (shift,) = [s for s in shifts if s["start_ts"] <= e["start_ts"] < s["end_ts"]]
        assert e["crew_id"] == shift["crew_id"]


def test_quality_measurements_carry_units_and_limits(tables):
    measured = rows(tables["quality_measurements"])
    units = {(m["characteristic"], m["unit"]) for m in measured}
    assert {
        ("coating_thickness", "um"),
        ("electrolyte_fill_mass", "g"),
        ("slurry_viscosity", "mPa.s"),
    } <= units
    assert all(m["lsl"] < m["usl"] for m in measured)
    out_of_spec = sum(not m["lsl"] <= m["value"] <= m["usl"] for m in measured)
    assert out_of_spec < 0.1 * len(measured)


def test_one_reading_per_sensor_and_interval_but_for_planted_gaps(config, simulated, tables, window):
    readings = tables["sensor_readings"]
    counts = readings.group_by("sensor_id").aggregate([("value", "count")])
    per_sensor = dict(zip(counts["sensor_id"].to_pylist(), counts["value_count"].to_pylist(), strict=True))
    expected = int((window[1] - window[0]).total_seconds() // config.sensor_interval_s)
    missing = {
        g["sensor_id"]: (g["end_ts"] - g["start_ts"]).total_seconds() // config.sensor_interval_s
        for g in rows(simulated.truth["sensor_anomalies"])
        if g["kind"] == "gap"
    }
    assert missing, "the test plant plants gaps"
    assert per_sensor == {s: expected - missing.get(s, 0) for s in per_sensor}
    machines = set(tables["machines"]["machine_id"].to_pylist())
    owners = set(readings["machine_id"].to_pylist())
    assert machines <= owners and {o for o in owners - machines if o.startswith("ROOM-")} == owners - machines
    # Line speed is high only while the coater produces.
    states = [s for s in rows(tables["machine_states"]) if s["machine_id"] == "COAT-01"]
    planted = [a for a in rows(simulated.truth["sensor_anomalies"]) if a["sensor_id"] == "COAT-01.line_speed"]
    speeds = [
        r
        for r in rows(readings.filter(pc.equal(readings["sensor_id"], "COAT-01.line_speed")))
        if not any(a["start_ts"] <= r["reading_ts"] < a["end_ts"] for a in planted)
    ]

    def state_at(ts):
        return next(s["state"] for s in states if s["start_ts"] <= ts < s["end_ts"])

    producing = [r["value"] for r in speeds if state_at(r["reading_ts"]) == "producing"]
    stopped = [r["value"] for r in speeds if state_at(r["reading_ts"]) in ("idle", "breakdown")]
    assert producing and stopped and min(producing) > max(stopped)


def test_rework_happens_only_when_configured(config, tmp_path):
    steps = list(config.route)
    never = load_scenario(scenario(tmp_path, {"route": {a: {"rework": {"probability": 0.0}} for a in steps}}))
    only_coating = {a: {"rework": {"probability": 0.6 if a == "Coating" else 0.0}} for a in steps}
    often = load_scenario(scenario(tmp_path, {"route": only_coating}, name="often.yaml"))
    assert not any(simulate_factory_day(never, DAY)["production_events"]["is_rework"].to_pylist())
    day = simulate_factory_day(often, DAY)
    events = sorted(rows(day["production_events"]), key=lambda e: e["start_ts"])
    reworked = [e for e in events if e["is_rework"]]
    assert len(reworked) >= 3 and {e["activity"] for e in reworked} == {"Coating"}
    # What sent a batch back: the coating thickness of the pass before was off target on average.
    thickness = [m for m in rows(day["quality_measurements"]) if m["characteristic"] == "coating_thickness"]
    for again in reworked:
        before = [e for e in events if e["case_id"] == again["case_id"] and e["end_ts"] <= again["start_ts"]]
        if not before:  # the failed pass was the day before (a batch carried into the day)
            continue
        failed = before[-1]
        samples = [
            m
            for m in thickness
            if m["case_id"] == failed["case_id"]
            and failed["start_ts"] <= m["measured_ts"] <= failed["end_ts"]
        ]
        mean = sum(m["value"] for m in samples) / len(samples)
        assert not samples[0]["lsl"] <= mean <= samples[0]["usl"]


def _mean_wait_before(events: list[dict], activity: str) -> float:
    by_case: dict[str, list[dict]] = {}
    for e in sorted(events, key=lambda e: e["start_ts"]):
        by_case.setdefault(e["case_id"], []).append(e)
    waits = [
        (after["start_ts"] - before["end_ts"]).total_seconds()
        for case in by_case.values()
        for before, after in zip(case, case[1:], strict=False)
        if after["activity"] == activity and not after["is_rework"]
    ]
    return sum(waits) / len(waits)


def test_a_slower_step_builds_a_queue_before_it(tables, tmp_path):
    # The plant's first day: a step slower than the line's pace piles its queue up day after day, until
    # within a day no batch reaches it any more.
    slow = load_scenario(
        scenario(
            tmp_path,
            {
                "release": {"first_day": DAY.isoformat()},
                "route": {"Calendering": {"planned_runtime_per_unit_s": 6.0}},
            },
        )
    )
    base_wait = _mean_wait_before(rows(tables["production_events"]), "Calendering")
    slow_wait = _mean_wait_before(rows(simulate_factory_day(slow, DAY)["production_events"]), "Calendering")
    assert slow_wait > 5 * base_wait + 1800


def test_same_day_gives_identical_tables_whatever_was_simulated_before(config, simulated, tables):
    next_day = DAY + timedelta(days=1)
    later = run_factory_day(config, next_day)
    again = run_factory_day(config, DAY)
    for name, table in again.raw_tables().items():
        assert table.equals(tables[name]), name
    for name in TRUTH_TABLES:
        assert again.truth[name].equals(simulated.truth[name]), name
        assert run_factory_day(config, next_day).truth[name].equals(later.truth[name]), name
    assert not later.tables["production_events"].equals(tables["production_events"])


def test_cli_in_another_process_writes_the_same_tables(simulated, tables, tmp_path):
    lake = tmp_path / "lake"
    command = [sys.executable, "-m", "orchestration.simulator.cli", "--scenario", str(SMALL)]
    command += ["--start", DAY.isoformat(), "--days", "1", "--out", str(lake)]
    subprocess.run(command, cwd=REPO, check=True, capture_output=True, text=True)
    for name, table in tables.items():  # sensor readings streamed batch by batch: the same rows
        written = pq.read_table(partition_file(lake, name, DAY.isoformat()))
        assert written.equals(conform(name, table)), name
    for name, table in simulated.truth.items():
        assert pq.read_table(partition_file(lake, name, DAY.isoformat(), layer="truth")).equals(table), name


def test_a_dst_day_is_a_23_hour_day(tmp_path):
    day = date(2026, 3, 28)  # clocks go forward in Berlin in the night to 29 March
    config = load_scenario(scenario(tmp_path, {"release": {"first_day": "2026-03-26"}}))
    start, end = scenario_calendar(config).day_window(day)
    assert end - start == timedelta(hours=23)
    states = rows(simulate_factory_day(config, day)["machine_states"])
    per_machine: dict[str, timedelta] = {}
    for s in states:
        per_machine[s["machine_id"]] = (
            per_machine.get(s["machine_id"], timedelta()) + s["end_ts"] - s["start_ts"]
        )
    assert set(per_machine.values()) == {timedelta(hours=23)}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"machine_defaults": {"mtbf_h": -5}}, "machine_defaults.mtbf_h"),
        ({"route": {"Coating": {"mtbf_h": -1}}}, "route.Coating.mtbf_h"),
        ({"colour": "red"}, "colour"),
        ({"route": {"Coating": {"rework": {"probability": 1.5}}}}, "route.Coating.rework.probability"),
    ],
)
def test_a_bad_scenario_names_file_and_field(tmp_path, overrides, field):
    path = scenario(tmp_path, overrides, name="broken.yaml")
    with pytest.raises(ValueError, match="broken.yaml") as raised:
        load_scenario(path)
    assert field in str(raised.value)


# Inside a week, and across the weekends into the demo week and out of it (the plant starts on 2 November).
CROSSINGS = [DAY - timedelta(days=1), DAY, DAY + timedelta(days=1), DAY + timedelta(days=6)]


@pytest.mark.parametrize("first", CROSSINGS, ids=str)
def test_a_batch_crossing_midnight_shows_each_step_once(config, first):
    """The plant runs one continuous run: the next day takes each crossing batch up where it was."""
    today, tomorrow = (
        run_factory_day(config, d).tables["production_events"] for d in (first, first + timedelta(1))
    )
    before: dict[str, list[dict]] = {}
    for e in rows(today):
        before.setdefault(e["case_id"], []).append(e)
    crossing = 0
    for case_id, after in _by_case(rows(tomorrow)).items():
        if case_id not in before:
            continue
        crossing += 1
        steps = [(e["activity"], e["is_rework"]) for e in before[case_id] + after]
        first_passes = [activity for activity, rework in steps if not rework]
        assert len(first_passes) == len(set(first_passes)), (case_id, steps)
        assert first_passes == [a for a in config.route if a in first_passes], (case_id, steps)
        assert max(e["start_ts"] for e in before[case_id]) < min(e["start_ts"] for e in after)
        # ... with the cells it had: each step processes what the step before it passed on, across midnight
        # too (the run goes on through the next day: a step ending after midnight draws as tomorrow's does).
        chain = sorted(before[case_id] + after, key=lambda e: e["start_ts"])
        handed_on = [(e["good_qty"], f["produced_qty"]) for e, f in zip(chain, chain[1:], strict=False)]
        assert all(good == produced for good, produced in handed_on), (case_id, handed_on)
    assert crossing >= 3


def test_a_day_resumes_from_the_state_kept_beside_the_lake(config, tmp_path):
    """The line's state at each day's start is kept on disk: a fresh process resumes the plant from the
    latest kept state (not from its first day) and the day comes out the same."""
    LineStates._memory.clear()  # as in a fresh process
    states = LineStates(tmp_path / "simulator")
    day = DAY + timedelta(days=1)
    expected = run_factory_day(config, day, states).raw_tables()
    plant = tmp_path / "simulator" / fingerprint(config)
    kept = sorted(p.name for p in plant.iterdir())
    first = config.release.first_day
    # every day from the first to the day after (and on, while a step of the day is still running)
    assert kept[: (day - first).days + 2] == [
        f"{first + timedelta(days=k)}.json" for k in range((day - first).days + 2)
    ]
    for path in plant.iterdir():  # only the day's own state is left: no history to run again
        if path.name != f"{day}.json":
            path.unlink()
    LineStates._memory.clear()
    resumed = run_factory_day(config, day, LineStates(tmp_path / "simulator")).raw_tables()
    for name, table in expected.items():
        assert resumed[name].equals(table), name


def test_no_day_before_the_plant_starts(config, tmp_path, capsys):
    before = config.release.first_day - timedelta(days=1)
    with pytest.raises(ValueError, match=f"starts on {config.release.first_day}.*no factory day {before}"):
        run_factory_day(config, before)
    command = ["--scenario", str(SMALL), "--start", before.isoformat(), "--out", str(tmp_path)]
    assert simulator_cli(command) == 2
    assert f"no factory day {before}" in capsys.readouterr().err


def _by_case(events: list[dict]) -> dict[str, list[dict]]:
    cases: dict[str, list[dict]] = {}
    for e in events:
        cases.setdefault(e["case_id"], []).append(e)
    return cases
