"""The three ways an alert reaches a team: e-mail (distribution's SMTP sending), a webhook POST with a JSON
payload, an MQTT topic for the plant's HMI.

The webhook body works with Slack, Mattermost and Teams incoming webhooks (they read ``text``; Teams' "Post
to a channel" workflow reads it too) and any HTTP receiver (the structured fields beside it: alert_id,
priority, team, machine_id, sentence, ...). Every attempt of one message carries the same id
(``X-Alert-Message-Id`` header and ``message_id`` field, Message-ID for mail) so a receiver can drop a resend.

Webhook URLs carry their token: they are read from the environment when the message is sent, never stored,
and shown in errors as scheme and host only.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from email.message import EmailMessage
from urllib.parse import urlsplit

from orchestration.distribution.channels import PermanentFailure, send_mail
from orchestration.distribution.config import SmtpSettings


class NotConfigured(PermanentFailure):
    """A channel with nothing to send to (an unset webhook variable, no SMTP host)."""


def shown_url(url: str) -> str:
    """A webhook URL as it may be shown: scheme and host, never the path or query that hold its token."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or '?'}{':' + str(parts.port) if parts.port else ''}/***"


def post_webhook(url_env: str, message_id: str, payload: dict, timeout_s: float = 10.0) -> None:
    url = os.environ.get(url_env)
    if not url:
        raise NotConfigured(f"webhook not configured: set {url_env}")
    shown = shown_url(url)
    body = json.dumps(payload, default=str).encode()
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "X-Alert-Message-Id": message_id},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            response.read()
    except urllib.error.HTTPError as error:
        if 400 <= error.code < 500 and error.code not in (408, 429):
            raise PermanentFailure(f"{shown} answered {error.code}") from None
        raise ConnectionError(f"{shown} answered {error.code}") from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise ConnectionError(
            f"{shown}: {type(reason).__name__}: {str(reason).replace(url, shown)}"
        ) from None


def alert_mail(sender: str, recipient: str, title: str, body: str, message_id: str) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, recipient, title[:200]
    domain = sender.rpartition("@")[2] or "gigafactory.invalid"
    message["Message-ID"] = f"<alert-{message_id}@{domain}>"  # the same on every attempt: one message shown
    message["X-Alert-Message-Id"] = message_id
    message.set_content(body)
    return message


def send_alert_mail(
    smtp: SmtpSettings | None, recipient: str, title: str, body: str, message_id: str
) -> None:
    if smtp is None:
        raise NotConfigured("no SMTP server configured (GIGAFACTORY_SMTP_HOST)")
    message = alert_mail(smtp.sender, recipient, title, body, message_id)
    try:
        send_mail(smtp, message, timeout_s=15.0)
    except PermanentFailure:
        raise
    except Exception as error:  # noqa: BLE001 - transient: retried with backoff
        raise ConnectionError(smtp.redact(f"{type(error).__name__}: {error}")) from None


class MqttChannel:
    """One connection to the broker, opened on first use and kept; publishes QoS 1 and waits for the
    PUBACK."""

    def __init__(self, host: str, port: int, client_id: str = "gigafactory-alerts"):
        self.host, self.port, self.client_id = host, port, client_id
        self._client = None

    def publish(self, topic: str, payload: dict, timeout_s: float = 10.0) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        if self._client is None:
            client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self.client_id, clean_session=True)
            client.username_pw_set("alerts", os.environ.get("GIGAFACTORY_MQTT_PASSWORD"))
            try:
                client.connect(self.host, self.port, keepalive=30)
            except OSError as error:
                raise ConnectionError(f"mqtt {self.host}:{self.port}: {error}") from None
            client.loop_start()
            self._client = client
        info = self._client.publish(topic, json.dumps(payload, default=str), qos=1)
        try:
            info.wait_for_publish(timeout=timeout_s)
        except (RuntimeError, ValueError) as error:
            self.close()
            raise ConnectionError(f"mqtt {self.host}:{self.port}: {error}") from None
        if not info.is_published():
            self.close()
            raise ConnectionError(f"mqtt {self.host}:{self.port}: no PUBACK within {timeout_s:.0f} s")

    def close(self) -> None:
        if self._client is not None:
            self._client.disconnect()
            self._client.loop_stop()
            self._client = None
