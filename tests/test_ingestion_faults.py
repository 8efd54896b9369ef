"""Faults a plant's ingestion meets every week: poison messages, a flood of garbage, a sender without the
token, a disk that refuses the write-ahead log. After each, the service is healthy and the next valid reading
lands."""

from __future__ import annotations

import http.client
import json
import random
import socket
import ssl
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from orchestration.ingestion import read_quarantine
from orchestration.ingestion.broker import broker_config, password_line
from orchestration.ingestion.feed import BufferedPublisher
from orchestration.ingestion.service import IngestionService, ServiceConfig
from tests.live_helpers import BERLIN, START, InProcessBroker, free_port, landed, reading, request, wait_for

NOW = datetime.now(UTC).replace(microsecond=0)


def valid_reading_lands(service, lake, sensor: str) -> None:
    """The proof that a fault cost nothing: a valid reading is acknowledged, lands, and /health says ok."""
    status, body = request(service.http_port, "/readings", reading(sensor, START))
    assert (status, body["accepted"]) == (200, 1), body
    wait_for(lambda: sensor in landed(lake).column("sensor_id").to_pylist(), f"{sensor} to land")
    status, health = request(service.http_port, "/health")
    assert (status, health["status"]) == (200, "ok"), health


def raw_post(port: int, body: bytes, headers: dict[str, str]) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.putrequest("POST", "/readings", skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


def test_the_four_poison_messages_are_quarantined_and_the_service_carries_on(tmp_path, services):
    service = services(tmp_path, first_day=date(2026, 1, 1))
    poison = {
        "nested 200 KB": b"[" * 100_000 + b"]" * 100_000,
        "400-digit value": json.dumps({**reading("S-1", START), "value": 10**400}).encode(),
        "wildcard source": json.dumps(
            {"source": "gw/#", "batch": 1, "readings": [reading("S-1", START)]}
        ).encode(),
        "stamped 2001": json.dumps(reading("S-1", datetime(2001, 5, 31, 12, tzinfo=UTC))).encode(),
    }
    for name, body in poison.items():
        status, answer = request(service.http_port, "/readings", body)
        assert status == 200 and answer["accepted"] == 0 and answer["quarantined"] == 1, (name, answer)
    reasons = [row["reason"] for row in read_quarantine(tmp_path)]
    assert any("nested too deep" in r for r in reasons)
    assert "value must be a finite number" in reasons
    assert any(r.startswith("source must be an identifier") for r in reasons)
    assert any("before 2026-01-01, the plant's first factory day" in r for r in reasons)
    assert not (tmp_path / "raw" / "sensor_readings" / "date=2001-05-31").exists()
    valid_reading_lands(service, tmp_path, "S-after-poison")


def test_bodies_are_bounded_and_a_bad_length_is_answered_at_once(tmp_path, services):
    service = services(tmp_path, max_body_bytes=1 << 20)
    port = service.http_port
    # 50 MB announced: refused from the header, before a byte of the body is read (or kept)
    status, answer = raw_post(port, b"{}", {"Content-Length": str(50 << 20)})
    assert status == 413 and "over the limit" in answer["error"]
    for bad in ("-1", "many"):
        status, answer = raw_post(port, b"", {"Content-Length": bad})
        assert status == 400 and "Content-Length" in answer["error"], bad
    # a sender that stops mid-body is let go after the socket timeout, not waited on for ever
    quick = services(tmp_path / "quick", socket_timeout_s=0.5)
    with socket.create_connection(("127.0.0.1", quick.http_port), timeout=5) as sock:
        sock.sendall(b"POST /readings HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        started = time.monotonic()
        assert sock.recv(1024) == b""  # the server closed the connection
        assert time.monotonic() - started < 4
    valid_reading_lands(service, tmp_path, "S-after-oversize")


def test_a_flood_of_random_garbage_never_stops_the_service(tmp_path, services):
    service = services(tmp_path, first_day=date(2026, 1, 1), max_body_bytes=64 << 10)
    shapes = [
        lambda r: r.randbytes(r.randint(0, 300)),
        lambda r: json.dumps(reading("S-1", START))[: r.randint(0, 80)].encode(),
        lambda r: b"{" * r.randint(1, 5000),
        lambda r: json.dumps(
            {
                **reading("S-1", START),
                r.choice(["value", "reading_ts"]): r.choice(
                    [
                        None,
                        True,
                        "x",
                        [],
                        {},
                        10 ** r.randint(309, 500),  # beyond a float
                        -(10**400),
                        1e308 * 10,
                        "2026-13-45T99:00Z",
                    ]
                ),
            }
        ).encode(),
        lambda r: json.dumps(
            {"source": r.choice(["a/b", "+", "#", "", "x" * 100, 7]), "readings": []}
        ).encode(),
        lambda r: json.dumps(
            {**reading("S-1", START), "sensor_id": r.choice([None, 5, [], {}, "", " ", "a" * 300, "a\x00b"])}
        ).encode(),
        lambda r: json.dumps({"readings": r.choice([None, "x", 5, {"a": 1}])}).encode(),
        lambda r: json.dumps([r.random() for _ in range(r.randint(0, 50))]).encode(),
        lambda r: b"x" * r.randint(64 << 10, 80 << 10),  # over the body limit
    ]
    rng = random.Random(18)  # fixed: a failure is reproducible
    bodies = [rng.choice(shapes)(rng) for _ in range(3000)]

    def send(chunk: list[bytes]) -> list[int]:
        """One publisher's keep-alive connection (16 at once: the committer takes them in batches)."""
        statuses, connection = [], http.client.HTTPConnection("127.0.0.1", service.http_port, timeout=30)
        for body in chunk:
            try:
                connection.request("POST", "/readings", body=body, headers={"Content-Length": str(len(body))})
                response = connection.getresponse()
                response.read()
                statuses.append(response.status)
                if response.will_close:
                    connection.close()
            except (ConnectionError, http.client.HTTPException):
                connection.close()
        connection.close()
        return statuses

    with ThreadPoolExecutor(16) as pool:
        statuses = [
            status for chunk in pool.map(send, [bodies[i::16] for i in range(16)]) for status in chunk
        ]
    answers = {status: statuses.count(status) for status in set(statuses)}
    assert set(answers) <= {200, 413} and answers.get(200, 0) > 2000, answers
    assert service.counters["accepted"] == 0  # none of the garbage is a reading
    valid_reading_lands(service, tmp_path, "S-after-fuzz")


def test_a_wildcard_source_over_mqtt_is_quarantined_and_the_next_batch_is_receipted(
    tmp_path, broker, services
):
    service = services(tmp_path, mqtt_port=broker.port)
    wait_for(lambda: service.mqtt.is_connected(), "the service to connect")
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="prankster")
    client.username_pw_set("prankster")
    receipts: list[str] = []
    client.on_message = lambda c, u, m: receipts.append(m.topic)
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    try:
        client.subscribe("gigafactory/receipts/#", qos=1)
        envelope = {"source": "gw/#", "batch": 1, "readings": [reading("S-1", START)]}
        client.publish("gigafactory/sensors/FORM", json.dumps(envelope), qos=1).wait_for_publish(5)
        good = {"source": "gw-7", "batch": 2, "readings": [reading("S-mqtt", START)]}
        client.publish("gigafactory/sensors/FORM", json.dumps(good), qos=1).wait_for_publish(5)
        wait_for(lambda: "gigafactory/receipts/gw-7" in receipts, "the receipt of the good batch")
    finally:
        client.loop_stop()
        client.disconnect()
    assert receipts == ["gigafactory/receipts/gw-7"]
    assert [row["field"] for row in read_quarantine(tmp_path)] == ["source"]
    valid_reading_lands(service, tmp_path, "S-after-mqtt")


def test_a_failing_write_ahead_log_answers_503_shows_on_health_and_heals(tmp_path, services, monkeypatch):
    service = services(tmp_path)
    honest_append = service.wal.append

    def disk_full(readings):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(service.wal, "append", disk_full)
    status, answer = request(service.http_port, "/readings", reading("S-lost", START))
    assert status == 503 and "No space left on device" in answer["error"]
    status, health = request(service.http_port, "/health")
    assert status == 503 and health["status"] == "unhealthy"
    assert any("cannot commit" in problem for problem in health["problems"])
    monkeypatch.setattr(service.wal, "append", honest_append)
    valid_reading_lands(service, tmp_path, "S-after-disk-full")  # the committer lived through it


def test_beyond_loopback_a_token_is_required_and_checked(tmp_path, services):
    with pytest.raises(SystemExit, match="GIGAFACTORY_INGEST_TOKEN"):
        IngestionService(ServiceConfig(lake_dir=tmp_path, calendar=BERLIN, http_host="0.0.0.0"))
    config = ServiceConfig(lake_dir=tmp_path, calendar=BERLIN, http_token="s3cret-token")
    assert "s3cret-token" not in repr(config)
    service = services(tmp_path, http_token="s3cret-token")
    body = json.dumps(reading("S-token", START)).encode()
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret-token"}):
        status, _ = raw_post(service.http_port, body, {"Content-Length": str(len(body)), **headers})
        assert status == 401, headers
    status, answer = raw_post(
        service.http_port, body, {"Content-Length": str(len(body)), "Authorization": "Bearer s3cret-token"}
    )
    assert (status, answer["accepted"]) == (200, 1)
    assert request(service.http_port, "/health")[0] == 200  # the probe needs no token


def test_the_broker_needs_passwords_beyond_loopback():
    with pytest.raises(SystemExit, match="password-file"):
        broker_config("0.0.0.0", 1883)
    assert "FileAuthPlugin" in next(iter(broker_config("0.0.0.0", 1883, password_file="pw")["plugins"]))


def self_signed_certificate(folder) -> tuple:
    """A certificate for 127.0.0.1 and its key (Debian's openssl), the certificate doubling as its CA."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def test_https_serves_readings_with_the_plant_certificate(tmp_path, services):
    cert, key = self_signed_certificate(tmp_path)
    service = services(tmp_path / "lake", tls_cert=cert, tls_key=key)
    context = ssl.create_default_context(cafile=str(cert))
    connection = http.client.HTTPSConnection("127.0.0.1", service.http_port, context=context, timeout=10)
    body = json.dumps(reading("S-tls", START + timedelta(seconds=1)))
    connection.request("POST", "/readings", body=body)
    answer = connection.getresponse()
    assert (answer.status, json.loads(answer.read())["accepted"]) == (200, 1)
    with pytest.raises(ssl.SSLError):  # a client that does not trust the certificate is refused
        http.client.HTTPSConnection(
            "127.0.0.1", service.http_port, context=ssl.create_default_context(), timeout=10
        ).request("GET", "/health")


def test_mqtt_over_tls_with_passwords_lands_readings_and_refuses_a_wrong_password(tmp_path, services):
    cert, key = self_signed_certificate(tmp_path)
    passwords = tmp_path / "mqtt.passwd"
    passwords.write_text(
        "\n".join([password_line("ingest", "service-secret"), password_line("feed-line-t", "feed-secret")])
        + "\n"
    )
    broker = InProcessBroker(free_port(), password_file=passwords, tls_cert=cert, tls_key=key)
    broker.start()
    try:
        service = services(
            tmp_path / "lake", mqtt_port=broker.port, mqtt_password="service-secret", mqtt_tls_ca=cert
        )
        wait_for(lambda: service.mqtt.is_connected(), "the service to connect over TLS")
        publisher = BufferedPublisher(
            "127.0.0.1", broker.port, source="line-t", password="feed-secret", tls_ca=str(cert)
        )
        try:
            publisher.submit("FORM", [reading("S-tls-mqtt", START)])
            publisher.flush(timeout_s=10)
        finally:
            publisher.close()
        wait_for(lambda: "S-tls-mqtt" in landed(tmp_path / "lake").column("sensor_id").to_pylist(), "landing")
        refused: list[str] = []
        intruder = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="intruder")
        intruder.username_pw_set("ingest", "guess")
        intruder.tls_set(ca_certs=str(cert))
        intruder.on_connect = lambda c, u, f, reason, p: refused.append(str(reason))
        intruder.connect("127.0.0.1", broker.port)
        intruder.loop_start()
        wait_for(lambda: refused, "the broker's answer")
        intruder.loop_stop()
        assert refused == ["Not authorized"]
    finally:
        broker.close()
