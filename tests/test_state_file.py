"""The state file is written in turn by runs, commands and the alerting process: a writer that finds it held
waits its turn instead of failing (a run must not fail because an alert was being written)."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import duckdb
import pytest

from orchestration.distribution.delivery_log import delivered_before
from orchestration.rca.store import state_connection
from orchestration.state_file import is_lock_conflict, state_file

HOLD_S = 0.6


def hold(path, seconds: float) -> subprocess.Popen:
    """Another process holding the state file for writing for ``seconds``; returns once it holds it."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time\n"
            f"conn = duckdb.connect({str(path)!r})\n"
            "print('held', flush=True)\n"
            f"time.sleep({seconds})\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_a_writer_waits_while_another_process_holds_the_state_file(tmp_path):
    path = tmp_path / "state.duckdb"
    with state_connection(path) as conn:  # creates the file and the rca schema
        conn.execute("select 1").fetchall()
    holder = hold(path, HOLD_S)
    try:
        # Without waiting, DuckDB refuses at once: this is what a run met before.
        with pytest.raises(duckdb.Error) as refused:
            duckdb.connect(str(path)).close()
        assert is_lock_conflict(refused.value)
        with state_connection(path) as conn:
            # It got in once the holder had let go (the lock goes with the process), not before.
            assert holder.poll() is not None
            assert conn.execute("select count(*) from rca.cases").fetchone() == (0,)
        holder.wait(timeout=30)
        holder = hold(path, HOLD_S)
        assert delivered_before(path, "daily/director", date(2026, 11, 9)) == set()
        assert holder.poll() is not None
    finally:
        holder.wait(timeout=30)


def test_a_writer_gives_up_with_the_lock_error_after_its_wait(tmp_path):
    path = tmp_path / "state.duckdb"
    with state_file(path) as conn:
        conn.execute("create table t (x int)")
    holder = hold(path, 5 * HOLD_S)
    try:
        with pytest.raises(duckdb.Error) as refused, state_file(path, wait_s=0.2):
            pass
        assert is_lock_conflict(refused.value)
    finally:
        holder.kill()
        holder.wait(timeout=30)
