"""Deliver each role's rendered report to that role's recipients, with retries and backoff; log each delivery.

A role receives only its own report: the rendered reports arrive keyed by role and each recipient list is
looked up by the same key, so no code path hands one role's file to another role's recipient.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Protocol

from orchestration.distribution.channels import PermanentFailure, put_in_shared_folder, report_mail, send_mail
from orchestration.distribution.config import Distribution, Retries, SmtpSettings
from orchestration.distribution.delivery_log import Delivery, delivered_before, log_deliveries


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


def with_retries(action: Callable[[], None], retries: Retries, sleep: Callable[[float], None]) -> Outcome:
    """Run ``action`` until it succeeds, fails permanently or runs out of attempts."""
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
) -> list[Delivery]:
    """Deliver and log; returns the logged rows. ``dry_run`` logs what would be sent and sends nothing.
    A recipient who already received this day's report with the same content (a rerun of the day) is not
    sent it again but logged ``unchanged``; a corrected or completed report goes out; ``resend``: always."""
    deliveries = []
    stem = f"{day}-{report.replace('/', '-')}"
    sent_before = set() if resend else delivered_before(state_path, report, date.fromisoformat(day))
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
            unchanged = (role, recipient, channel, fingerprint) in sent_before
            if rendered is None:
                outcome = Outcome(False, 0, f"no {report} report was rendered for role {role}")
            elif dry_run or unchanged:
                outcome = Outcome(True, 0, None)
            elif channel == "email" and smtp is None:
                outcome = Outcome(False, 0, "GIGAFACTORY_SMTP_HOST is not set")
            elif channel == "email":
                message = report_mail(
                    smtp.sender,
                    recipient,
                    subject_of(report, day, role, rendered),
                    rendered.html,
                    rendered.json,
                )
                outcome = with_retries(lambda m=message: send_mail(smtp, m), distribution.retries, sleep)
            else:
                outcome = with_retries(
                    lambda r=rendered, o=role: put_in_shared_folder(shared_folder, o, stem, r.html, r.json),
                    distribution.retries,
                    sleep,
                )
            now = datetime.now(UTC)
            if rendered is not None and dry_run:
                status = "dry_run"
            elif rendered is not None and unchanged:
                status = "unchanged"
            else:
                status = "delivered" if outcome.ok else "failed"
            deliveries.append(
                Delivery(
                    report=report,
                    day=date.fromisoformat(day),
                    role=role,
                    recipient=recipient,
                    channel=channel,
                    status=status,
                    attempts=outcome.attempts,
                    error=outcome.error,
                    complete=rendered.complete if rendered is not None else None,
                    delivered_at=now if status == "delivered" else None,
                    logged_at=now,
                    content_sha=fingerprint,
                )
            )
    log_deliveries(state_path, deliveries)
    return deliveries
