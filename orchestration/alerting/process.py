"""The alerting process, beside the ingestion service: it reads the readings as they arrive on the broker
(``gigafactory/sensors/#``, the topic the service ingests), scores them (live.py), keeps the alerts
(manager.py) and sends them (dispatch.py); people acknowledge, shelve and clear on a loopback HTTP endpoint or
the CLI.

Threads: paho's network loop (puts each message's readings in the inbox), the evaluator (scores, applies the
signals, moves the alarm clock), the dispatcher (sends the outbox) and the HTTP server. The process keeps
nothing the state file does not: killed at any point and started again, it sends what was left unsent and
fits the sensors' reference again from the lake (reference.py) when the first readings come.

The service acknowledges readings after they are durable; this process only listens (QoS 1, its own session),
so it can stop or fall behind without ever holding up ingestion.
"""

from __future__ import annotations

import json
import queue
import re
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path

from orchestration.alerting.dispatch import Dispatcher
from orchestration.alerting.live import LiveEvaluator
from orchestration.alerting.manager import AlertManager, AlertNotFound, Signal
from orchestration.alerting.reference import Reference, fit_reference
from orchestration.alerting.rules import AlertRules
from orchestration.alerting.store import rows, transaction
from orchestration.distribution.config import SmtpSettings
from orchestration.factory_calendar import FactoryCalendar
from orchestration.ingestion.payload import ReadingRules, parse_message
from orchestration.ingestion.service import READINGS_TOPIC, is_loopback
from orchestration.service_loop import JsonHandler, serve_until_signalled

DURATION_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*(m|min|h|d)$")


def parse_duration(text: str) -> timedelta:
    """'90m', '2h', '1d' -> a timedelta."""
    match = DURATION_RE.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a duration like 30m, 2h or 1d")
    number, unit = float(match[1]), match[2]
    return (
        timedelta(minutes=number)
        if unit in ("m", "min")
        else timedelta(hours=number * (24 if unit == "d" else 1))
    )


@dataclass
class ProcessConfig:
    state_path: Path
    broker_host: str = "127.0.0.1"
    broker_port: int = 1883
    http_host: str = "127.0.0.1"
    http_port: int = 8788  # 0: any free port
    judge_lag: bool = True  # False for a replay of past days, whose readings are old by design
    poll_s: float = 0.05
    client_id: str = "gigafactory-alerting"
    # Where the live scoring learns each sensor's normal: the plant's recent factory days in the lake, on the
    # factory calendar (reference.py). None: each sensor learns alone from its first readings.
    lake: Path | None = None
    calendar: FactoryCalendar | None = None


class AlertingProcess:
    def __init__(self, config: ProcessConfig, rules: AlertRules, smtp: SmtpSettings | None = None):
        if not is_loopback(config.http_host):
            raise SystemExit(f"the alerts endpoint listens on loopback only, not {config.http_host}")
        self.config = config
        self.rules = rules
        self.manager = AlertManager(config.state_path, rules)
        self.dispatcher = Dispatcher(config.state_path, rules, smtp=smtp)
        self.evaluator = LiveEvaluator(rules)
        self.inbox: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.mqtt = None
        self.http = None
        self.lag_s: dict[str, float] = {}
        self._lagging: set[str] = set()
        self.errors: list[str] = []
        self.counters = {"messages": 0, "readings": 0, "signals": 0}
        self.reference_day = None  # the factory day whose reference is fitted or being fitted
        self._fitted: queue.Queue = queue.Queue()

    # ---- life cycle
    def start(self) -> None:
        self.dispatcher.recover()
        self._threads = [
            threading.Thread(target=self._evaluate_loop, name="evaluator", daemon=True),
            threading.Thread(target=self._dispatch_loop, name="dispatcher", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        self._start_http()
        self._start_mqtt()

    def stop(self) -> None:
        if self.mqtt is not None:
            self.mqtt.disconnect()
            self.mqtt.loop_stop()
        if self.http is not None:
            self.http.shutdown()
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)
        self.dispatcher.close()

    def serve_forever(self) -> None:
        serve_until_signalled(
            self.start,
            self.stop,
            lambda: (
                f"alerting ready: readings from mqtt {self.config.broker_host}:{self.config.broker_port}, "
                f"alerts http://{self.config.http_host}:{self.http_port}, rules {self.rules.source}"
            ),
        )

    @property
    def http_port(self) -> int:
        return self.http.server_address[1] if self.http else self.config.http_port

    # ---- readings in
    def _start_mqtt(self) -> None:
        import os

        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self.config.client_id, clean_session=True)
        client.username_pw_set("alerting", os.environ.get("GIGAFACTORY_MQTT_PASSWORD"))
        client.reconnect_delay_set(0.1, 2)

        def on_connect(client, userdata, flags, reason_code, properties):
            if not reason_code.is_failure:
                client.subscribe(READINGS_TOPIC, qos=1)

        def on_message(client, userdata, message):
            self.inbox.put((message.payload, time.time_ns() // 1000))

        client.on_connect = on_connect
        client.on_message = on_message
        client.connect_async(self.config.broker_host, self.config.broker_port, keepalive=10)
        client.loop_start()
        self.mqtt = client

    def _evaluate_loop(self) -> None:
        rules = ReadingRules(max_future_skew_us=10**15)  # replays and skewed clocks are judged, not refused
        last_tick = 0.0
        while not self._stop.is_set():
            items = []
            try:
                items.append(self.inbox.get(timeout=self.config.poll_s))
                while len(items) < 5000:
                    items.append(self.inbox.get_nowait())
            except queue.Empty:
                pass
            signals: list[Signal] = []
            readings = []
            for payload, received_us in items:
                parsed = parse_message(payload, received_us, rules)
                readings.extend(parsed.readings)
                if parsed.readings and self.config.judge_lag:
                    signals.extend(self._lag(parsed.source or "feed", received_us, parsed.readings))
            self.counters["messages"] += len(items)
            self.counters["readings"] += len(readings)
            try:
                self._keep_reference(readings)
                signals.extend(self.evaluator.add(readings))
                signals.extend(self.evaluator.silence())
                self.counters["signals"] += len(signals)
                self.manager.observe(signals)
                if time.monotonic() - last_tick >= 1.0 or signals:
                    self.manager.tick(self.clock())
                    last_tick = time.monotonic()
            except Exception as error:  # noqa: BLE001 - a held state file must not end the thread
                self.errors.append(f"{type(error).__name__}: {error}")
                self._stop.wait(1.0)

    def _keep_reference(self, readings: list) -> None:
        """Judge with the reference of the readings' factory day: fitted beside, in a thread of its own (a few
        seconds), so that judging never waits; until it is there, the day before's carries on."""
        while not self._fitted.empty():
            reference = self._fitted.get_nowait()
            if reference is not None:
                self.evaluator.use(reference)
        config = self.config
        if not readings or config.lake is None or config.calendar is None:
            return
        day = config.calendar.day_of(datetime.fromtimestamp(max(r[4] for r in readings) / 1e6, UTC))
        if self.reference_day is not None and day <= self.reference_day:
            return
        self.reference_day = day

        def fit() -> None:
            try:
                reference: Reference | None = fit_reference(config.lake, day, config.calendar)
            except Exception as error:  # noqa: BLE001 - a broken lake file must not stop the alerts
                self.errors.append(f"reference for {day}: {type(error).__name__}: {error}")
                reference = None
            self._fitted.put(reference)

        threading.Thread(target=fit, name="reference", daemon=True).start()

    def clock(self) -> datetime:
        """The alarm clock: the plant's (the newest reading) when readings flow, else the wall clock."""
        if self.evaluator.clock_us:
            return datetime.fromtimestamp(self.evaluator.clock_us / 1e6, UTC)
        return datetime.now(UTC)

    def _lag(self, source: str, received_us: int, readings: list) -> list[Signal]:
        seconds = self.rules.lag_seconds()
        lag = (received_us - max(r[4] for r in readings)) / 1e6
        previous = self.lag_s.get(source)
        self.lag_s[source] = lag if previous is None else 0.8 * previous + 0.2 * lag
        if seconds is None:
            return []
        smoothed = self.lag_s[source]
        at = datetime.fromtimestamp(received_us / 1e6, UTC)
        key = f"ingestion_lag:{source}"
        if smoothed >= seconds and source not in self._lagging:
            self._lagging.add(source)
            sentence = (
                f"readings from {source} arrive {smoothed:.0f} s behind their clock (limit {seconds:.0f} s)."
            )
            return [Signal("ingestion_lag", key, "high", sentence, at, facts={"seconds": smoothed})]
        if smoothed < seconds / 2 and source in self._lagging:
            self._lagging.discard(source)
            return [
                Signal(
                    "ingestion_lag", key, "high", f"readings from {source} on time again.", at, active=False
                )
            ]
        return []

    def _dispatch_loop(self) -> None:
        while not self._stop.is_set():
            try:
                if not self.dispatcher.deliver_due():
                    self._stop.wait(self.config.poll_s)
            except Exception as error:  # noqa: BLE001 - a held state file must not end the thread
                self.errors.append(f"{type(error).__name__}: {error}")
                self._stop.wait(1.0)

    # ---- people
    def _start_http(self) -> None:
        process = self

        class Handler(JsonHandler):
            timeout = 30

            def do_GET(self):
                if self.path == "/health":
                    alive = all(t.is_alive() for t in process._threads)
                    self._reply(
                        200 if alive else 503, {"status": "ok" if alive else "unhealthy", **process.counters}
                    )
                elif self.path.startswith("/alerts"):
                    self._reply(
                        200, list_alerts(process.config.state_path, include_closed="all" in self.path)
                    )
                else:
                    self._reply(404, {"error": "unknown path"})

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                if length > 10_000:
                    self._reply(413, {"error": "body too large"})
                    return
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    self._reply(400, {"error": "the body must be JSON"})
                    return
                match = re.fullmatch(r"/alerts/([0-9a-f]{4,16})/(ack|shelve|clear)", self.path)
                if not match or not isinstance(body, dict):
                    self._reply(404, {"error": "POST /alerts/<id>/ack | shelve | clear"})
                    return
                by = str(body.get("by") or "http")
                try:
                    if match[2] == "ack":
                        alert = process.manager.acknowledge(match[1], by)
                    elif match[2] == "shelve":
                        alert = process.manager.shelve(match[1], parse_duration(str(body.get("for", ""))), by)
                    else:
                        alert = process.manager.clear(match[1], by)
                except AlertNotFound as error:
                    self._reply(404, {"error": str(error)})
                    return
                except ValueError as error:
                    self._reply(400, {"error": str(error)})
                    return
                self._reply(200, alert)

        self.http = ThreadingHTTPServer((self.config.http_host, self.config.http_port), Handler)
        self.http.daemon_threads = True
        threading.Thread(target=self.http.serve_forever, name="http", daemon=True).start()


def list_alerts(state_path: Path, include_closed: bool = False) -> list[dict]:
    if not Path(state_path).exists():
        return []
    where = "" if include_closed else "where state <> 'closed'"
    with transaction(state_path) as conn:
        found = rows(
            conn,
            f"""select alert_id, team, priority, state, acknowledged, shelved_until, raised_at, updated_at,
                       occurrences, sentence from alerts.alerts {where}
                order by case priority when 'critical' then 0 when 'high' then 1 else 2 end, raised_at""",
        )
    return [{k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in a.items()} for a in found]


def alert_history(state_path: Path, alert_id: str) -> list[dict]:
    with transaction(state_path) as conn:
        found = rows(
            conn,
            "select * from alerts.alert_events where alert_id like $p order by event_ts, logged_at",
            {"p": f"{alert_id}%"},
        )
    return [{k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in e.items()} for e in found]
