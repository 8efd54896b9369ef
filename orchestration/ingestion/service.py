"""The ingestion service: MQTT subscriber and HTTP endpoint in front of the write-ahead log and the lander.

Threads: paho's network loop (puts each message in the inbox), the committer (validates, writes the WAL and
the quarantine, fsyncs, then acknowledges), the lander (writes part files every ``flush_interval``, compacts
closed minutes, moves the WAL checkpoint) and the HTTP server.

Acknowledgement happens only after the fsync, in three ways: the MQTT PUBACK to the broker (``manual_ack``),
a receipt ``{"batches": [...]}`` on ``gigafactory/receipts/<source>`` for enveloped batches, and the HTTP 200.

No input stops the service: what cannot be read goes to the quarantine with its reason (payload.py); bodies
are bounded and sockets time out; a failure to commit (a full disk, an unwritable WAL) is retried and shown
by ``/health`` (503), never swallowed. HTTP asks for a bearer token (``GIGAFACTORY_INGEST_TOKEN``) whenever it
listens beyond loopback, and can serve TLS.
"""

from __future__ import annotations

import fcntl
import hmac
import ipaddress
import json
import os
import queue
import ssl
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from http.server import ThreadingHTTPServer
from pathlib import Path

from orchestration.factory_calendar import FactoryCalendar
from orchestration.ingestion.lander import Lander
from orchestration.ingestion.payload import EARLIEST_US, Parsed, ReadingRules, Rejection, parse_message
from orchestration.ingestion.wal import WriteAheadLog
from orchestration.service_loop import JsonHandler, serve_until_signalled

READINGS_TOPIC = "gigafactory/sensors/#"
RECEIPTS_TOPIC = "gigafactory/receipts/{source}"


@dataclass
class ServiceConfig:
    lake_dir: Path
    calendar: FactoryCalendar  # the plant's factory days (orchestration.plant), never a silent default
    mqtt_host: str = "127.0.0.1"
    mqtt_port: int = 1883
    mqtt_topic: str = READINGS_TOPIC
    client_id: str = "gigafactory-ingest"
    username: str = "ingest"
    http_host: str = "127.0.0.1"
    http_port: int = 8787  # 0: any free port (printed on start-up)
    flush_interval_s: float = 0.2
    checkpoint_interval_s: float = 2.0
    lateness_s: float = 5.0
    idle_close_s: float = 10.0
    max_future_skew_s: float = 300.0
    first_day: date | None = None  # the plant's first factory day: older stamps are quarantined
    default_interval_s: float = 1.0
    gap_factor: float = 3.0
    max_body_bytes: int = 4 << 20  # an HTTP body or MQTT payload; the feed's batches are ~100 KB
    socket_timeout_s: float = 30.0
    http_token: str | None = field(default=None, repr=False)  # bearer token; required beyond loopback
    mqtt_password: str | None = field(default=None, repr=False)
    tls_cert: Path | None = None  # HTTPS with this certificate chain and key (PEM)
    tls_key: Path | None = None
    mqtt_tls_ca: Path | None = None  # MQTT over TLS, trusting this CA (PEM) for the broker's certificate
    extra: dict = field(default_factory=dict)

    def rules(self) -> ReadingRules:
        earliest = EARLIEST_US
        if self.first_day is not None:
            earliest = int(self.calendar.day_window(self.first_day)[0].timestamp() * 1_000_000)
        return ReadingRules(
            earliest_us=earliest,
            max_future_skew_us=int(self.max_future_skew_s * 1e6),
            max_message_bytes=self.max_body_bytes,
        )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Waiter:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: dict = {}


class IngestionService:
    def __init__(self, config: ServiceConfig):
        if not is_loopback(config.http_host) and not config.http_token:
            raise SystemExit(
                f"the HTTP endpoint would listen on {config.http_host}, beyond loopback, without "
                "authentication: set GIGAFACTORY_INGEST_TOKEN (publishers then send "
                "'Authorization: Bearer <token>')"
            )
        self.config = config
        self.rules = config.rules()
        ingest_dir = config.lake_dir / "ingest"
        ingest_dir.mkdir(parents=True, exist_ok=True)
        self._lock_file = open(ingest_dir / "service.lock", "w")  # noqa: SIM115 - held for the process' life
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SystemExit(f"another ingestion service is running on {config.lake_dir}") from None
        self.quarantine_dir = ingest_dir / "quarantine"
        self.quarantine_dir.mkdir(exist_ok=True)
        self.wal = WriteAheadLog(ingest_dir / "wal")
        self.lander = Lander(
            config.lake_dir,
            config.calendar,
            lateness_s=config.lateness_s,
            idle_close_s=config.idle_close_s,
            default_interval_s=config.default_interval_s,
            gap_factor=config.gap_factor,
        )
        self.inbox: queue.Queue = queue.Queue()
        self._to_land: list = []
        self._to_land_lock = threading.Lock()
        self._stop = threading.Event()
        self._lander_lock = threading.Lock()
        self.counters = {"messages": 0, "accepted": 0, "quarantined": 0, "commits": 0, "replayed": 0}
        self.commit_error: str | None = None  # the last failure to commit, until a commit succeeds
        self.source_lag_s: dict[str, float] = {}
        self.mqtt = None
        self.http = None
        self._threads: list[threading.Thread] = []

    # ---- life cycle
    def start(self) -> None:
        self._replay()
        self._threads = [
            threading.Thread(target=self._commit_loop, name="committer", daemon=True),
            threading.Thread(target=self._land_loop, name="lander", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        self._start_http()
        self._start_mqtt()

    def _replay(self) -> None:
        """Land what the WAL holds beyond the checkpoint (the readings acknowledged before a crash)."""
        batch, position = [], None
        for readings, committed in self.wal.replay():
            position = committed
            batch.extend(readings)
            if len(batch) >= 200_000:
                self.lander.land(batch)
                self.counters["replayed"] += len(batch)
                batch = []
        if batch:
            self.lander.land(batch)
            self.counters["replayed"] += len(batch)
        if position is not None:
            self.lander.sync()
            self.wal.checkpoint(position)
        self.lander.reset_latencies()  # replayed readings are old: not a measure of live latency

    def stop(self) -> None:
        """Stop taking readings, commit and land what was received, then checkpoint."""
        if self.mqtt is not None:
            self.mqtt.disconnect()
            self.mqtt.loop_stop()
        if self.http is not None:
            self.http.shutdown()
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)
        self._land_pending(final=True)
        self.wal.close()

    def serve_forever(self) -> None:
        serve_until_signalled(
            self.start,
            self.stop,
            lambda: (
                f"ingestion service ready: mqtt {self.config.mqtt_host}:{self.config.mqtt_port} "
                f"http http://{self.config.http_host}:{self.http_port}"
            ),
        )

    @property
    def http_port(self) -> int:
        return self.http.server_address[1] if self.http else self.config.http_port

    # ---- receiving
    def _start_mqtt(self) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=self.config.client_id, clean_session=False, manual_ack=True
        )
        client.username_pw_set(self.config.username, self.config.mqtt_password)
        if self.config.mqtt_tls_ca is not None:
            client.tls_set(ca_certs=str(self.config.mqtt_tls_ca))
        client.max_inflight_messages_set(1000)
        client.reconnect_delay_set(0.1, 2)

        def on_connect(client, userdata, flags, reason_code, properties):
            if not reason_code.is_failure:
                client.subscribe(self.config.mqtt_topic, qos=1)

        def on_message(client, userdata, message):
            self.inbox.put(
                ("mqtt", message.payload, time.time_ns() // 1000, (message.mid, message.qos, message.topic))
            )

        client.on_connect = on_connect
        client.on_message = on_message
        client.connect_async(self.config.mqtt_host, self.config.mqtt_port, keepalive=10)
        client.loop_start()
        self.mqtt = client

    def _start_http(self) -> None:
        service = self

        token = (self.config.http_token or "").encode()
        limit = self.config.max_body_bytes

        class Handler(JsonHandler):
            timeout = self.config.socket_timeout_s  # a client that stops sending mid-request is let go

            def _authorized(self) -> bool:
                if not token:
                    return True
                sent = self.headers.get("Authorization", "")
                if sent.startswith("Bearer ") and hmac.compare_digest(sent[7:].strip().encode(), token):
                    return True
                self.close_connection = True
                self._reply(401, {"error": "a bearer token is required (Authorization: Bearer <token>)"})
                return False

            def _body(self) -> bytes | None:
                """The request body within the limit, or None once an error is answered (the connection is
                then closed: what the client still sends is never read)."""
                raw = self.headers.get("Content-Length")
                if raw is None or not raw.strip().isdigit():
                    self.close_connection = True
                    error = {"error": "a Content-Length of 0 or more is required"}
                    self._reply(411 if raw is None else 400, error)
                    return None
                length = int(raw)
                if length > limit:
                    self.close_connection = True
                    self._reply(413, {"error": f"body of {length} bytes is over the limit of {limit}"})
                    return None
                return self.rfile.read(length)

            def do_GET(self):
                if self.path == "/health":  # open: a load balancer's probe carries no token; it tells no data
                    health = service.health()
                    self._reply(200 if health["status"] == "ok" else 503, health)
                elif not self._authorized():
                    return
                elif self.path == "/stats":
                    self._reply(200, service.stats())
                elif self.path.startswith("/score"):
                    from orchestration.ingestion.hooks import score_latest

                    self._reply(200, score_latest(service.config.lake_dir))
                else:
                    self._reply(404, {"error": "unknown path"})

            def do_POST(self):
                if not self._authorized():
                    return
                body = self._body()
                if body is None:
                    return
                if self.path == "/stats/reset":
                    with service._lander_lock:
                        service.lander.reset_latencies()
                    self._reply(200, {"reset": True})
                    return
                if self.path != "/readings":
                    self._reply(404, {"error": "unknown path"})
                    return
                waiter = _Waiter()
                service.inbox.put(("http", body, time.time_ns() // 1000, waiter))
                if waiter.done.wait(timeout=30):
                    self._reply(waiter.result.pop("status", 200), waiter.result)
                else:
                    self._reply(503, {"error": "not committed in time; send again (duplicates are dropped)"})

        self.http = ThreadingHTTPServer((self.config.http_host, self.config.http_port), Handler)
        self.http.daemon_threads = True
        if self.config.tls_cert is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(self.config.tls_cert, self.config.tls_key)
            self.http.socket = context.wrap_socket(self.http.socket, server_side=True)
        thread = threading.Thread(target=self.http.serve_forever, name="http", daemon=True)
        thread.start()

    # ---- committing
    def _commit_loop(self) -> None:
        while not (self._stop.is_set() and self.inbox.empty()):
            try:
                items = [self.inbox.get(timeout=0.05)]
            except queue.Empty:
                continue
            while len(items) < 20_000:
                try:
                    items.append(self.inbox.get_nowait())
                except queue.Empty:
                    break
            self._commit_until_durable(items)

    def _commit_until_durable(self, items: list) -> None:
        """Commit, retrying what failed for a reason of the machine (input errors never raise: payload.py).
        HTTP senders get a 503 at once and send again; MQTT messages stay unacknowledged until committed."""
        while True:
            try:
                self._commit(items)
                self.commit_error = None
                return
            except Exception as error:  # noqa: BLE001 - a full disk or a lost WAL must not end the thread
                self.commit_error = f"{type(error).__name__}: {error}"
                for channel, _, _, meta in items:
                    if channel == "http" and not meta.done.is_set():
                        meta.result = {"status": 503, "error": f"not committed: {self.commit_error}"}
                        meta.done.set()
                items = [item for item in items if item[0] != "http"]
                if not items or self._stop.wait(1.0):
                    return

    def _commit(self, items: list) -> None:
        readings, rejected = [], []
        outcomes: list[Parsed] = []
        for channel, payload, received_us, meta in items:
            parsed = parse_message(payload, received_us, self.rules)
            outcomes.append(parsed)
            readings.extend(parsed.readings)
            origin = f"mqtt:{meta[2]}" if channel == "mqtt" else "http"
            for rejection in parsed.rejections:
                rejected.append((received_us, origin, parsed.source, rejection))
            if parsed.readings:
                lag = (received_us - max(r[4] for r in parsed.readings)) / 1e6
                source = parsed.source or origin
                previous = self.source_lag_s.get(source)
                self.source_lag_s[source] = lag if previous is None else 0.9 * previous + 0.1 * lag
        position = self.wal.append(readings) if readings else None
        if rejected:
            self._quarantine(rejected)
        self.counters["messages"] += len(items)
        self.counters["accepted"] += len(readings)
        self.counters["quarantined"] += len(rejected)
        self.counters["commits"] += 1
        # durable: now acknowledge
        receipts: dict[str, list[int]] = {}
        for (channel, _, _, meta), parsed in zip(items, outcomes, strict=True):
            if channel == "mqtt":
                mid, qos, _topic = meta
                if qos > 0 and self.mqtt is not None:
                    self.mqtt.ack(mid, qos)
            else:
                meta.result = {
                    "accepted": len(parsed.readings),
                    "quarantined": len(parsed.rejections),
                    "reasons": sorted({r.reason for r in parsed.rejections}),
                }
                meta.done.set()
            if parsed.source is not None and parsed.batch is not None:
                receipts.setdefault(parsed.source, []).append(parsed.batch)
        if self.mqtt is not None:  # source is an identifier (payload.SOURCE_RE): a topic of one level
            for source, batches in receipts.items():
                self.mqtt.publish(
                    RECEIPTS_TOPIC.format(source=source), json.dumps({"batches": batches}), qos=1
                )
        if readings:
            with self._to_land_lock:
                self._to_land.append((readings, position))

    def _quarantine(self, rejected: list[tuple[int, str, str | None, Rejection]]) -> None:
        by_day: dict[str, list[str]] = {}
        for received_us, origin, source, rejection in rejected:
            received = datetime.fromtimestamp(received_us / 1e6, UTC)
            line = json.dumps(
                {
                    "received_ts": received.isoformat(),
                    "channel": origin,
                    "source": source,
                    "reason": rejection.reason,
                    "field": rejection.field,
                    "record": rejection.record,
                }
            )
            by_day.setdefault(received.date().isoformat(), []).append(line)
        for day, lines in by_day.items():
            with open(self.quarantine_dir / f"quarantine-{day}.jsonl", "a") as handle:
                handle.write("\n".join(lines) + "\n")
                handle.flush()
                os.fsync(handle.fileno())

    # ---- landing
    def _land_loop(self) -> None:
        last_checkpoint = time.monotonic()
        self._landed_position = None
        while not self._stop.is_set():
            started = time.monotonic()
            self._land_pending()
            if time.monotonic() - last_checkpoint >= self.config.checkpoint_interval_s:
                self._checkpoint()
                last_checkpoint = time.monotonic()
            self._stop.wait(max(0.0, self.config.flush_interval_s - (time.monotonic() - started)))

    def _land_pending(self, final: bool = False) -> None:
        with self._to_land_lock:
            pending, self._to_land = self._to_land, []
        with self._lander_lock:
            if pending:
                self.lander.land([r for readings, _ in pending for r in readings])
                self._landed_position = pending[-1][1]
            self.lander.compact_due()
            if final:
                self._checkpoint()

    def _checkpoint(self) -> None:
        if getattr(self, "_landed_position", None) is None:
            return
        self.lander.sync()
        self.wal.checkpoint(self._landed_position)
        self._landed_position = None

    def health(self) -> dict:
        """What a probe needs: ok only when the threads run, commits succeed and nothing waits long."""
        alive = {thread.name: thread.is_alive() for thread in self._threads}
        oldest = self._oldest_waiting_s()
        problems = [f"{name} thread stopped" for name, up in alive.items() if not up]
        if self.commit_error:
            problems.append(f"cannot commit: {self.commit_error}")
        if oldest > 60:
            problems.append(f"a message has waited {oldest:.0f} s to be committed")
        return {
            "status": "unhealthy" if problems else "ok",
            "problems": problems,
            "threads": alive,
            "inbox": self.inbox.qsize(),
            "oldest_waiting_s": round(oldest, 3),
            "quarantined": self.counters["quarantined"],
        }

    def _oldest_waiting_s(self) -> float:
        with self.inbox.mutex:  # the queue's own lock: a consistent look at its head
            head = self.inbox.queue[0] if self.inbox.queue else None
        return 0.0 if head is None else max(0.0, time.time() - head[2] / 1e6)

    def stats(self) -> dict:
        with self._lander_lock:
            latency = self.lander.latency_percentiles()
            landed = dict(self.lander.counters)
        return {
            **self.counters,
            **landed,
            "inbox": self.inbox.qsize(),
            "latency_source_to_landed": latency,
            "source_clock_lag_s": {k: round(v, 3) for k, v in self.source_lag_s.items()},
        }
