"""A backfill launched the way the UI launches it: through a running webserver's GraphQL API.

Starts `dagster dev` (webserver + daemon) on a free loopback port against a temporary instance and
warehouse, launches an asset backfill of every asset for two factory days, waits for the daemon to
finish it, and checks that exactly those days (and no other) are in the lake and the warehouse.
The second day's feed collapses (a scenario switch): the backfill's single run is stopped by the blocking
volume check, and the failure sensor re-runs the halves, so the first day still reaches the marts and
only the collapsed day stays out. (tests/test_quality_gate.py splits a longer range in process.)
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import duckdb
import pytest

# dagster dev (webserver and daemon) as processes, mostly waiting on daemon loops: CI runs the demo beside
pytestmark = [pytest.mark.e2e, pytest.mark.long]
REPO = Path(__file__).resolve().parent.parent
DAYS = ["2026-11-09", "2026-11-10"]
LAUNCH = """
mutation Launch($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message stack }
    ... on InvalidSubsetError { message }
  }
}"""
ASSET_KEYS = "{ assetNodes { assetKey { path } isMaterializable isPartitioned } }"
STATUS = """
query Status($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename
    ... on PartitionBackfill { status numCancelable }
    ... on PythonError { message }
  }
}"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _graphql(port: int, query: str, variables: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        payload = json.load(response)
    assert "errors" not in payload, payload
    return payload["data"]


def _wait_until(predicate, timeout_s: float, what: str, server: subprocess.Popen, log: Path):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"dagster dev exited while waiting for {what}:\n{log.read_text()[-4000:]}")
        try:
            value = predicate()
            if value:
                return value
        except OSError:
            pass
        time.sleep(1)
    pytest.fail(f"timed out waiting for {what}:\n{log.read_text()[-4000:]}")


def test_a_backfill_through_the_webserver_isolates_the_collapsed_day(tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    scenario = tmp_path / "collapse.yaml"
    base = REPO / "data" / "scenarios" / "test_small.yaml"
    scenario.write_text(f"base: {base}\ncorruption: {{days: [{DAYS[-1]}], collapse_share: 0.8}}\n")
    shutil.copy(REPO / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "GIGAFACTORY_WAREHOUSE": str(tmp_path / "warehouse.duckdb"),
        "GIGAFACTORY_LAKE": str(tmp_path / "lake"),
        "GIGAFACTORY_REPORTS": str(tmp_path / "reports"),
        "GIGAFACTORY_SCENARIO": str(scenario),
    }
    port = _free_port()
    log = tmp_path / "dagster_dev.log"
    with log.open("w") as log_file:
        server = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "dagster"),
                "dev",
                "-w",
                "workspace.yaml",
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
            ],
            cwd=REPO,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        nodes = _wait_until(
            lambda: _graphql(port, ASSET_KEYS)["assetNodes"], 180, "the code location to load", server, log
        )
        selection = [
            {"path": n["assetKey"]["path"]} for n in nodes if n["isMaterializable"] and n["isPartitioned"]
        ]
        launched = _graphql(
            port,
            LAUNCH,
            {"params": {"assetSelection": selection, "partitionNames": DAYS, "fromFailure": False}},
        )["launchPartitionBackfill"]
        assert launched["__typename"] == "LaunchBackfillSuccess", launched
        backfill_id = launched["backfillId"]

        def finished():
            status = _graphql(port, STATUS, {"id": backfill_id})["partitionBackfillOrError"]["status"]
            return status if status not in ("REQUESTED", "CANCELING") else None

        _wait_until(finished, 420, "the backfill to finish", server, log)
        reports = tmp_path / "reports"
        good_days = DAYS[:-1]
        _wait_until(
            lambda: all((reports / day / "daily" / "director.html").exists() for day in good_days),
            420,
            "the failure sensor's re-runs of the good days",
            server,
            log,
        )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)

    landed = sorted(
        p.name.removeprefix("date=") for p in (tmp_path / "lake" / "raw" / "production_events").iterdir()
    )
    assert landed == DAYS
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as conn:
        mart_days = conn.execute(
            "select distinct strftime(production_date, '%Y-%m-%d') from marts.fct_oee_factory_day order by 1"
        ).fetchall()
        mined_days = conn.execute(
            "select distinct strftime(production_date, '%Y-%m-%d') from process_mining.conformance order by 1"
        ).fetchall()
    assert [d for (d,) in mart_days] == good_days
    assert [d for (d,) in mined_days] == good_days
    directors = (tmp_path / "reports").glob("*/daily/director.html")
    assert sorted(p.parent.parent.name for p in directors) == good_days
