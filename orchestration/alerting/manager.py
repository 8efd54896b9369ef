"""Alarm management as ISA-18.2 teaches it: one alert per open problem and team, updates instead of repeats,
re-notification of what nobody acknowledged, flood suppression, shelving, acknowledgement and a
return-to-normal message. Every change is an event of the alert in the state file, and every message it calls
for goes into the outbox in the same transaction (dispatch.py sends them).

A ``Signal`` is what a detector says about a problem: it started or changed (``active``) or it ended. The
problem's ``key`` (e.g. ``sensor_anomaly:COAT-01``) makes the alert: while an alert of that team and key is
open, a signal updates it; an escalation of priority is told, anything else is written silently. A problem
that returns to normal and comes back before anyone acknowledged it reactivates the same alert (a chattering
alarm counts its occurrences, it does not ring again until the re-notify interval has passed).

Times: ``now`` is the clock of the signal (the readings' time for live signals, the wall clock for batch runs
and people's actions), so a replayed day is managed as it was lived.
"""

from __future__ import annotations

import hashlib
import json
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from orchestration.alerting.rules import LIVE_SIGNALS, PRIORITIES, AlertRules, Rule
from orchestration.alerting.store import rows, transaction

FLOOD_WINDOW = timedelta(minutes=10)
FLOOD_SUMMARY_AFTER = timedelta(minutes=2)  # a flood's summary goes this long after its first held alert
OPEN_STATES = ("active", "returned")


@dataclass(frozen=True)
class Signal:
    signal: str  # one of rules.SIGNALS
    key: str  # the problem: the same while it lasts
    priority: str  # what the detector judged (critical | high | low), matched by rules' when.priority
    sentence: str
    at: datetime  # when it was observed
    active: bool = True  # False: the problem ended (return to normal)
    machine_id: str | None = None
    subject: str | None = None
    facts: dict = field(default_factory=dict)  # what rules' ``when`` match: characteristic, minutes, ...
    decided_at: datetime | None = None  # live: the plant's clock (the newest reading) when it was decided

    def routing_facts(self) -> dict:
        return {"priority": self.priority, **self.facts}


class AlertNotFound(LookupError):
    pass


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"{moment!r} has no timezone: alert times are UTC-aware")
    return moment.astimezone(UTC)


def _id(*parts: object) -> str:
    return hashlib.sha1("|".join(str(p) for p in parts).encode()).hexdigest()[:10]


def _rank(priority: str) -> int:
    return PRIORITIES.index(priority)


def _hhmm(moment: datetime) -> str:
    return _utc(moment).strftime("%Y-%m-%d %H:%M UTC")


class AlertManager:
    def __init__(self, state_path: Path, rules: AlertRules, actor: str | None = None):
        self.state_path = Path(state_path)
        self.rules = rules
        self.actor = actor or f"alerting@{socket.gethostname()}"

    # ---- signals
    def observe(self, signals: list[Signal]) -> list[str]:
        """Apply the signals in time order, in one transaction; returns the ids of the alerts raised."""
        raised: list[str] = []
        if not signals:
            return raised
        with transaction(self.state_path) as conn:
            for signal in sorted(signals, key=lambda s: _utc(s.at)):
                raised.extend(self._apply(conn, signal))
        return raised

    def _apply(self, conn, signal: Signal) -> list[str]:
        now = _utc(signal.at)
        raised = []
        if not signal.active:
            for alert in self._open(conn, signal.key):
                self._returned(conn, alert, signal, now)
            return raised
        for rule in self.rules.routes(signal.signal, signal.routing_facts()):
            if signal.signal not in LIVE_SIGNALS and self._known(conn, signal.key, rule.team):
                continue  # a rerun of the day: its problems are already alerts, whatever became of them
            found = self._open(conn, signal.key, rule.team)
            if found:
                self._update(conn, found[0], rule, signal, now)
            else:
                raised.append(self._raise(conn, rule, signal, now))
        return raised

    def _known(self, conn, key: str, team: str) -> bool:
        return bool(
            conn.execute(
                "select count(*) from alerts.alerts where problem_key = $key and team = $team",
                {"key": key, "team": team},
            ).fetchone()[0]
        )

    def _open(self, conn, key: str, team: str | None = None) -> list[dict]:
        sql = "select * from alerts.alerts where problem_key = $key and state in ('active', 'returned')"
        params: dict = {"key": key}
        if team is not None:
            sql += " and team = $team"
            params["team"] = team
        return rows(conn, sql + " order by raised_at", params)

    def _raise(self, conn, rule: Rule, signal: Signal, now: datetime) -> str:
        alert_id = _id(rule.team, signal.key, now.isoformat())
        flooded = self._notices_in_window(conn, rule.team, now) >= self.rules.management.flood_max_per_10_min
        conn.execute(
            """insert into alerts.alerts values ($id, $team, $rule, $signal, $key, $priority, $machine,
               $subject, $sentence, 'active', false, $now, $now, null, null, null, null, null, null,
               $suppressed, null, 1)""",
            {
                "id": alert_id,
                "team": rule.team,
                "rule": rule.name,
                "signal": signal.signal,
                "key": signal.key,
                "priority": rule.priority,
                "machine": signal.machine_id,
                "subject": signal.subject,
                "sentence": signal.sentence,
                "now": now,
                "suppressed": flooded,
            },
        )
        self._event(conn, alert_id, now, "raised", f"{rule.priority} by rule {rule.name}: {signal.sentence}")
        alert = rows(conn, "select * from alerts.alerts where alert_id = $id", {"id": alert_id})[0]
        if flooded:
            self._event(conn, alert_id, now, "suppressed", "flood: told in the team's summary")
        else:
            self._notify(conn, alert, "raise", now, decided_at=signal.decided_at)
        return alert_id

    def _update(self, conn, alert: dict, rule: Rule, signal: Signal, now: datetime) -> None:
        escalated = _rank(rule.priority) < _rank(alert["priority"])
        came_back = alert["state"] == "returned"
        if not (escalated or came_back or signal.sentence != alert["sentence"]):
            return
        conn.execute(
            """update alerts.alerts set sentence = $sentence, updated_at = $now, state = 'active',
               returned_at = null, priority = $priority, rule = $rule,
               occurrences = occurrences + $back where alert_id = $id""",
            {
                "sentence": signal.sentence,
                "now": now,
                "priority": rule.priority if escalated else alert["priority"],
                "rule": rule.name if escalated else alert["rule"],
                "back": int(came_back),
                "id": alert["alert_id"],
            },
        )
        fresh = rows(conn, "select * from alerts.alerts where alert_id = $id", {"id": alert["alert_id"]})[0]
        if escalated:
            self._event(conn, alert["alert_id"], now, "escalated", f"to {rule.priority}: {signal.sentence}")
            self._notify(conn, fresh, "update", now)
        elif came_back:
            self._event(conn, alert["alert_id"], now, "reactivated", signal.sentence)
            if self._renotify_due(fresh, now):
                self._notify(conn, fresh, "update", now)
        else:
            self._event(conn, alert["alert_id"], now, "updated", signal.sentence)

    def _returned(self, conn, alert: dict, signal: Signal, now: datetime) -> None:
        if alert["state"] != "active":
            return
        closes = alert["acknowledged"]
        conn.execute(
            """update alerts.alerts set state = $state, returned_at = $now, updated_at = $now,
               closed_at = $closed where alert_id = $id""",
            {
                "state": "closed" if closes else "returned",
                "now": now,
                "closed": now if closes else None,
                "id": alert["alert_id"],
            },
        )
        self._event(conn, alert["alert_id"], now, "returned", signal.sentence)
        if closes:
            self._event(conn, alert["alert_id"], now, "closed", "returned to normal after acknowledgement")
        fresh = rows(conn, "select * from alerts.alerts where alert_id = $id", {"id": alert["alert_id"]})[0]
        if alert["last_notified_at"] is not None and signal.signal in LIVE_SIGNALS:
            # told on its own as it happened: told that it is over (a batch problem is over when it is read)
            self._notify(conn, fresh, "return", now, note=signal.sentence)

    # ---- the passing of time
    def tick(self, now: datetime) -> None:
        """Re-notify, end shelving, send flood summaries, close alerts long back to normal."""
        now = _utc(now)
        management = self.rules.management
        with transaction(self.state_path) as conn:
            for alert in rows(
                conn,
                "select * from alerts.alerts where shelved_until is not null and shelved_until <= $now "
                "and state <> 'closed'",
                {"now": now},
            ):
                conn.execute(
                    "update alerts.alerts set shelved_until = null where alert_id = $id",
                    {"id": alert["alert_id"]},
                )
                self._event(conn, alert["alert_id"], now, "unshelved", "shelving ended")
            for alert in rows(
                conn,
                "select * from alerts.alerts where state = 'active' and not acknowledged and not suppressed "
                "and (shelved_until is null or shelved_until <= $now)",
                {"now": now},
            ):
                if self._renotify_due(alert, now):
                    self._event(conn, alert["alert_id"], now, "renotified", "not acknowledged")
                    self._notify(conn, alert, "renotify", now)
            self._summaries(conn, now)
            cutoff = now - timedelta(minutes=management.close_after_normal_minutes)
            for alert in rows(
                conn,
                "select alert_id from alerts.alerts where state = 'returned' and returned_at <= $cutoff",
                {"cutoff": cutoff},
            ):
                conn.execute(
                    "update alerts.alerts set state = 'closed', closed_at = $now where alert_id = $id",
                    {"now": now, "id": alert["alert_id"]},
                )
                self._event(conn, alert["alert_id"], now, "closed", "back to normal, never acknowledged")

    def _renotify_due(self, alert: dict, now: datetime) -> bool:
        minutes = self.rules.management.renotify_minutes.get(alert["priority"])
        if minutes is None or alert["acknowledged"] or alert["last_notified_at"] is None:
            return False
        if alert["shelved_until"] is not None and _utc(alert["shelved_until"]) > now:
            return False
        return now - _utc(alert["last_notified_at"]) >= timedelta(minutes=minutes)

    def _summaries(self, conn, now: datetime) -> None:
        held = rows(
            conn,
            "select * from alerts.alerts where suppressed and summary_id is null order by raised_at",
        )
        by_team: dict[str, list[dict]] = {}
        for alert in held:
            by_team.setdefault(alert["team"], []).append(alert)
        for team, alerts in by_team.items():
            if now - _utc(alerts[0]["raised_at"]) < FLOOD_SUMMARY_AFTER:
                continue
            summary_id = _id("summary", team, now.isoformat())
            lines = [f"- [{a['priority'].upper()}] {a['alert_id']}: {a['sentence']}" for a in alerts]
            ranked = sorted(alerts, key=lambda a: (_rank(a["priority"]), a["raised_at"]))
            title = (
                f"[FLOOD] {len(alerts)} more alert{'s' if len(alerts) != 1 else ''} to {team} within 10 min "
                f"(most urgent: {ranked[0]['priority']})"
            )
            body = (
                f"{title}. They were held back to keep the alarm rate manageable (ISA-18.2 flood "
                f"suppression) and are listed here once:\n" + "\n".join(lines)
            )
            payload = {
                "kind": "summary",
                "team": team,
                "alerts": [
                    {k: _plain(a[k]) for k in ("alert_id", "priority", "machine_id", "subject", "sentence")}
                    for a in alerts
                ],
            }
            self._enqueue(
                conn, summary_id, None, team, "summary", ranked[0]["rule"], title, body, payload, now
            )
            for alert in alerts:
                conn.execute(
                    "update alerts.alerts set summary_id = $s where alert_id = $id",
                    {"s": summary_id, "id": alert["alert_id"]},
                )
                self._event(conn, alert["alert_id"], now, "summarized", f"in flood summary {summary_id}")

    def _notices_in_window(self, conn, team: str, now: datetime) -> int:
        """Notifications of new problems (raises, summaries) the team got in the last 10 minutes."""
        return conn.execute(
            """select count(distinct notice_id) from alerts.outbox where team = $team
               and kind in ('raise', 'summary') and created_at > $since and created_at <= $now""",
            {"team": team, "since": now - FLOOD_WINDOW, "now": now},
        ).fetchone()[0]

    # ---- people's actions
    def acknowledge(self, alert_id: str, by: str, now: datetime | None = None) -> dict:
        now = _utc(now or datetime.now(UTC))
        with transaction(self.state_path) as conn:
            alert = self._get(conn, alert_id)
            if alert["acknowledged"]:
                return alert
            closes = alert["state"] == "returned"
            conn.execute(
                """update alerts.alerts set acknowledged = true, acknowledged_at = $now,
                   acknowledged_by = $by,
                   state = $state, closed_at = $closed, updated_at = $now where alert_id = $id""",
                {
                    "now": now,
                    "by": by,
                    "state": "closed" if closes else alert["state"],
                    "closed": now if closes else alert["closed_at"],
                    "id": alert["alert_id"],
                },
            )
            self._event(conn, alert["alert_id"], now, "acknowledged", None, by)
            if closes:
                self._event(
                    conn, alert["alert_id"], now, "closed", "acknowledged after its return to normal", by
                )
            return self._get(conn, alert["alert_id"])

    def shelve(self, alert_id: str, duration: timedelta, by: str, now: datetime | None = None) -> dict:
        now = _utc(now or datetime.now(UTC))
        if duration <= timedelta(0) or duration > timedelta(days=7):
            raise ValueError(
                "shelve for more than nothing and at most 7 days (ISA-18.2: shelving is temporary)"
            )
        with transaction(self.state_path) as conn:
            alert = self._get(conn, alert_id)
            if alert["state"] == "closed":
                raise ValueError(f"alert {alert['alert_id']} is closed: nothing to shelve")
            until = now + duration
            conn.execute(
                "update alerts.alerts set shelved_until = $until, updated_at = $now where alert_id = $id",
                {"until": until, "now": now, "id": alert["alert_id"]},
            )
            self._event(conn, alert["alert_id"], now, "shelved", f"until {_hhmm(until)}", by)
            return self._get(conn, alert["alert_id"])

    def clear(self, alert_id: str, by: str, now: datetime | None = None) -> dict:
        now = _utc(now or datetime.now(UTC))
        with transaction(self.state_path) as conn:
            alert = self._get(conn, alert_id)
            if alert["state"] != "closed":
                conn.execute(
                    """update alerts.alerts set state = 'closed', closed_at = $now, updated_at = $now,
                       shelved_until = null where alert_id = $id""",
                    {"now": now, "id": alert["alert_id"]},
                )
                self._event(conn, alert["alert_id"], now, "cleared", None, by)
            return self._get(conn, alert["alert_id"])

    def _get(self, conn, alert_id: str) -> dict:
        found = rows(
            conn,
            "select * from alerts.alerts where alert_id like $prefix order by raised_at",
            {"prefix": f"{alert_id}%"},
        )
        if len(found) != 1 or not alert_id:
            raise AlertNotFound(
                f"no alert {alert_id!r}" if not found else f"{alert_id!r} matches {len(found)} alerts"
            )
        return found[0]

    # ---- writing
    def _event(
        self, conn, alert_id: str, at: datetime, event: str, detail: str | None, by: str | None = None
    ):
        conn.execute(
            "insert into alerts.alert_events values ($id, $at, $logged, $event, $by, $detail)",
            {
                "id": alert_id,
                "at": at,
                "logged": datetime.now(UTC),
                "event": event,
                "by": by or self.actor,
                "detail": detail,
            },
        )

    def _notify(
        self, conn, alert: dict, kind: str, now: datetime, note: str | None = None, decided_at=None
    ) -> None:
        if alert["shelved_until"] is not None and _utc(alert["shelved_until"]) > now:
            self._event(conn, alert["alert_id"], now, "held", f"{kind} not sent: shelved")
            return
        title, body = message_text(alert, kind, now, note)
        payload = {
            "kind": kind,
            **{
                k: _plain(alert[k])
                for k in (
                    "alert_id",
                    "team",
                    "priority",
                    "signal",
                    "machine_id",
                    "subject",
                    "sentence",
                    "state",
                    "acknowledged",
                    "raised_at",
                    "occurrences",
                )
            },
            "at": now.isoformat(),
            "acknowledge": f"alerts ack {alert['alert_id']}",
        }
        if decided_at is not None:  # how long the live scoring took to be sure, on the plant's clock
            payload["decided_at"] = decided_at.isoformat()
        notice_id = _id("notice", alert["alert_id"], kind, now.isoformat())
        self._enqueue(
            conn, notice_id, alert["alert_id"], alert["team"], kind, alert["rule"], title, body, payload, now
        )
        if kind != "return":
            conn.execute(
                "update alerts.alerts set last_notified_at = $now where alert_id = $id",
                {"now": now, "id": alert["alert_id"]},
            )

    def _enqueue(self, conn, notice_id, alert_id, team, kind, rule_name, title, body, payload, now) -> None:
        rule = next((r for r in self.rules.rules if r.name == rule_name), None)
        channels = rule.channels if rule is not None else ("email", "webhook", "mqtt")
        config = self.rules.teams.get(team)
        if config is None:
            return
        targets = []
        for channel in channels:
            if channel == "email":
                targets += [("email", address) for address in config.email]
            elif channel == "webhook" and config.webhook_env:
                targets.append(("webhook", config.webhook_env))
            elif channel == "mqtt" and config.mqtt_topic:
                targets.append(("mqtt", config.mqtt_topic))
        payload = {**payload, "text": f"{title}\n{body}" if body != title else title, "title": title}
        for channel, target in targets:
            message_id = f"{notice_id}-{_id(channel, target)[:6]}"
            conn.execute(
                """insert into alerts.outbox values ($mid, $nid, $aid, $team, $kind, $channel, $target,
                   $title,
                   $body, $payload, $now, 'pending', 0, $wall, null, null, null, null)""",
                {
                    "mid": message_id,
                    "nid": notice_id,
                    "aid": alert_id,
                    "team": team,
                    "kind": kind,
                    "channel": channel,
                    "target": target,
                    "title": title,
                    "body": body,
                    "payload": json.dumps({**payload, "message_id": message_id}, default=str),
                    "now": now,
                    "wall": datetime.now(UTC),
                },
            )


def message_text(alert: dict, kind: str, now: datetime, note: str | None = None) -> tuple[str, str]:
    """The title and body of a message: the priority, the team, what is wrong, and how to acknowledge it."""
    priority = alert["priority"].upper()
    alert_id = alert["alert_id"]
    ack = f"Acknowledge: alerts ack {alert_id} (or shelve: alerts shelve {alert_id} --for 2h)."
    sentence = alert["sentence"]
    if kind == "raise":
        title = f"[{priority}] {alert['team']}: {sentence}"
        body = f"{title}\nAlert {alert['alert_id']}, raised {_hhmm(alert['raised_at'])}. {ack}"
    elif kind == "update":
        title = f"[{priority}] update on alert {alert['alert_id']}: {sentence}"
        body = f"{title}\nStill the same problem (no new alert); {alert['occurrences']} occurrence(s). {ack}"
    elif kind == "renotify":
        minutes = round((now - _utc(alert["raised_at"])).total_seconds() / 60)
        title = f"[{priority}] still active, not acknowledged after {minutes} min: {sentence}"
        body = f"{title}\nAlert {alert['alert_id']}. {ack}"
    elif kind == "return":
        minutes = round((now - _utc(alert["raised_at"])).total_seconds() / 60)
        title = f"[RETURNED TO NORMAL] alert {alert['alert_id']} after {minutes} min: {sentence}"
        tail = "" if alert["acknowledged"] else f" It still needs an acknowledgement. {ack}"
        body = f"{title}\n{note or ''}{tail}".strip()
    else:
        raise ValueError(f"unknown message kind {kind!r}")
    return title, body


def _plain(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime) else value
