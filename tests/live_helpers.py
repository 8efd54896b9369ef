"""What the tests of live processes share: a free port, waiting for a condition, the rows landed, an
in-process broker, ingestion service settings, and requests to the service's HTTP endpoint (the fixtures
``broker`` and ``services`` are in conftest.py)."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.factory_calendar import FactoryCalendar
from orchestration.ingestion.broker import serve_broker
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
    """Every landed live row: compacted minutes and the part files not yet compacted, read as a settled view.

    A compaction replaces a minute's file before it deletes the parts merged into it, so for that instant
    the same readings are in both (its intent file in ``ingest/compaction`` exists from before the replace
    to after the deletes). A view counts only when no intent existed before the listing or after the reads
    and the listing did not change meanwhile; otherwise it is taken again.
    """
    folder, intents = lake / "raw" / "sensor_readings", lake / "ingest" / "compaction"
    deadline = time.monotonic() + 15.0
    while time.monotonic() < deadline:
        compacting = any(intents.glob("*.json"))
        files = sorted(folder.glob("date=*/live-*.parquet"))
        try:
            tables = [pq.read_table(f) for f in files]
        except FileNotFoundError:  # a part merged and deleted between the listing and the read
            continue
        if compacting or any(intents.glob("*.json")) or sorted(folder.glob("date=*/live-*.parquet")) != files:
            time.sleep(0.01)
            continue
        return pa.concat_tables(tables) if tables else RAW_TABLES["sensor_readings"].empty_table()
    raise AssertionError(f"the landed files in {folder} never settled for a read")


BERLIN = FactoryCalendar("Europe/Berlin", day_start_hour=6)  # factory days from 06:00 local
START = datetime(2026, 11, 9, 5, 0, tzinfo=UTC)  # 06:00 Berlin: the first minute of factory day 2026-11-09
START_US = int(START.timestamp() * 1e6)


def request(port: int, path: str, body: object | bytes | None = None) -> tuple[int, object]:
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    method = "GET" if body is None else "POST"
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def reading(sensor: str, stamp: datetime, value: float = 3.7, machine: str = "FORM-01") -> dict:
    return {
        "sensor_id": sensor,
        "machine_id": machine,
        "measure": "voltage",
        "unit": "V",
        "reading_ts": stamp.isoformat(),
        "value": value,
    }


class InProcessBroker:
    """The development broker (amqtt) served on an event loop thread of the test process."""

    def __init__(self, port: int, **security):
        self.port, self.security = port, security  # password_file, tls_cert, tls_key (broker.broker_config)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="broker-loop", daemon=True)
        self.thread.start()
        self.serving = None

    def start(self) -> None:
        ready, self.stopped = asyncio.Event(), threading.Event()

        async def serve() -> None:
            try:
                await serve_broker("127.0.0.1", self.port, ready, **self.security)
            finally:
                self.stopped.set()

        self.serving = asyncio.run_coroutine_threadsafe(serve(), self.loop)
        wait_for(ready.is_set, f"broker on {self.port}")

    def stop(self) -> None:
        """Cancel the broker: its ``finally`` shuts it down, dropping every client connection."""
        if self.serving is not None:
            self.serving.cancel()
            wait_for(self.stopped.is_set, "the broker to shut down")
            assert not connectable(self.port)
        self.serving = None

    def close(self) -> None:
        self.stop()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)


def connectable(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False
