"""Root-cause analysis on the simulated factory, against the planted bad shift.

Two small warehouses: the default plant (Tuesday to Friday of the demo week; Friday's late shift is the
planted bad shift, the coating room 5 degC warm) and the same plant with the bad shift moved to the dry room
on Wednesday night (data/scenarios/bad_shift_moved.yaml), where electrolyte fill mass drifts and has a target
per product. The two dbt runs go in parallel to fit the budget. The default plant's cases are rework cases
(no SPC there); the moved plant gets its SPC charts and alarms, and its case is an SPC case.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from orchestration.anomalies.quality_control import spc_day, write_spc
from orchestration.lake.writer import write_partition
from orchestration.rca import (
    IllegalTransition,
    list_cases,
    open_cases,
    show_case,
    state_connection,
    transition,
)
from orchestration.rca.cli import main as rca_cli
from orchestration.rca.factors import holm
from orchestration.settings import DATA_DIR
from orchestration.simulator import load_scenario
from orchestration.simulator.engine import run_factory_day

pytest.importorskip("dbt.adapters.duckdb")

DBT_PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"
MODELS = [
    "+fct_quality_yield",
    "+fct_defect_pareto",
    "+dim_batch",
    "+dim_shift",
    "+fct_quality_measurements",
    "+fct_process_events",
]
PLANTS = {
    "default": (DATA_DIR / "scenarios" / "default.yaml", date(2026, 11, 10), date(2026, 11, 13)),
    "moved": (DATA_DIR / "scenarios" / "bad_shift_moved.yaml", date(2026, 11, 8), date(2026, 11, 11)),
}


def _land(work: Path, scenario: Path, first: date, last: date) -> None:
    config = load_scenario(scenario)
    day = first
    while day <= last:
        simulated = run_factory_day(config, day)
        for table, data in simulated.tables.items():
            write_partition(work / "lake", table, day.isoformat(), data)
        write_partition(work / "lake", "sensor_readings", day.isoformat(), simulated.telemetry.batches())
        day += timedelta(days=1)


def _dbt(work: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "GIGAFACTORY_WAREHOUSE": str(work / "warehouse.duckdb"),
        "GIGAFACTORY_LAKE": str(work / "lake"),
        "DO_NOT_TRACK": "1",
    }
    command = [sys.executable, "-m", "dbt.cli.main", "run", "--select", *MODELS, "--profiles-dir", "."]
    command += ["--target-path", str(work / "target"), "--log-path", str(work / "logs")]
    return subprocess.Popen(command, cwd=DBT_PROJECT_DIR, env=env, stdout=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    works = {name: tmp_path_factory.mktemp(f"rca_{name}") for name in PLANTS}
    for name, (scenario, first, last) in PLANTS.items():
        _land(works[name], scenario, first, last)
    runs = {name: _dbt(work) for name, work in works.items()}
    for run in runs.values():
        out, _ = run.communicate()
        assert run.returncode == 0, out[-4000:]
    _, first, last = PLANTS["moved"]
    with duckdb.connect(str(works["moved"] / "warehouse.duckdb")) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        for n in range((last - first).days + 1):
            day = (first + timedelta(days=n)).isoformat()
            write_spc(conn, day, *spc_day(conn, day, timezone="Europe/Berlin"))
    return {name: work / "warehouse.duckdb" for name, work in works.items()}


def _open(warehouse: Path, state: Path, day: date):
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        return open_cases(conn, state, day)


def _cases(state: Path) -> list[dict]:
    with state_connection(state, read_only=True) as conn:
        return list_cases(conn)


def test_the_planted_bad_shift_tops_the_coating_rework_case(warehouses, tmp_path):
    state = tmp_path / "state.duckdb"
    for day in (date(2026, 11, 12), date(2026, 11, 13)):
        _open(warehouses["default"], state, day)
    coating = [c for c in _cases(state) if c["activity"] == "Coating"]
    # Thursday is quiet; on Friday the warm late shift sends 4 of its 29 coated batches back to rework
    assert [c["case_id"] for c in coating] == ["RCA-20261113-rework-coating"]
    with state_connection(state, read_only=True) as conn:
        case = show_case(conn, coating[0]["case_id"])
    assert "2026-11-13-late" in case["signal"]
    assert case["top_factor"] == "shift = 2026-11-13-late"
    top, second = case["factors"][:2]
    assert top["test"] == "Fisher exact (one-sided)" and top["effect"] > 3  # risk ratio
    assert top["p_value"] < 0.05  # but 4 batches are no proof: after Holm's correction it is not significant
    assert top["p_adjusted"] > top["p_value"]
    assert second["label"] == "weekday_shift = Friday late"  # the same batches, seen as the weekday's slot
    # the template is pre-filled: why 1 the signal, why 2 the top factor, the 6M bones with candidates
    template = case["template"]
    assert template["five_whys"][0]["answer"] == case["signal"]
    assert "2026-11-13-late" in template["five_whys"][1]["answer"]
    assert template["ishikawa"]["Manpower"]["candidates"][0].startswith("shift = 2026-11-13-late")
    assert any("material_lot" in note for note in template["ishikawa"]["Material"]["not_analysed"])


def test_moving_the_bad_shift_moves_the_ranking(warehouses, tmp_path):
    state = tmp_path / "state.duckdb"
    _open(warehouses["moved"], state, date(2026, 11, 11))
    cases = _cases(state)
    assert not [c for c in cases if c["activity"] == "Coating"]
    (filling,) = [c for c in cases if c["activity"] == "Electrolyte Filling"]
    # the warm night pushes fill mass out of control on every filling chart; the case opens from those alarms
    assert filling["signal_kind"] == "spc" and filling["characteristic"] == "electrolyte_fill_mass"
    # The two cells have fill mass targets of their own (165 g and 198 g): distances from one pooled centre
    # would make the product the top factor. Judged on each product's own centre, the shift is.
    assert filling["top_factor"] == "shift = 2026-11-11-night"
    with state_connection(state, read_only=True) as conn:
        factors = show_case(conn, filling["case_id"])["factors"]
    top = factors[0]
    assert top["test"] == "Mann-Whitney U (one-sided)" and top["effect"] > 0.5 and top["p_adjusted"] < 0.001
    product = [f for f in factors if f["factor"] == "product"]
    assert all(f["p_adjusted"] > 0.05 for f in product)


def test_reruns_and_rebuilds_keep_status_and_history(warehouses, tmp_path):
    state = tmp_path / "state.duckdb"
    first = _open(warehouses["default"], state, date(2026, 11, 13))
    (case_id,) = first.new_case_ids
    with state_connection(state) as conn:
        transition(conn, case_id, "investigating", "j.weber", "coating room HVAC log requested")
        transition(conn, case_id, "action_defined", "j.weber", "HVAC setpoint alarm at 24 degC")
        with pytest.raises(IllegalTransition, match="action_defined: it can move to investigating, verified"):
            transition(conn, case_id, "closed", "j.weber")
    again = _open(warehouses["default"], state, date(2026, 11, 13))  # a re-run of the day
    assert again.case_ids == [case_id] and again.new_case_ids == []
    with state_connection(state, read_only=True) as conn:
        case = show_case(conn, case_id)
        total = conn.execute("select count(*) from rca.cases").fetchone()[0]
    assert total == 1 and case["status"] == "action_defined"
    assert [(h["from_status"], h["to_status"], h["changed_by"]) for h in case["history"]] == [
        (None, "open", "rca"),
        ("open", "investigating", "j.weber"),
        ("investigating", "action_defined", "j.weber"),
    ]
    # the state file is not the warehouse: dropping every mart leaves the cases alone
    assert state.resolve() != warehouses["default"].resolve()


def test_a_recurring_signal_links_to_the_earlier_case(warehouses, tmp_path):
    state = tmp_path / "state.duckdb"
    _open(warehouses["default"], state, date(2026, 11, 13))
    with state_connection(state) as conn:  # the next week's case, as the pipeline would store it
        earlier = show_case(conn, "RCA-20261113-rework-coating")
    with duckdb.connect(str(warehouses["default"]), read_only=True) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        from orchestration.rca.cases import analyse_day
        from orchestration.rca.store import upsert_case

        (case,) = [c for c in analyse_day(conn, date(2026, 11, 13)) if c["activity"] == "Coating"]
    later = {**case, "case_id": "RCA-20261120-rework-coating", "production_date": date(2026, 11, 20)}
    with state_connection(state) as conn:
        upsert_case(conn, later, recurring_within_days=14)
        assert show_case(conn, later["case_id"])["recurring_of"] == earlier["case_id"]


def test_the_command_line_updates_lists_and_refuses(warehouses, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GIGAFACTORY_WAREHOUSE", str(warehouses["default"]))
    monkeypatch.setenv("GIGAFACTORY_STATE", str(tmp_path / "state.duckdb"))
    assert rca_cli(["open", "--day", "2026-11-13"]) == 0
    case_id = "RCA-20261113-rework-coating"
    assert rca_cli(["update", case_id, "--status", "verified", "--by", "qa"]) == 2
    assert "is open: it can move to closed, investigating, not to verified" in capsys.readouterr().err
    assert rca_cli(["update", case_id, "--status", "investigating", "--by", "qa", "--note", "5 whys"]) == 0
    assert rca_cli(["list", "--status", "investigating"]) == 0
    listed = capsys.readouterr().out
    assert case_id in listed and "shift = 2026-11-13-late" in listed


def test_holm_adjusts_step_down():
    assert holm([0.01, 0.04, 0.03, 0.5]) == pytest.approx([0.04, 0.09, 0.09, 0.5])
