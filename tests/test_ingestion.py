"""Live sensor ingestion: validation, WAL, exactly-once landing, gaps, and end to end with a real broker."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration.factory_calendar import FactoryCalendar
from orchestration.ingestion import landed_minutes_since, read_gaps, read_quarantine, score_latest
from orchestration.ingestion.feed import BufferedPublisher, replay, synthetic_plant
from orchestration.ingestion.lander import Lander
from orchestration.ingestion.payload import ReadingRules, parse_message
from orchestration.ingestion.wal import WriteAheadLog
from orchestration.lake.tables import RAW_TABLES
from tests.live_helpers import connectable, free_port, landed, wait_for

START = datetime(2026, 11, 9, 5, 0, tzinfo=UTC)  # 06:00 Berlin: the first minute of factory day 2026-11-09
START_US = int(START.timestamp() * 1e6)
REPO = Path(__file__).resolve().parent.parent

BERLIN = FactoryCalendar("Europe/Berlin", day_start_hour=6)  # factory days from 06:00 local


def reading(sensor: str, ts_us: int, value: float = 1.0, machine: str = "COAT-01") -> tuple:
    return (sensor, machine, "temperature", "degC", ts_us, value)


def keys_of(table: pa.Table) -> list[tuple]:
    return list(
        zip(table.column("sensor_id").to_pylist(), table.column("reading_ts").to_pylist(), strict=True)
    )


# ---------------------------------------------------------------- validation, WAL, lander (no processes)


def test_parse_message_keeps_valid_readings_and_quarantines_the_rest_with_a_reason():
    now_us = START_US
    good = {
        "sensor_id": "S1",
        "machine_id": "COAT-01",
        "measure": "t",
        "unit": "degC",
        "reading_ts": "2026-11-09T05:00:00Z",
        "value": 1.5,
    }
    body = {
        "source": "gw",
        "batch": 7,
        "readings": [
            good,
            {**good, "value": float("nan")},
            {**good, "reading_ts": "2026-11-09T05:00:00"},
            {**good, "sensor_id": ""},
            {**good, "reading_ts": "2026-11-09T06:00:00Z"},
            {**good, "reading_ts": START.timestamp() + 1},
        ],
    }
    parsed = parse_message(
        json.dumps(body, allow_nan=True).encode(), now_us, ReadingRules(max_future_skew_us=300_000_000)
    )
    assert (parsed.source, parsed.batch) == ("gw", 7)
    assert [r[4] for r in parsed.readings] == [START_US, START_US + 1_000_000]
    reasons = [r.reason for r in parsed.rejections]
    assert reasons[0] == "value must be a finite number"
    assert "no UTC offset" in reasons[1]
    assert reasons[2] == "sensor_id must be a non-empty string"
    assert "ahead of the receiving clock" in reasons[3]
    assert "not valid JSON" in parse_message(b"{oops", now_us, ReadingRules()).rejections[0].reason


def test_wal_replays_committed_lines_and_drops_a_torn_tail(tmp_path):
    wal = WriteAheadLog(tmp_path)
    list(wal.replay())
    first = wal.append([reading("S1", START_US)])
    wal.append([reading("S2", START_US)])
    wal.close()
    segment = tmp_path / "wal-0000000000.log"
    with open(segment, "ab") as handle:
        handle.write(b'deadbeef [["torn')  # a crash mid-write
    wal = WriteAheadLog(tmp_path)
    assert [r[0][0] for r, _ in wal.replay()] == ["S1", "S2"]
    wal.append([reading("S3", START_US)])
    wal.checkpoint(first)
    wal.close()
    assert [r[0][0] for r, _ in WriteAheadLog(tmp_path).replay()] == ["S2", "S3"]


def test_lander_lands_each_reading_once_per_group_and_minute_and_records_gaps(tmp_path):
    lander = Lander(tmp_path, BERLIN, lateness_s=1.0, idle_close_s=60)
    minute = [reading("COAT-01.t", START_US + s * 1_000_000, float(s)) for s in range(60) if not 20 <= s < 30]
    lander.land(minute[:30])
    lander.land(minute[20:] + minute[:5])  # overlap: a redelivery
    lander.land([reading("COAT-01.t", START_US + 61_000_000)])  # watermark past the first minute + lateness
    assert lander.compact_due() == 1
    folder = tmp_path / "raw" / "sensor_readings" / "date=2026-11-09"
    merged = folder / "live-COAT-202611090500.parquet"
    assert merged.exists() and not list(folder.glob("live-COAT-202611090500-p*"))
    table = pq.read_table(merged)
    assert table.schema.equals(RAW_TABLES["sensor_readings"])
    assert table.num_rows == 50 and len(set(keys_of(table))) == 50
    assert lander.counters["duplicates"] == 15
    gaps = read_gaps(tmp_path).to_pylist()
    assert len(gaps) == 1 and gaps[0]["gap_s"] == 11.0 and gaps[0]["expected_interval_s"] == 1.0

    # a restarted lander knows what landed: a redelivery adds nothing, a late reading re-lands the minute
    days, cursor = landed_minutes_since(tmp_path, None)
    assert days == ["2026-11-09"]
    restarted = Lander(tmp_path, BERLIN, lateness_s=1.0, idle_close_s=60)
    assert restarted.land(minute[:10]) == 0
    assert restarted.land([reading("COAT-01.t", START_US + 25_000_000)]) == 1
    restarted.compact_due(force=True)
    assert pq.read_table(merged).num_rows == 51
    time.sleep(0.01)
    assert landed_minutes_since(tmp_path, cursor)[0] == ["2026-11-09"]
    assert len(read_gaps(tmp_path)) == 2  # the straggler split the gap in two


def test_score_latest_flags_a_spike_against_the_rolling_median(tmp_path):
    lander = Lander(tmp_path, BERLIN)
    rows = [reading("COAT-01.t", START_US + s * 1_000_000, 60.0 + (s % 3) * 0.1) for s in range(120)]
    rows += [
        reading("COAT-02.t", START_US + s * 1_000_000, 40.0 + (s % 3) * 0.1, "COAT-02") for s in range(119)
    ]
    rows.append(reading("COAT-02.t", START_US + 119_000_000, 55.0, "COAT-02"))
    lander.land(rows)
    scores = score_latest(tmp_path, window=timedelta(minutes=5))
    assert [r["sensor_id"] for r in scores] == ["COAT-02.t", "COAT-01.t"]
    assert scores[0]["is_anomaly"] and scores[0]["robust_z"] > 100 and not scores[1]["is_anomaly"]
    assert score_latest(tmp_path, sensor_ids=["COAT-01.t"])[0]["baseline_median"] == pytest.approx(60.1)


# ---------------------------------------------------------------- end to end with a real broker


class Processes:
    def __init__(self):
        self.running: list[subprocess.Popen] = []

    def start(self, *args: str) -> subprocess.Popen:
        proc = subprocess.Popen(
            [sys.executable, "-m", "orchestration.ingestion", *args],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.running.append(proc)
        return proc

    def broker(self, port: int) -> subprocess.Popen:
        proc = self.start("broker", "--port", str(port))
        wait_for(lambda: connectable(port), f"broker on {port}")
        return proc

    def service(self, lake: Path, mqtt_port: int, http_port: int) -> subprocess.Popen:
        proc = self.start(
            "service",
            "--lake",
            str(lake),
            "--mqtt-port",
            str(mqtt_port),
            "--http-port",
            str(http_port),
            "--lateness",
            "1",
            "--idle-close",
            "2",
        )
        wait_for(lambda: _get(http_port, "/health") is not None, "service health")
        return proc

    def stop(self, proc: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def cleanup(self) -> None:
        for proc in self.running:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


@pytest.fixture
def procs():
    processes = Processes()
    yield processes
    processes.cleanup()


def _get(port: int, path: str):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as response:
            return json.load(response)
    except OSError:
        return None


def _post(port: int, path: str, body: object) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


@pytest.mark.e2e  # starts the broker, the service and the feed as processes
def test_kill_9_mid_stream_loses_no_acknowledged_reading_and_duplicates_none(tmp_path, procs):
    mqtt_port, http_port = free_port(), free_port()
    procs.broker(mqtt_port)
    service = procs.service(tmp_path, mqtt_port, http_port)
    publisher = BufferedPublisher("127.0.0.1", mqtt_port, source="line-a", receipt_timeout_s=2.0)
    instants = synthetic_plant(200, 1.0, start_us=START_US, groups=4)
    try:
        submitted = replay(publisher, instants, speed=0, limit=20_000)  # 100 s of a 200-sensor plant
        http_ack = _post(
            http_port,
            "/readings",
            [
                {
                    "sensor_id": "ROOM-1.dew",
                    "machine_id": "ROOM-1",
                    "measure": "dew_point",
                    "unit": "degC",
                    "reading_ts": START.isoformat(),
                    "value": -40.0,
                }
            ],
        )
        assert http_ack == {"accepted": 1, "quarantined": 0, "reasons": []}
        wait_for(lambda: publisher.stats["receipted_readings"] > 4_000, "some receipts before the kill")
        service.send_signal(signal.SIGSTOP)  # frozen mid-stream: parts half-written, half-compacted, ...
        # and readings in flight that it can no longer acknowledge, however fast it had caught up
        submitted += replay(
            publisher,
            synthetic_plant(200, 1.0, start_us=START_US + 200_000_000, groups=4),
            speed=0,
            limit=2_000,
        )
        service.send_signal(signal.SIGKILL)
        service.wait()
        receipted_before = set(publisher.receipted_batches)
        assert publisher.pending_readings() > 0, "the kill came too late to be mid-stream"
        more = replay(
            publisher,
            synthetic_plant(200, 1.0, start_us=START_US + 100_000_000, groups=4),
            speed=0,
            limit=2_000,
        )  # published while the service is down
        service = procs.service(tmp_path, mqtt_port, http_port)
        assert publisher.flush(timeout_s=30), f"unreceipted readings remain: {publisher.stats}"
    finally:
        publisher.close()
    procs.stop(service)
    table = landed(tmp_path)
    keys = keys_of(table)
    assert len(keys) == len(set(keys)), "a reading landed twice"
    assert len(keys) == submitted + more + 1, "an acknowledged reading is missing"
    assert receipted_before <= publisher.receipted_batches
    assert table.schema.equals(RAW_TABLES["sensor_readings"])
    assert ("ROOM-1.dew", START) in set(keys)


@pytest.mark.e2e  # starts the broker, the service and the feed as processes
def test_broker_outage_is_buffered_by_the_feed_and_replayed_to_a_complete_landing(tmp_path, procs):
    mqtt_port, http_port = free_port(), free_port()
    broker = procs.broker(mqtt_port)
    service = procs.service(tmp_path, mqtt_port, http_port)
    publisher = BufferedPublisher("127.0.0.1", mqtt_port, source="line-b", receipt_timeout_s=2.0)
    try:
        total = replay(
            publisher, synthetic_plant(100, 1.0, start_us=START_US, groups=2), speed=0, limit=3_000
        )
        assert publisher.flush(timeout_s=20)
        procs.stop(broker, signal.SIGKILL)  # the network to the broker is gone
        total += replay(
            publisher,
            synthetic_plant(100, 1.0, start_us=START_US + 30_000_000, groups=2),
            speed=0,
            limit=3_000,
        )
        time.sleep(1.0)
        assert publisher.pending_readings() == 3_000, "readings were lost instead of buffered"
        procs.broker(mqtt_port)  # back
        assert publisher.flush(timeout_s=30), f"the buffer was not replayed: {publisher.stats}"
    finally:
        publisher.close()
    wait_for(lambda: _get(http_port, "/stats")["landed"] >= 6_000, "landing")
    stats = _get(http_port, "/stats")
    procs.stop(service)
    keys = keys_of(landed(tmp_path))
    assert len(keys) == len(set(keys)) == total == 6_000
    assert stats["accepted"] >= 6_000 and stats["latency_source_to_landed"]["count"] >= 6_000
    assert read_gaps(tmp_path).num_rows == 0  # the outage left no hole in the data


@pytest.mark.e2e  # starts the broker, the service and the feed as processes
def test_http_batches_are_validated_and_bad_readings_kept_in_quarantine(tmp_path, procs):
    mqtt_port, http_port = free_port(), free_port()
    procs.broker(mqtt_port)
    service = procs.service(tmp_path, mqtt_port, http_port)
    good = {
        "sensor_id": "FORM-01.v",
        "machine_id": "FORM-01",
        "measure": "voltage",
        "unit": "V",
        "value": 3.7,
    }
    now = datetime.now(UTC)
    batch = [{**good, "reading_ts": (now - timedelta(seconds=10 - s)).isoformat()} for s in range(10)]
    batch.append({**good, "value": "high", "reading_ts": now.isoformat()})
    batch.append({**good, "reading_ts": (now + timedelta(hours=1)).isoformat()})
    answer = _post(http_port, "/readings", batch)
    assert answer["accepted"] == 10 and answer["quarantined"] == 2
    wait_for(lambda: len(keys_of(landed(tmp_path))) == 10, "landing within a second", timeout=2.0)
    scores = _get(http_port, "/score")
    assert scores[0]["sensor_id"] == "FORM-01.v" and scores[0]["robust_z"] == 0.0
    procs.stop(service)
    reasons = sorted(row["reason"] for row in read_quarantine(tmp_path))
    assert "ahead of the receiving clock" in reasons[0] and reasons[1] == "value must be a finite number"
    assert not list((tmp_path / "raw").rglob("*quarantine*"))
    assert os.path.isdir(tmp_path / "ingest" / "wal")
