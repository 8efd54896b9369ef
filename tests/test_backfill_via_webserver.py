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
RUNS = """
{
  runsOrError {
    ... on Runs { results { runId status tags { key value } } }
    ... on PythonError { message }
  }
}"""
FAILURES = """
query Failures($id: ID!) {
  logsForRun(runId: $id) {
    ... on EventConnection {
      events {
        __typename
        ... on ExecutionStepFailureEvent { stepKey error { message } }
        ... on MessageEvent { message }
      }
    }
  }
}"""
TAGS_SHOWN = ("dagster/", "gigafactory/")
ACTIVE = {"QUEUED", "NOT_STARTED", "MANAGED", "STARTING", "STARTED", "CANCELING"}


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


def _runs(port: int) -> list[dict]:
    return _graphql(port, RUNS)["runsOrError"]["results"]


def _what_happened(port: int, log: Path) -> str:
    """The runs the daemon launched, each with its failure messages, and the tail of dagster dev's log: what
    a failure here needs to be understood from CI's output alone."""
    lines = []
    try:
        for run in _runs(port):
            tags = {t["key"]: t["value"] for t in run["tags"] if t["key"].startswith(TAGS_SHOWN)}
            lines.append(f"run {run['runId'][:8]} {run['status']} {tags}")
            if run["status"] == "FAILURE":
                events = _graphql(port, FAILURES, {"id": run["runId"]})["logsForRun"].get("events", [])
                for event in events:
                    if event["__typename"] in ("ExecutionStepFailureEvent", "RunFailureEvent"):
                        message = (event.get("error") or {}).get("message") or event.get("message")
                        lines.append(f"    {event.get('stepKey') or ''} {message}"[:600])
    except Exception as error:  # the server may be gone: the log still says something
        lines.append(f"(runs unavailable: {error!r})")
    return "\n".join(lines) + "\n--- dagster dev log (tail)\n" + log.read_text()[-6000:]


def _wait_until(predicate, timeout_s: float, what: str, server: subprocess.Popen, log: Path, port: int):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"dagster dev exited while waiting for {what}:\n{log.read_text()[-6000:]}")
        try:
            value = predicate()
            if value:
                return value
        except OSError:
            pass
        time.sleep(1)
    pytest.fail(f"timed out after {timeout_s} s waiting for {what}:\n{_what_happened(port, log)}")


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
        # Generous limits: CI runs this beside the demo and the Spark check on two cores (~3.5 min alone).
        nodes = _wait_until(
            lambda: _graphql(port, ASSET_KEYS)["assetNodes"], 300, "the code location", server, log, port
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

        _wait_until(finished, 900, "the backfill to finish", server, log, port)

        def split_and_done():
            # the backfill's run and the failure sensor's two halves, none still queued or running: stopping
            # the server earlier could leave a run writing the warehouse this test then reads
            runs = _runs(port)
            return len(runs) >= 3 and not any(run["status"] in ACTIVE for run in runs)

        _wait_until(split_and_done, 900, "the failure sensor's re-runs of the halves", server, log, port)
        outcome = _what_happened(port, log)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)

    good_days = DAYS[:-1]
    landed = sorted(
        p.name.removeprefix("date=") for p in (tmp_path / "lake" / "raw" / "production_events").iterdir()
    )
    assert landed == DAYS, outcome
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as conn:
        mart_days = conn.execute(
            "select distinct strftime(production_date, '%Y-%m-%d') from marts.fct_oee_factory_day order by 1"
        ).fetchall()
        mined_days = conn.execute(
            "select distinct strftime(production_date, '%Y-%m-%d') from process_mining.conformance order by 1"
        ).fetchall()
    assert [d for (d,) in mart_days] == good_days, outcome
    assert [d for (d,) in mined_days] == good_days, outcome
    directors = (tmp_path / "reports").glob("*/daily/director.html")
    assert sorted(p.parent.parent.name for p in directors) == good_days, outcome
