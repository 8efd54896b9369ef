"""Live alerts, end to end in this process: readings published on a real (in-process) broker, the alerting
process scoring them, alerts delivered to a webhook receiver and an SMTP server on loopback; and the ISA-18.2
management on its own clock: de-duplication, flood summary, acknowledgement, shelving, re-notification."""

from __future__ import annotations

import json
import random
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from orchestration.alerting.cli import main as alerts_cli
from orchestration.alerting.dispatch import Dispatcher
from orchestration.alerting.manager import AlertManager, Signal
from orchestration.alerting.process import AlertingProcess, ProcessConfig, parse_duration
from orchestration.alerting.rules import RulesError, load_rules
from orchestration.alerting.store import connect
from orchestration.distribution.config import SmtpSettings
from tests.live_helpers import free_port, request, wait_for

aiosmtpd = pytest.importorskip("aiosmtpd")
from aiosmtpd.controller import Controller  # noqa: E402

from tests.test_distribution import Mailbox  # noqa: E402

WEBHOOK_ENV = "GIGAFACTORY_ALERT_WEBHOOK_MAINTENANCE"
T0 = datetime(2026, 11, 9, 6, 0, tzinfo=UTC)

RULES = """
teams:
  maintenance:
    email: [maintenance.oncall@gigafactory-nord.example]
    webhook: {url_env: GIGAFACTORY_ALERT_WEBHOOK_MAINTENANCE}
  quality:
    email: [quality@gigafactory-nord.example]
rules:
  - {name: sensor-critical, signal: sensor_anomaly, when: {priority: [critical]}, team: maintenance,
     priority: critical, channels: [webhook, email]}
  - {name: sensor-high, signal: sensor_anomaly, when: {priority: [high]}, team: maintenance,
     priority: high, channels: [webhook]}
  - {name: spc, signal: spc_rule, when: {characteristic: [coating_thickness]}, team: quality,
     priority: high, channels: [email]}
management:
  renotify_minutes: {critical: 30, high: 120}
  flood: {max_per_10_min: FLOOD}
live: {threshold_sigmas: 5, critical_sigmas: 7, on_delay_readings: 3, off_delay_readings: 3,
       history_readings: 120, min_history_readings: 40, stuck_readings: 20}
retries: {attempts: 3, backoff_s: 0.01, max_backoff_s: 0.01}
"""


def write_rules(folder: Path, flood: int = 5, text: str = RULES) -> Path:
    path = folder / "rules.yaml"
    path.write_text(text.replace("FLOOD", str(flood)))
    return path


class Receiver:
    """An incoming-webhook receiver on loopback: every POST body, with its message id header."""

    def __init__(self):
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                received.append({**body, "header_id": self.headers["X-Alert-Message-Id"], "path": self.path})
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/T0KEN-s3cret"

    def kinds(self) -> list[str]:
        return [m["kind"] for m in self.received]


@pytest.fixture
def receiver(monkeypatch):
    running = Receiver()
    monkeypatch.setenv(WEBHOOK_ENV, running.url)
    yield running
    running.server.shutdown()


@pytest.fixture
def smtp():
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield (
        mailbox,
        SmtpSettings("127.0.0.1", controller.port, "alerts@gigafactory-nord.example", None, None, "never"),
    )
    controller.stop()


def outbox(state: Path) -> list[tuple]:
    with connect(state) as conn:
        return conn.execute(
            "select kind, channel, status, alert_id from alerts.outbox order by created_at"
        ).fetchall()


def alerts_table(state: Path) -> list[tuple]:
    with connect(state) as conn:
        return conn.execute(
            "select alert_id, team, priority, state, acknowledged, occurrences from alerts.alerts "
            "order by raised_at"
        ).fetchall()


def events(state: Path, alert_id: str) -> list[str]:
    with connect(state) as conn:
        rows = conn.execute(
            "select event from alerts.alert_events where alert_id = ? order by event_ts, logged_at",
            [alert_id],
        ).fetchall()
    return [r[0] for r in rows]


# ---- rules


def test_rules_file_errors_name_the_file_and_the_field(tmp_path):
    assert {r.name for r in load_rules(write_rules(tmp_path)).rules} == {
        "sensor-critical",
        "sensor-high",
        "spc",
    }
    mistakes = {
        "team: maintenance,\n     priority: critical": (
            "team: maintainance,\n     priority: critical",
            "rules[0].team",
        ),
        "priority: [critical]}": ("priority: [urgent]}", "rules[0].when.priority"),
        "url_env: GIGAFACTORY_ALERT_WEBHOOK_MAINTENANCE": (
            "url_env: https://hooks.example/T0KEN",
            "webhook.url_env",
        ),
        "max_per_10_min: FLOOD": ("max_per_10_min: many", "management.flood.max_per_10_min"),
        "signal: spc_rule": ("signal: spc_rules", "rules[2].signal"),
        "channels: [email]}": ("channels: [mqtt]}", "team 'quality' has no mqtt"),
    }
    for original, (wrong, field) in mistakes.items():
        assert original in RULES
        path = write_rules(tmp_path, text=RULES.replace(original, wrong))
        with pytest.raises(RulesError) as raised:
            load_rules(path)
        assert str(path) in str(raised.value) and field in str(raised.value), str(raised.value)
    # the committed rules load, and each team is a reporting role
    assert load_rules().teams.keys() >= {"maintenance", "quality"}


# ---- a fault through the broker and the alerting process


def machine_readings(tick: int, fault: float, stamp: datetime) -> list[dict]:
    """A machine of three sensors with noise; ``fault`` noise sigmas added to its dryer temperature."""
    noise = random.Random(tick)
    common = {"machine_id": "COAT-01", "reading_ts": stamp.isoformat()}
    return [
        {**common, "sensor_id": "COAT-01.dryer_temperature", "measure": "temperature", "unit": "degC",
         "value": round(120 + 0.8 * noise.gauss(0, 1) + 0.8 * fault, 3)},
        {**common, "sensor_id": "COAT-01.web_tension", "measure": "tension", "unit": "N",
         "value": round(180 + 3 * noise.gauss(0, 1), 3)},
        {**common, "sensor_id": "COAT-01.line_speed", "measure": "speed", "unit": "m/min",
         "value": round(60 + 0.6 * noise.gauss(0, 1), 3)},
    ]  # fmt: skip


def test_a_fault_raises_one_alert_to_its_team_updates_while_it_lasts_and_returns_to_normal(
    tmp_path, broker, receiver, smtp
):
    mailbox, smtp_settings = smtp
    state = tmp_path / "state.duckdb"
    config = ProcessConfig(state, broker_port=broker.port, http_port=0, judge_lag=False, poll_s=0.02)
    process = AlertingProcess(config, load_rules(write_rules(tmp_path)), smtp_settings)
    process.start()
    try:
        publisher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="feed-test", clean_session=True)
        publisher.username_pw_set("feed-test")
        publisher.connect("127.0.0.1", broker.port)
        publisher.loop_start()
        wait_for(lambda: process.mqtt.is_connected(), "the alerting process to subscribe")

        def publish(ticks: range, fault: float) -> None:
            for tick in ticks:
                body = {
                    "source": "test",
                    "readings": machine_readings(tick, fault, T0 + timedelta(minutes=tick)),
                }
                publisher.publish("gigafactory/sensors/COAT", json.dumps(body), qos=1).wait_for_publish(5)

        publish(range(0, 60), 0.0)  # the normal the sensors learn
        wait_for(lambda: process.counters["readings"] >= 180, "the first hour's readings")
        assert receiver.received == [] and alerts_table(state) == []
        publish(range(60, 90), 12.0)  # a 12-sigma offset on the dryer temperature for 30 minutes
        wait_for(lambda: "raise" in receiver.kinds(), "the alert at the webhook")
        publish(range(90, 110), 0.0)
        wait_for(lambda: "return" in receiver.kinds(), "the return to normal at the webhook")
        wait_for(lambda: len(mailbox.messages) == 2, "the raise and the return by mail")
        publisher.loop_stop()
        publisher.disconnect()
    finally:
        process.stop()

    (alert_id, team, priority, alert_state, _, _), *others = alerts_table(state)
    assert others == [] and (team, priority, alert_state) == ("maintenance", "critical", "returned")
    assert receiver.kinds() == ["raise", "return"]  # no repeat while it lasted
    raised = receiver.received[0]
    assert (
        raised["alert_id"] == alert_id
        and raised["team"] == "maintenance"
        and raised["priority"] == "critical"
    )
    assert "COAT-01" in raised["text"] and "dryer_temperature" in raised["sentence"]
    assert raised["header_id"] == raised["message_id"]
    assert "returned to normal" in receiver.received[1]["text"].lower()
    # the alert at the plant's clock: raised within the on-delay of the fault's start
    assert datetime.fromisoformat(raised["raised_at"]) == T0 + timedelta(minutes=60)
    recipients = [rcpt for rcpt, _ in mailbox.messages]
    assert recipients == [["maintenance.oncall@gigafactory-nord.example"]] * 2
    assert mailbox.messages[0][1]["Subject"].startswith("[CRITICAL] maintenance: COAT-01")
    assert events(state, alert_id) == ["raised", "returned"]


# ---- alarm management on its own clock


def sensor_signal(machine: str, at: datetime, priority: str = "critical", active: bool = True) -> Signal:
    return Signal(
        "sensor_anomaly",
        f"sensor_anomaly:{machine}",
        priority,
        f"{machine}: dryer temperature 9 sigmas above its level" if active else f"{machine}: back to normal",
        at,
        active=active,
        machine_id=machine,
    )


def test_the_same_problem_updates_its_alert_and_an_escalation_is_told(tmp_path):
    state = tmp_path / "state.duckdb"
    manager = AlertManager(state, load_rules(write_rules(tmp_path)))
    assert len(manager.observe([sensor_signal("COAT-01", T0, "high")])) == 1
    assert manager.observe([sensor_signal("COAT-01", T0 + timedelta(minutes=1), "high")]) == []
    assert manager.observe([sensor_signal("COAT-01", T0 + timedelta(minutes=2), "critical")]) == []
    [(alert_id, _, priority, _, _, _)] = alerts_table(state)
    assert priority == "critical"
    assert [k for k, c, *_ in outbox(state) if c == "webhook"] == ["raise", "update"]
    assert events(state, alert_id) == ["raised", "escalated"]
    # it ends and comes back before anyone acknowledged it: the same alert, a second occurrence, no new raise
    manager.observe([sensor_signal("COAT-01", T0 + timedelta(minutes=5), active=False)])
    manager.observe([sensor_signal("COAT-01", T0 + timedelta(minutes=7))])
    [(same_id, _, _, alert_state, _, occurrences)] = alerts_table(state)
    assert (same_id, alert_state, occurrences) == (alert_id, "active", 2)
    assert [k for k, c, *_ in outbox(state) if c == "webhook"] == ["raise", "update", "return"]


def test_an_alarm_flood_becomes_one_summary(tmp_path, receiver):
    state = tmp_path / "state.duckdb"
    rules = load_rules(write_rules(tmp_path, flood=3))
    manager = AlertManager(state, rules)
    machines = [f"FORM-{n:02d}" for n in range(1, 11)]
    raised = manager.observe(
        [sensor_signal(m, T0 + timedelta(seconds=5 * n)) for n, m in enumerate(machines)]
    )
    assert len(raised) == 10  # every problem is an alert, kept with its history ...
    manager.tick(T0 + timedelta(minutes=1))
    assert [k for k, c, *_ in outbox(state) if c == "webhook"] == [
        "raise"
    ] * 3  # ... the first 3 told on their own
    manager.tick(T0 + timedelta(minutes=3))
    manager.tick(T0 + timedelta(minutes=4))
    Dispatcher(state, rules).deliver_due()
    assert receiver.kinds() == ["raise", "raise", "raise", "summary"]
    summary = receiver.received[-1]
    assert len(summary["alerts"]) == 7 and {a["machine_id"] for a in summary["alerts"]} == set(machines[3:])
    assert summary["text"].startswith("[FLOOD] 7 more alerts to maintenance")
    assert all("summarized" in events(state, a) for a in raised[3:])
    # after the window, a new problem is told on its own again
    manager.observe([sensor_signal("MIX-01", T0 + timedelta(minutes=20))])
    assert [k for k, c, *_ in outbox(state) if c == "webhook"][-1] == "raise"


def test_an_acknowledged_alert_is_not_renotified_and_a_shelved_one_waits(tmp_path, receiver):
    state = tmp_path / "state.duckdb"
    rules = load_rules(write_rules(tmp_path))
    manager = AlertManager(state, rules)
    acked, ignored, shelved = manager.observe([sensor_signal(m, T0) for m in ("COAT-01", "CAL-01", "MIX-01")])
    manager.acknowledge(acked, "maria", now=T0 + timedelta(minutes=1))
    manager.shelve(shelved, parse_duration("2h"), "jonas", now=T0 + timedelta(minutes=1))
    for minute in (10, 31, 45):
        manager.tick(T0 + timedelta(minutes=minute))
    Dispatcher(state, rules).deliver_due()
    renotified = [m["alert_id"] for m in receiver.received if m["kind"] == "renotify"]
    assert renotified == [ignored]  # critical: every 30 min, only to the one nobody acknowledged
    assert "renotified" not in events(state, acked) and "renotified" not in events(state, shelved)
    manager.tick(T0 + timedelta(minutes=122))  # shelving over, still active, not acknowledged: told again
    assert events(state, shelved)[-2:] == ["unshelved", "renotified"]
    # acknowledged, then back to normal: closed, and the team is told it is over
    manager.observe([sensor_signal("COAT-01", T0 + timedelta(minutes=130), active=False)])
    assert dict((a, s) for a, _, _, s, _, _ in alerts_table(state))[acked] == "closed"
    assert events(state, acked)[-2:] == ["returned", "closed"]


def test_ack_shelve_and_clear_from_the_command_line_and_the_loopback_endpoint(tmp_path, capsys):
    state = tmp_path / "state.duckdb"
    rules_path = write_rules(tmp_path)
    manager = AlertManager(state, load_rules(rules_path))
    now = datetime.now(UTC)  # the process's clock is the wall clock while no readings flow
    first, second, third = manager.observe([sensor_signal(m, now) for m in ("COAT-01", "CAL-01", "MIX-01")])
    base = ["--state", str(state), "--rules", str(rules_path)]
    assert alerts_cli([*base, "ack", first[:6], "--by", "maria"]) == 0
    assert alerts_cli([*base, "shelve", second, "--for", "2h"]) == 0
    assert alerts_cli([*base, "shelve", second, "--for", "soon"]) == 2
    assert alerts_cli([*base, "ack", "ffffffff"]) == 2
    capsys.readouterr()
    assert alerts_cli([*base, "list"]) == 0
    listed = capsys.readouterr().out
    assert first in listed and "acknowledged" in listed and "shelved until" in listed
    assert events(state, first) == ["raised", "acknowledged"]
    config = ProcessConfig(state, broker_port=free_port(), http_port=0, judge_lag=False)
    process = AlertingProcess(config, load_rules(rules_path))
    process.start()
    try:
        port = process.http_port
        status, body = request(port, f"/alerts/{third}/clear", {"by": "http-user"})
        assert status == 200 and body["state"] == "closed"
        assert request(port, "/alerts/abcdef/ack", {})[0] == 404
        assert request(port, f"/alerts/{second}/shelve", {"for": "never"})[0] == 400
        status, listed = request(port, "/alerts")
        assert status == 200 and {a["alert_id"] for a in listed} == {first, second}
    finally:
        process.stop()
    assert events(state, third) == ["raised", "cleared"]
    with pytest.raises(SystemExit):
        AlertingProcess(ProcessConfig(state, http_host="0.0.0.0"), load_rules(rules_path))


def test_a_webhook_url_is_never_stored_or_shown_and_failures_are_retried_then_failed(tmp_path, monkeypatch):
    state = tmp_path / "state.duckdb"
    rules = load_rules(write_rules(tmp_path))
    monkeypatch.setenv(WEBHOOK_ENV, f"http://127.0.0.1:{free_port()}/hooks/T0KEN-s3cret")  # nobody listens
    AlertManager(state, rules).observe([sensor_signal("COAT-01", T0)])
    dispatcher = Dispatcher(state, rules)
    for _ in range(3):
        dispatcher.deliver_due()
        wait_for(
            lambda: dispatcher.due() != [] or dispatcher.counters["failed"] > 0, "the backoff", timeout=2
        )
    with connect(state) as conn:
        webhook = conn.execute(
            "select status, attempts, error, target from alerts.outbox where channel = 'webhook'"
        ).fetchone()
        dumped = str(conn.execute("select * from alerts.outbox").fetchall())
    assert webhook[:2] == ("failed", 3) and "Connection refused" in webhook[2]
    assert webhook[3] == WEBHOOK_ENV and "T0KEN" not in dumped


def test_the_daily_runs_signals_alert_their_teams_once_however_often_the_day_is_rerun(tmp_path):
    import duckdb

    from orchestration.alerting.batch import blocked_day_signals, day_signals

    warehouse = duckdb.connect()
    warehouse.execute("create schema analytics; create schema marts")
    warehouse.execute(
        """create table analytics.alarms as select date '2026-11-09' as production_date, 'a1' as alarm_id,
           'spc' as source, 'COAT-01' as machine_id, 'coating_thickness/NMC811' as subject,
           timestamptz '2026-11-09 10:00:00+00' as start_ts, timestamptz '2026-11-09 11:00:00+00' as end_ts,
           'high' as priority, 'Coating thickness above its control limit.' as sentence"""
    )
    warehouse.execute(
        """create table marts.fct_quality_yield as select * from (values
           (date '2026-11-09', 'Coating', 1000, 300, 10), (date '2026-11-09', 'Winding', 1000, 20, 5))
           t(production_date, activity, produced_cells, rework_cells, scrap_cells)"""
    )
    warehouse.execute(
        """create table marts.fct_machine_state_intervals as select * from (values
           (date '2026-11-09', 'CAL-01', 'breakdown', timestamptz '2026-11-09 08:00:00+00',
            timestamptz '2026-11-09 09:30:00+00', 5400.0),
           (date '2026-11-09', 'MIX-01', 'breakdown', timestamptz '2026-11-09 12:00:00+00',
            timestamptz '2026-11-09 12:20:00+00', 1200.0))
           t(production_date, machine_id, state, start_ts, end_ts, duration_s)"""
    )
    state = tmp_path / "state.duckdb"
    manager = AlertManager(state, load_rules())  # the committed rules
    day = datetime(2026, 11, 9).date()
    for _ in range(2):  # the day, then a rerun of it
        manager.observe(day_signals(warehouse, state, day))
        manager.observe(blocked_day_signals(day, ("raw_mes_events_schema",), T0 + timedelta(hours=20)))
    with connect(state) as conn:
        raised = conn.execute(
            "select team, signal, subject, state from alerts.alerts order by team, signal, subject"
        ).fetchall()
        returns = conn.execute("select count(*) from alerts.outbox where kind = 'return'").fetchone()[0]
    assert raised == [
        ("director", "blocked_day", "2026-11-09", "active"),
        ("maintenance", "machine_down", "CAL-01", "returned"),  # 90 min; MIX-01's 20 min is under the hour
        ("production", "rework_ratio", "Coating", "returned"),  # 30 %; Winding's 2 % is under 15 %
        ("quality", "spc_rule", "coating_thickness/NMC811", "returned"),
    ]
    assert returns == 0  # a batch problem is over when it is read: no second message


def test_the_reports_alarm_load_counts_per_team_peak_standing_acknowledgement_and_chattering(tmp_path):
    import duckdb

    from orchestration.reporting.section import DaySource
    from orchestration.reporting.sections_alerting import alarm_management

    state = tmp_path / "state.duckdb"
    manager = AlertManager(state, load_rules(write_rules(tmp_path, flood=50)))
    burst = manager.observe([sensor_signal(f"FORM-{n:02d}", T0 + timedelta(minutes=n)) for n in range(12)])
    manager.acknowledge(burst[0], "maria", now=T0 + timedelta(minutes=4))
    manager.acknowledge(burst[1], "maria", now=T0 + timedelta(minutes=11))
    later = T0 + timedelta(hours=5)
    manager.observe([sensor_signal("MIX-01", later)])
    for k in range(1, 4):  # a chattering alarm: back to normal and back again, three more times
        manager.observe([sensor_signal("MIX-01", later + timedelta(minutes=2 * k - 1), active=False)])
        manager.observe([sensor_signal("MIX-01", later + timedelta(minutes=2 * k))])
    source = DaySource(conn=duckdb.connect(), day=T0.date(), rca_state=state, timezone="UTC")
    section = alarm_management(source)
    [load] = section.rows
    assert load["team"] == "maintenance" and load["alerts"] == 13
    assert load["peak_10_min"] == 10  # FORM-00 .. FORM-09 within 10 minutes
    assert load["per_10_min"] == pytest.approx(13 / 144)
    assert load["standing"] == 11 and load["median_ack_s"] == pytest.approx((4 * 60 + 10 * 60) / 2)
    assert load["chattering"] == 1 and load["shelved"] == 0
    assert "13 alerts to 1 team" in section.headline and "Over the manageable rate" in section.headline
    assert (
        alarm_management(
            DaySource(conn=duckdb.connect(), day=T0.date() - timedelta(days=1), rca_state=state)
        ).rows
        == []
    )
