"""Deliver each role's rendered report to that role's recipients, with retries and backoff, through an outbox.

A role receives only its own report: the rendered reports arrive keyed by role and each recipient list is
looked up by the same key, so no code path hands one role's file to another role's recipient.

Crash safety: each delivery is committed to the log as ``pending`` before it is sent and closed as
``delivered`` or ``failed`` after, so a rerun sends only what was not confirmed. One window is left, and SMTP
cannot close it: a process killed after the server accepted a mail and before ``delivered`` was committed.
Sends go one at a time, so a crash leaves at most one delivery in that state. The rerun resends it once,
with the same Message-ID (mail clients and servers that de-duplicate show one message), and logs it
``delivered`` with a note that it may be a duplicate: a second copy of one report beats a role that never
gets it. The shared folder has no such window: writing the same file again replaces it by itself.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from email.utils import make_msgid
from pathlib import Path
from typing import Protocol

from orchestration.distribution.channels import PermanentFailure, put_in_shared_folder, report_mail, send_mail
from orchestration.distribution.config import Distribution, Retries, SmtpSettings
from orchestration.distribution.delivery_log import (
    Delivery,
    InDoubt,
    delivered_before,
    in_doubt,
    log_deliveries,
)


class Rendered(Protocol):
    """What orchestration.reporting renders per role (RenderedReport): the two files and completeness."""

    html: Path
    json: Path
    complete: bool
    missing: list[str]


@dataclass(frozen=True)
class Outcome:
    ok: bool
    attempts: int
    error: str | None


def with_retries(
    action: Callable[[], None],
    retries: Retries,
    sleep: Callable[[float], None],
    on_retry: Callable[[int, str], None] = lambda attempt, error: None,
) -> Outcome:
    """Run ``action`` until it succeeds, fails permanently or runs out of attempts; ``on_retry(attempt,
    error)`` after each failed attempt that will be tried again."""
    delays = retries.delays()
    for attempt in range(1, retries.attempts + 1):
        try:
            action()
            return Outcome(True, attempt, None)
        except PermanentFailure as error:
            return Outcome(False, attempt, f"permanent: {error}")
        except Exception as error:  # noqa: BLE001 - any transient fault (network, 4xx) is retried
            last = f"{type(error).__name__}: {error}"
            if attempt == retries.attempts:
                return Outcome(False, attempt, last)
            on_retry(attempt, last)
            sleep(delays[attempt - 1])
    raise AssertionError("unreachable")


def content_fingerprint(rendered: Rendered) -> str:
    """What a recipient would read: the JSON twin without its rendering time, and the completeness. The
    same day re-rendered with the same figures gives the same fingerprint; a corrected one does not."""
    raw = rendered.json.read_bytes()
    try:
        content = json.loads(raw)
        if isinstance(content, dict):
            content.pop("generated_at", None)
        raw = json.dumps(_rounded(content), sort_keys=True).encode()
    except ValueError:
        pass  # not JSON: its bytes as they are
    return hashlib.sha256(raw + f"|complete={rendered.complete}".encode()).hexdigest()


def _rounded(value):
    """Floats to 10 significant digits: a parallel sum may differ in its last bits between two runs."""
    if isinstance(value, float):
        return float(f"{value:.10g}")
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_rounded(item) for item in value]
    return value


def subject_of(report: str, day: str, role: str, rendered: Rendered) -> str:
    title = "Daily report" if report == "daily" else f"Shift handover ({report.split('/', 1)[-1]})"
    flag = "" if rendered.complete else f" [INCOMPLETE: {', '.join(rendered.missing) or 'see report'}]"
    return f"[Gigafactory] {title} {day} - {role}{flag}"


IN_DOUBT = (
    "resent with the same Message-ID: a run stopped between sending it and confirming it, so the recipient "
    "may already have it"
)


def deliver_reports(
    reports: Mapping[str, Rendered],
    day: str,
    distribution: Distribution,
    state_path: Path,
    shared_folder: Path,
    smtp: SmtpSettings | None,
    report: str = "daily",
    roles: list[str] | None = None,
    dry_run: bool = False,
    sleep: Callable[[float], None] = time.sleep,
    resend: bool = False,
    file_group: str | None = None,
) -> list[Delivery]:
    """Deliver and log; returns each delivery's last row (pending rows stay in the log only). ``dry_run``
    logs what would be sent and sends nothing. A recipient who already received this day's report with the
    same content (a rerun of the day) is not sent it again but logged ``unchanged``; a corrected or completed
    report goes out; ``resend``: always. A delivery a killed run left pending is sent once more (see the
    module's docstring). ``file_group``: the group of the shared folder's files (settings.file_group)."""
    deliveries = []
    production_day = date.fromisoformat(day)
    stem = f"{day}-{report.replace('/', '-')}"
    sent_before = set() if resend else delivered_before(state_path, report, production_day)
    unfinished = {} if dry_run else in_doubt(state_path, report, production_day)
    for role in roles or list(distribution.roles):
        recipients = distribution.roles.get(role)
        if recipients is None:
            raise KeyError(f"role {role!r} has no recipients in the distribution configuration")
        rendered = reports.get(role)
        targets = [("email", address) for address in recipients.email]
        if recipients.shared_folder:
            targets.append(("shared_folder", str(shared_folder / role)))
        fingerprint = content_fingerprint(rendered) if rendered is not None else None
        for channel, recipient in targets:
            row = Delivery(
                report=report,
                day=production_day,
                role=role,
                recipient=recipient,
                channel=channel,
                status="failed",
                attempts=0,
                error=None,
                complete=rendered.complete if rendered is not None else None,
                delivered_at=None,
                logged_at=datetime.now(UTC),
                content_sha=fingerprint,
            )
            key = (role, recipient, channel, fingerprint)
            if rendered is None:
                row = replace(row, error=f"no {report} report was rendered for role {role}")
            elif dry_run:
                row = replace(row, status="dry_run")
            elif key in sent_before:
                row = replace(row, status="unchanged")
            elif channel == "email" and smtp is None:
                row = replace(row, error="GIGAFACTORY_SMTP_HOST is not set")
            else:
                send = (
                    _by_mail(smtp, recipient, subject_of(report, day, role, rendered), rendered)
                    if channel == "email"
                    else _to_folder(shared_folder, role, stem, rendered, file_group)
                )
                row = _through_outbox(
                    row, unfinished.get(key), send, smtp, distribution.retries, sleep, state_path
                )
            if row.delivery_id is None:  # not sent: its one row
                log_deliveries(state_path, [row])
            deliveries.append(row)
    return deliveries


def _by_mail(
    smtp: SmtpSettings, address: str, subject: str, rendered: Rendered
) -> Callable[[str | None], None]:
    def send(message_id: str | None) -> None:
        send_mail(smtp, report_mail(smtp.sender, address, subject, rendered.html, rendered.json, message_id))

    return send


def _to_folder(
    folder: Path, role: str, stem: str, rendered: Rendered, group: str | None
) -> Callable[[str | None], None]:
    def send(message_id: str | None) -> None:
        put_in_shared_folder(folder, role, stem, rendered.html, rendered.json, group)

    return send


def _through_outbox(
    row: Delivery,
    unfinished: InDoubt | None,
    send: Callable[[str | None], None],
    smtp: SmtpSettings | None,
    retries: Retries,
    sleep: Callable[[float], None],
    state_path: Path,
) -> Delivery:
    """``pending`` committed, then the send with its retries (each failed attempt logged ``retrying``), then
    ``delivered`` or ``failed`` committed. A delivery a killed run left unfinished keeps its id, Message-ID
    and attempt count."""
    if unfinished is not None:
        delivery_id, message_id, before = unfinished.delivery_id, unfinished.message_id, unfinished.attempts
    else:
        delivery_id, before = uuid.uuid4().hex, 0
        email = row.channel == "email"
        message_id = make_msgid(domain=smtp.sender.rpartition("@")[2] or None) if email else None
    note = IN_DOUBT if unfinished is not None and row.channel == "email" else None
    row = replace(row, delivery_id=delivery_id, message_id=message_id, note=note)

    def log(status: str, attempts: int, error: str | None = None) -> Delivery:
        now = datetime.now(UTC)
        error = smtp.redact(error) if error and smtp is not None else error
        logged = replace(
            row,
            status=status,
            attempts=attempts,
            error=error,
            logged_at=now,
            delivered_at=now if status == "delivered" else None,
        )
        log_deliveries(state_path, [logged])
        return logged

    log("pending", before + 1)
    outcome = with_retries(
        lambda: send(message_id),
        retries,
        sleep,
        on_retry=lambda attempt, error: log("retrying", before + attempt, error),
    )
    return log("delivered" if outcome.ok else "failed", before + outcome.attempts, outcome.error)
