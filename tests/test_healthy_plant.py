"""A healthy plant stays quiet: the tiny test plant with every planted effect off, a week of factory days.

Ground truth: data/scenarios/test_small_healthy.yaml plants nothing (no bad shift, no wearing machine, no
sensor faults or gaps), so every RCA case and every critical SPC alarm on it would be false. Its ordinary
rework faults (a few batches a day sent back by their checks) and batch-to-batch spread are all there is.
The first days are the baseline the later ones are judged against (RCA needs three days, SPC charts twenty
batches).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from orchestration.anomalies.quality_control import spc_day, write_spc
from orchestration.lake.writer import write_partition
from orchestration.rca import list_cases, open_cases, state_connection
from orchestration.settings import DATA_DIR
from orchestration.simulator import load_scenario
from orchestration.simulator.engine import run_factory_day

pytest.importorskip("dbt.adapters.duckdb")

DBT_PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"
SCENARIO = DATA_DIR / "scenarios" / "test_small_healthy.yaml"
FIRST, LAST = date(2026, 11, 7), date(2026, 11, 13)  # Saturday to Friday: the default bad shift's Friday too
DAYS = [FIRST + timedelta(days=n) for n in range((LAST - FIRST).days + 1)]
MODELS = ["+fct_quality_yield", "+fct_defect_pareto", "+dim_batch", "+dim_shift", "+fct_process_events"]


@pytest.fixture(scope="module")
def healthy_week(tmp_path_factory: pytest.TempPathFactory) -> dict:
    work = tmp_path_factory.mktemp("healthy")
    config = load_scenario(SCENARIO)
    assert config.effects.bad_shift is None and config.effects.degradation is None
    for day in DAYS:
        simulated = run_factory_day(config, day)
        for table, data in simulated.tables.items():
            write_partition(work / "lake", table, day.isoformat(), data)
    warehouse = work / "warehouse.duckdb"
    env = {**os.environ, "GIGAFACTORY_WAREHOUSE": str(warehouse), "GIGAFACTORY_LAKE": str(work / "lake")}
    command = [sys.executable, "-m", "dbt.cli.main", "run", "--select", *MODELS, "--profiles-dir", "."]
    command += ["--target-path", str(work / "target"), "--log-path", str(work / "logs")]
    run = subprocess.run(
        command, cwd=DBT_PROJECT_DIR, env={**env, "DO_NOT_TRACK": "1"}, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stdout[-4000:]
    alarms = {}
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        for day in DAYS:
            judged = spc_day(conn, day.isoformat(), timezone=config.timezone)
            write_spc(conn, day.isoformat(), *judged)
            alarms[day] = judged.alarms
    state = work / "state.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        opened = {day: open_cases(conn, state, day).case_ids for day in DAYS}
    return {"warehouse": warehouse, "state": state, "alarms": alarms, "opened": opened}


def test_a_healthy_week_opens_no_rca_case(healthy_week):
    assert healthy_week["opened"] == {day: [] for day in DAYS}
    with state_connection(healthy_week["state"], read_only=True) as conn:
        assert list_cases(conn) == []


def test_a_healthy_week_raises_no_critical_and_few_spc_alarms(healthy_week):
    by_day = {day: Counter(a.priority for a in alarms) for day, alarms in healthy_week["alarms"].items()}
    assert all(counts["critical"] == 0 for counts in by_day.values()), by_day
    assert all(sum(counts.values()) <= 2 for counts in by_day.values()), by_day
    # not quiet for want of judging: by the end of the week every chart of the day has its own history
    with duckdb.connect(str(healthy_week["warehouse"]), read_only=True) as conn:
        charts, warming = conn.execute(
            "select count(*), count(*) filter (where warm_up) from analytics.spc_charts "
            f"where production_date = '{LAST}'"
        ).fetchone()
        firings = conn.execute("select count(*) from analytics.spc_violations").fetchone()[0]
    assert charts > 10 and warming == 0
    assert firings > 50  # Western Electric / Nelson rules still fire by chance: the record, not alarms
