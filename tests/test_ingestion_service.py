"""The ingestion service in process: HTTP and MQTT in, quarantine, acknowledgement, WAL replay after a crash.

The end-to-end tier (tests/test_ingestion.py) runs the broker, the service and the feed as processes; here the
same classes run as threads of the test process (an amqtt broker on an event loop thread, the service's own
threads, a ``BufferedPublisher``), on localhost ports, with a few hundred readings of known content.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pyarrow as pa
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from orchestration.ingestion import read_quarantine
from orchestration.ingestion.broker import broker_config
from orchestration.ingestion.feed import BufferedPublisher, replay, synthetic_plant
from orchestration.ingestion.service import IngestionService, ServiceConfig
from tests.live_helpers import BERLIN, START_US, landed, reading, request, wait_for


def landed_keys(lake: Path) -> list[tuple[str, int]]:
    table = landed(lake)
    stamps = table.column("reading_ts").cast(pa.int64()).to_pylist()
    return list(zip(table.column("sensor_id").to_pylist(), stamps, strict=True))


def test_broker_config_refuses_anonymous_clients():
    config = broker_config("127.0.0.1", 1884)
    assert config["listeners"]["default"]["bind"] == "127.0.0.1:1884"
    assert config["plugins"]["amqtt.plugins.authentication.AnonymousAuthPlugin"] == {"allow_anonymous": False}


def test_http_batch_is_acknowledged_with_counts_and_bad_readings_are_quarantined_with_the_field(
    tmp_path, services
):
    service = services(tmp_path)
    port = service.http_port
    assert port != 0 and request(port, "/health")[1]["status"] == "ok"
    now = datetime.now(UTC).replace(microsecond=0)
    good = [reading("FORM-01.v", now - timedelta(seconds=20 - s)) for s in range(10)]
    bad = [
        {**reading("FORM-01.v", now), "value": "high"},
        reading("FORM-01.v", now + timedelta(hours=1)),
        {**reading("FORM-01.v", now), "machine_id": ""},
    ]
    status, answer = request(port, "/readings", good + bad)
    assert status == 200
    assert answer["accepted"] == 10 and answer["quarantined"] == 3
    assert "value must be a finite number" in answer["reasons"]
    assert "machine_id must be a non-empty string" in answer["reasons"]
    status, answer = request(port, "/readings", b"{not json")
    assert status == 200 and answer["accepted"] == 0 and answer["quarantined"] == 1

    # acknowledged readings are queryable within the flush interval, once each
    wait_for(lambda: len(landed_keys(tmp_path)) == 10, "the accepted readings to land")
    assert sorted(landed_keys(tmp_path)) == sorted(
        ("FORM-01.v", int(datetime.fromisoformat(r["reading_ts"]).timestamp() * 1e6)) for r in good
    )
    status, stats = request(port, "/stats")
    assert status == 200
    assert stats["messages"] == 2
    assert (stats["accepted"], stats["quarantined"]) == (10, 4)  # rows in: 13 readings + 1 unreadable body
    assert stats["landed"] == 10 and stats["latency_source_to_landed"]["count"] == 10
    status, scores = request(port, "/score")
    assert status == 200 and [s["sensor_id"] for s in scores] == ["FORM-01.v"]
    assert scores[0]["robust_z"] == 0.0 and not scores[0]["is_anomaly"]  # a flat 3.7 V
    assert request(port, "/stats/reset", {}) == (200, {"reset": True})
    assert request(port, "/stats")[1]["latency_source_to_landed"] == {"count": 0}
    assert request(port, "/nowhere")[0] == 404
    assert request(port, "/nowhere", {})[0] == 404
    service.stop()

    quarantine = read_quarantine(tmp_path)
    by_field = {row["field"]: row for row in quarantine}
    assert sorted(by_field) == ["", "machine_id", "reading_ts", "value"]
    assert json.loads(by_field["value"]["record"])["value"] == "high"
    assert "ahead of the receiving clock" in by_field["reading_ts"]["reason"]
    assert "not valid JSON" in by_field[""]["reason"] and "{not json" in by_field[""]["record"]
    assert {row["channel"] for row in quarantine} == {"http"}
    assert not list((tmp_path / "raw").rglob("*quarantine*"))  # nothing rejected reached the lake


def test_a_second_service_on_the_same_lake_is_refused(tmp_path, services):
    services(tmp_path)
    with pytest.raises(SystemExit, match="another ingestion service is running"):
        IngestionService(ServiceConfig(lake_dir=tmp_path, calendar=BERLIN))


def test_readings_acknowledged_before_a_crash_land_from_the_wal_on_restart_and_once_only(tmp_path, services):
    # a lander that would not run for a minute: acknowledged readings are only in the write-ahead log
    first = services(tmp_path, flush_interval_s=60, checkpoint_interval_s=60)
    now = datetime.now(UTC).replace(microsecond=0)
    stamps = [now - timedelta(seconds=30 - s) for s in range(30)]
    batch = [reading("FORM-02.v", stamp, 3.0 + n / 100, "FORM-02") for n, stamp in enumerate(stamps)]
    assert request(first.http_port, "/readings", batch)[1]["accepted"] == 30
    time.sleep(0.1)  # the lander thread's first round ran before the post; the next is a minute away
    assert landed_keys(tmp_path) == []

    # the crash: threads stop without landing, the OS drops the lock; a torn line was being written
    first.http.shutdown()
    first._stop.set()
    for thread in first._threads:
        thread.join(timeout=5)
    first.wal.close()
    first._lock_file.close()
    segment = sorted((tmp_path / "ingest" / "wal").glob("wal-*.log"))[-1]
    with open(segment, "ab") as handle:
        handle.write(b'0badc0de [["FORM-02.v","FORM-02"')

    second = services(tmp_path)
    assert second.counters["replayed"] == 30
    keys = landed_keys(tmp_path)
    assert len(keys) == len(set(keys)) == 30
    assert second.lander.latency_percentiles() == {"count": 0}  # replayed readings are no live latency

    # the feed did not get its receipt and sends the batch again: accepted, acknowledged, not landed twice
    assert request(second.http_port, "/readings", batch)[1]["accepted"] == 30
    wait_for(lambda: second.stats()["duplicates"] == 30, "the redelivery to be recognised")
    second.stop()
    keys = landed_keys(tmp_path)
    assert len(keys) == len(set(keys)) == 30
    checkpoint = json.loads((tmp_path / "ingest" / "wal" / "checkpoint.json").read_text())
    assert (checkpoint["segment"], checkpoint["offset"]) == second.wal.position  # nothing left to replay


def test_mqtt_batches_are_receipted_after_the_wal_and_land_exactly_once(tmp_path, broker, services):
    service = services(tmp_path, mqtt_port=broker.port)
    publisher = BufferedPublisher("127.0.0.1", broker.port, source="line-a", receipt_timeout_s=2.0)
    raw = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="test-raw", clean_session=True)
    raw.username_pw_set("test-raw")
    raw.connect("127.0.0.1", broker.port)
    raw.loop_start()
    try:
        instants = synthetic_plant(20, 1.0, start_us=START_US, groups=2)
        submitted = replay(publisher, instants, speed=0, limit=400)
        assert submitted == 400
        assert publisher.flush(timeout_s=10), f"unreceipted readings remain: {publisher.stats}"
        assert publisher.receipted_batches == set(range(1, 41))  # 20 instants x 2 groups
        assert publisher.stats["receipted_readings"] == 400 and publisher.pending_readings() == 0
        # a garbled message on a sensor topic, a garbled receipt: quarantined and ignored respectively
        raw.publish("gigafactory/sensors/L00", b"\xff\xfe not json", qos=1).wait_for_publish(5)
        raw.publish("gigafactory/receipts/line-a", b"nonsense", qos=1).wait_for_publish(5)
        wait_for(lambda: service.counters["quarantined"] == 1, "the garbled message in the quarantine")
        wait_for(lambda: len(landed_keys(tmp_path)) == 400, "landing")
    finally:
        raw.loop_stop()
        raw.disconnect()
        publisher.close()
    stats = service.stats()
    assert stats["accepted"] == 400 and stats["duplicates"] == 0
    assert set(stats["source_clock_lag_s"]) == {"line-a"}
    service.stop()
    keys = landed_keys(tmp_path)
    assert len(keys) == len(set(keys)) == 400
    assert {sensor for sensor, _ in keys} == {f"L{i % 2:02d}-{i // 2:04d}.temperature" for i in range(20)}
    (row,) = read_quarantine(tmp_path)
    assert row["channel"] == "mqtt:gigafactory/sensors/L00" and "not valid JSON" in row["reason"]


def test_a_broker_outage_is_buffered_by_the_feed_and_replayed_once_it_is_back(tmp_path, broker, services):
    service = services(tmp_path, mqtt_port=broker.port)
    publisher = BufferedPublisher("127.0.0.1", broker.port, source="line-b", receipt_timeout_s=1.0)
    try:
        replay(publisher, synthetic_plant(10, 1.0, start_us=START_US, groups=1), speed=0, limit=100)
        assert publisher.flush(timeout_s=10)
        broker.stop()
        wait_for(lambda: publisher.stats["disconnects"] >= 1, "the feed to notice the outage")
        later = synthetic_plant(10, 1.0, start_us=START_US + 10_000_000, groups=1)
        replay(publisher, later, speed=0, limit=100)
        time.sleep(0.3)
        assert publisher.pending_readings() == 100, "readings were lost instead of buffered"
        broker.start()
        assert publisher.flush(timeout_s=15), f"the buffer was not replayed: {publisher.stats}"
    finally:
        publisher.close()
    wait_for(lambda: len(landed_keys(tmp_path)) == 200, "landing")
    service.stop()
    keys = landed_keys(tmp_path)
    assert len(keys) == len(set(keys)) == 200
    assert publisher.stats["dropped"] == 0


def test_a_batch_without_a_receipt_is_sent_again_and_lands_once(tmp_path, broker, services):
    # the broker is up but no service subscribes yet: the broker drops the batches, no receipt comes
    publisher = BufferedPublisher("127.0.0.1", broker.port, source="line-c", receipt_timeout_s=0.2)
    try:
        replay(publisher, synthetic_plant(5, 1.0, start_us=START_US, groups=1), speed=0, limit=50)
        wait_for(lambda: publisher.stats["resent"] >= 10, "every batch to be sent again")
        assert publisher.pending_readings() == 50 and not publisher.receipted_batches
        service = services(tmp_path, mqtt_port=broker.port)
        assert publisher.flush(timeout_s=10), f"unreceipted readings remain: {publisher.stats}"
    finally:
        publisher.close()
    assert publisher.receipted_batches == set(range(1, 11))
    service.stop()
    keys = landed_keys(tmp_path)
    assert len(keys) == len(set(keys)) == 50  # sent two or more times, landed once
