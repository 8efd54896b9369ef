"""What the tests of live processes share: a free port, waiting for a condition, and the rows landed."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.lake.tables import RAW_TABLES


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def landed(lake: Path) -> pa.Table:
    """Every landed live row: compacted minutes and the part files not yet compacted."""
    files = sorted((lake / "raw" / "sensor_readings").glob("date=*/live-*.parquet"))
    if not files:
        return RAW_TABLES["sensor_readings"].empty_table()
    return pa.concat_tables([pq.read_table(f) for f in files])
