"""Sending the outbox (alerts.outbox in the state file), one message at a time, with retries and backoff.

Each message is claimed (``sending``, by host:pid, committed) before it is sent and marked ``delivered`` after
(committed): a process killed between the two leaves exactly one message in doubt; the next process to
dispatch finds it claimed by a process that no longer runs, and sends it again with the same message id (a
receiver that keeps ids drops it; the row's note says it may be a duplicate). Everything else is either
``delivered`` (never sent again) or still ``pending`` (sent once, later): nothing lost, nothing twice.

A failure is retried after ``backoff_s``, doubling up to ``max_backoff_s``, ``attempts`` in all; what a retry
cannot fix (a 4xx answer, an unset webhook variable, no SMTP host) fails at once, with the reason.
"""

from __future__ import annotations

import json
import os
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

from orchestration.alerting.channels import MqttChannel, post_webhook, send_alert_mail
from orchestration.alerting.rules import AlertRules
from orchestration.alerting.store import rows, transaction
from orchestration.distribution.channels import PermanentFailure
from orchestration.distribution.config import SmtpSettings

IN_DOUBT_NOTE = "resent after a crash mid-send: may be a duplicate (same message id)"
HOST = socket.gethostname()


def _alive(claimed_by: str | None) -> bool:
    """Whether the process that claimed a message still runs (a claim from another host counts as alive)."""
    if not claimed_by:
        return False
    host, _, pid = claimed_by.rpartition(":")
    if host != HOST or not pid.isdigit():
        return True
    if int(pid) == os.getpid():
        return False  # this process claimed it and is not sending it now: a previous life's claim
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Dispatcher:
    def __init__(
        self,
        state_path: Path,
        rules: AlertRules,
        smtp: SmtpSettings | None = None,
        mqtt: MqttChannel | None = None,
        send_hook=None,  # tests: called after each send, before its outcome is committed
    ):
        self.state_path = Path(state_path)
        self.rules = rules
        self.smtp = smtp
        self.mqtt = mqtt or MqttChannel(rules.mqtt_host, rules.mqtt_port, client_id=f"alerts-{os.getpid()}")
        self.me = f"{HOST}:{os.getpid()}"
        self.send_hook = send_hook
        self.counters = {"delivered": 0, "retrying": 0, "failed": 0, "resent_in_doubt": 0}

    def recover(self) -> int:
        """Put back the messages a dead process claimed and never confirmed; returns how many."""
        with transaction(self.state_path) as conn:
            claimed = rows(conn, "select message_id, claimed_by from alerts.outbox where status = 'sending'")
            orphans = [r["message_id"] for r in claimed if not _alive(r["claimed_by"])]
            for message_id in orphans:
                conn.execute(
                    """update alerts.outbox set status = 'pending', claimed_by = null, note = $note,
                       next_attempt_at = $now where message_id = $id""",
                    {"note": IN_DOUBT_NOTE, "now": datetime.now(UTC), "id": message_id},
                )
        self.counters["resent_in_doubt"] += len(orphans)
        return len(orphans)

    def due(self, limit: int = 100) -> list[str]:
        with transaction(self.state_path) as conn:
            found = conn.execute(
                """select message_id from alerts.outbox where status in ('pending', 'retrying')
                   and next_attempt_at <= $now order by created_at, message_id limit $limit""",
                {"now": datetime.now(UTC), "limit": limit},
            ).fetchall()
        return [r[0] for r in found]

    def deliver_due(self, limit: int = 100) -> int:
        """Send what is due now; returns the number of messages tried."""
        self.recover()
        tried = 0
        for message_id in self.due(limit):
            message = self._claim(message_id)
            if message is None:
                continue
            tried += 1
            self._send_and_record(message)
        return tried

    def _claim(self, message_id: str) -> dict | None:
        with transaction(self.state_path) as conn:
            claimed = rows(
                conn,
                """update alerts.outbox set status = 'sending', claimed_by = $me, attempts = attempts + 1
                   where message_id = $id and status in ('pending', 'retrying') returning *""",
                {"me": self.me, "id": message_id},
            )
        return claimed[0] if claimed else None

    def _send_and_record(self, message: dict) -> None:
        error, permanent = None, False
        try:
            self.send(message)
        except PermanentFailure as failure:
            error, permanent = str(failure), True
        except Exception as failure:  # noqa: BLE001 - transient: retried with backoff
            error = f"{type(failure).__name__}: {failure}"
        if self.send_hook is not None:
            self.send_hook(message, error)
        now = datetime.now(UTC)
        if error is None:
            status, next_at = "delivered", now
        elif permanent or message["attempts"] >= self.rules.retries.attempts:
            status, next_at = "failed", now
        else:
            status = "retrying"
            next_at = now + timedelta(seconds=self.rules.retries.delay(message["attempts"]))
        self.counters[status] += 1
        with transaction(self.state_path) as conn:
            conn.execute(
                """update alerts.outbox set status = $status, error = $error, next_attempt_at = $next,
                   delivered_at = $delivered, claimed_by = null where message_id = $id""",
                {
                    "status": status,
                    "error": error,
                    "next": next_at,
                    "delivered": now if status == "delivered" else None,
                    "id": message["message_id"],
                },
            )

    def send(self, message: dict) -> None:
        payload = (
            json.loads(message["payload"]) if isinstance(message["payload"], str) else message["payload"]
        )
        if message["note"]:
            payload = {**payload, "note": message["note"]}
        channel, target = message["channel"], message["target"]
        if channel == "webhook":
            post_webhook(target, message["message_id"], payload)
        elif channel == "email":
            send_alert_mail(self.smtp, target, message["title"], message["body"], message["message_id"])
        elif channel == "mqtt":
            self.mqtt.publish(target, payload)
        else:
            raise PermanentFailure(f"unknown channel {channel!r}")

    def close(self) -> None:
        self.mqtt.close()
