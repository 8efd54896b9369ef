"""The publisher side: a gateway that buffers while the broker is unreachable and replays after.

``BufferedPublisher`` numbers each message (one sensor group's readings of one sampling instant) as a batch
and keeps it until the ingestion service's receipt for it arrives on ``gigafactory/receipts/<source>``,
which is sent only after the readings are fsynced in the service's write-ahead log. Unsent batches wait in
order while the broker is down; a batch without a receipt after ``receipt_timeout_s`` (the broker or the
service went down with it in flight) is sent again; the service drops the duplicates. The buffer lives in
memory, bounded by ``max_buffered`` readings (the oldest are dropped and counted beyond that).

Sources: ``simulated_telemetry`` replays a factory day of the simulated plant; ``synthetic_plant`` makes up a
plant of N sensors (benchmarks, tests).
"""

from __future__ import annotations

import itertools
import json
import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

from orchestration.ingestion.payload import group_of

SENSORS_TOPIC = "gigafactory/sensors/{group}"


class BufferedPublisher:
    def __init__(
        self,
        host: str,
        port: int,
        source: str = "feed",
        receipt_timeout_s: float = 5.0,
        max_inflight: int = 2000,
        max_buffered: int = 10_000_000,
        password: str | None = None,  # the MQTT user is feed-<source>
        tls_ca: str | None = None,  # MQTT over TLS, trusting this CA (PEM)
    ):
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        self.source = source
        self.receipt_timeout_s = receipt_timeout_s
        self.max_inflight = max_inflight
        self.max_buffered = max_buffered
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._payloads: dict[int, tuple[str, bytes, int]] = {}  # batch -> (topic, payload, readings)
        self._unsent: deque[int] = deque()
        self._awaiting: OrderedDict[int, float] = OrderedDict()  # batch -> sent at (monotonic)
        self._batches = itertools.count(1)
        self.receipted_batches: set[int] = set()
        self.stats = {"published": 0, "resent": 0, "receipted_readings": 0, "dropped": 0, "disconnects": 0}
        self._buffered = 0
        self._connected = False
        self._closed = False
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"feed-{source}", clean_session=True)
        client.username_pw_set(f"feed-{source}", password)
        if tls_ca is not None:
            client.tls_set(ca_certs=tls_ca)
        client.max_inflight_messages_set(max_inflight)
        client.max_queued_messages_set(0)
        client.reconnect_delay_set(0.1, 1)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_receipt
        self._client = client
        client.connect_async(host, port, keepalive=5)
        client.loop_start()
        self._sender = threading.Thread(target=self._send_loop, name=f"publisher-{source}", daemon=True)
        self._sender.start()

    # ---- paho callbacks
    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            return
        client.subscribe(f"gigafactory/receipts/{self.source}", qos=1)
        with self._lock:
            # whatever was in flight on the old connection goes again, in order
            for batch in reversed(self._awaiting):
                self._unsent.appendleft(batch)
            self._awaiting.clear()
            self._connected = True
        self._wake.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties):
        with self._lock:
            self._connected = False
            self.stats["disconnects"] += 1

    def _on_receipt(self, client, userdata, message):
        try:
            batches = json.loads(message.payload)["batches"]
        except (ValueError, KeyError, TypeError):
            return
        with self._lock:
            for batch in batches:
                entry = self._payloads.pop(batch, None)
                self._awaiting.pop(batch, None)
                if entry is not None:
                    self.receipted_batches.add(batch)
                    self.stats["receipted_readings"] += entry[2]
                    self._buffered -= entry[2]
        self._wake.set()

    # ---- publishing
    def submit(self, group: str, readings: list[dict]) -> int:
        """Queue one group's readings as a batch; returns its batch number."""
        batch = next(self._batches)
        body = {"source": self.source, "batch": batch, "readings": readings}
        payload = json.dumps(body, separators=(",", ":")).encode()
        with self._lock:
            self._payloads[batch] = (SENSORS_TOPIC.format(group=group), payload, len(readings))
            self._unsent.append(batch)
            self._buffered += len(readings)
            while self._buffered > self.max_buffered and self._unsent:
                oldest = self._unsent.popleft()
                entry = self._payloads.pop(oldest, None)
                if entry is not None:
                    self._buffered -= entry[2]
                    self.stats["dropped"] += entry[2]
        self._wake.set()
        return batch

    def _send_loop(self) -> None:
        while not self._closed:
            self._wake.wait(0.05)
            self._wake.clear()
            now = time.monotonic()
            with self._lock:
                while self._awaiting:  # no receipt in time: send again
                    batch, sent_at = next(iter(self._awaiting.items()))
                    if now - sent_at < self.receipt_timeout_s:
                        break
                    self._awaiting.popitem(last=False)
                    if batch in self._payloads:
                        self._unsent.appendleft(batch)
                        self.stats["resent"] += 1
                to_send = []
                if self._connected:
                    while self._unsent and len(self._awaiting) < self.max_inflight:
                        batch = self._unsent.popleft()
                        if batch in self._payloads:
                            to_send.append((batch, self._payloads[batch]))
                            self._awaiting[batch] = now
            for _batch, (topic, payload, _) in to_send:
                info = self._client.publish(topic, payload, qos=1)
                if info.rc != 0:  # lost the connection meanwhile: the reconnect re-sends what is awaited
                    break
                self.stats["published"] += 1

    def pending_readings(self) -> int:
        with self._lock:
            return self._buffered

    def flush(self, timeout_s: float = 60.0) -> bool:
        """Wait until every submitted batch is receipted."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.pending_readings() == 0:
                return True
            time.sleep(0.02)
        return False

    def close(self) -> None:
        self._closed = True
        self._wake.set()
        self._sender.join(timeout=5)
        self._client.disconnect()
        self._client.loop_stop()


def _iso(ts_us: int) -> str:
    return datetime.fromtimestamp(ts_us / 1e6, UTC).isoformat().replace("+00:00", "Z")


def synthetic_plant(
    sensors: int, interval_s: float, start_us: int | None = None, groups: int = 20
) -> Iterator[tuple[int, dict[str, list[dict]]]]:
    """An endless plant of ``sensors`` sensors sampled every ``interval_s``: (instant, readings by group)."""
    start_us = start_us if start_us is not None else time.time_ns() // 1000
    ids = [
        (f"L{i % groups:02d}-{i // groups:04d}", f"L{i % groups:02d}-{i // groups:04d}.temperature")
        for i in range(sensors)
    ]
    step_us = int(interval_s * 1e6)
    for tick in itertools.count():
        ts_us = start_us + tick * step_us
        stamp = _iso(ts_us)
        by_group: dict[str, list[dict]] = {}
        for n, (machine, sensor) in enumerate(ids):
            by_group.setdefault(group_of(machine), []).append(
                {
                    "sensor_id": sensor,
                    "machine_id": machine,
                    "measure": "temperature",
                    "unit": "degC",
                    "reading_ts": stamp,
                    "value": round(60 + 5 * math.sin(tick / 50 + n), 4),
                }
            )
        yield ts_us, by_group


def simulated_telemetry(scenario: Path, day: date) -> Iterator[tuple[int, dict[str, list[dict]]]]:
    """The simulated factory's telemetry of factory ``day``, instant by instant, in time order."""
    from orchestration.simulator.config import load_scenario
    from orchestration.simulator.engine import run_factory_day

    yield from telemetry_instants(run_factory_day(load_scenario(scenario), day).telemetry.batches())


def telemetry_instants(batches: Iterable) -> Iterator[tuple[int, dict[str, list[dict]]]]:
    """Sensor readings (record batches of the lake's ``sensor_readings``), instant by instant, in order."""
    import numpy as np

    for chunk in batches:
        order = np.argsort(chunk.column("reading_ts").cast("int64").to_numpy(), kind="stable")
        rows = chunk.take(order).to_pydict()
        stamps = [int(ts.timestamp() * 1e6) for ts in rows["reading_ts"]]
        current, by_group = None, {}
        for i, ts_us in enumerate(stamps):
            if ts_us != current:
                if by_group:
                    yield current, by_group
                current, by_group = ts_us, {}
            machine = rows["machine_id"][i]
            by_group.setdefault(group_of(machine), []).append(
                {
                    "sensor_id": rows["sensor_id"][i],
                    "machine_id": machine,
                    "measure": rows["measure"][i],
                    "unit": rows["unit"][i],
                    "reading_ts": _iso(ts_us),
                    "value": rows["value"][i],
                }
            )
        if by_group:
            yield current, by_group


def replay(
    publisher: BufferedPublisher,
    instants: Iterator[tuple[int, dict[str, list[dict]]]],
    speed: float = 1.0,
    live: bool = False,
    limit: int | None = None,
) -> int:
    """Publish instant by instant, paced at ``speed`` times real time (0: as fast as possible).

    ``live`` shifts the stamps so the first instant is now (a live plant); otherwise the source stamps are
    kept (a backfill of a past day, which lands in that day's partition). Returns the readings submitted.
    """
    started = time.monotonic()
    first = shift = None
    submitted = 0
    for ts_us, by_group in instants:
        if first is None:
            first = ts_us
            shift = time.time_ns() // 1000 - ts_us if live else 0
        if speed > 0:
            delay = (ts_us - first) / 1e6 / speed - (time.monotonic() - started)
            if delay > 0:
                time.sleep(delay)
        for group, readings in by_group.items():
            if shift:
                stamp = _iso(ts_us + shift)
                readings = [{**r, "reading_ts": stamp} for r in readings]
            publisher.submit(group, readings)
            submitted += len(readings)
        if limit is not None and submitted >= limit:
            break
    return submitted
