"""The two channels a report travels by: a shared folder (atomic writes) and email over SMTP."""

from __future__ import annotations

import os
import smtplib
import ssl
import tempfile
from email.message import EmailMessage
from pathlib import Path

from orchestration.distribution.config import SmtpSettings


class PermanentFailure(Exception):
    """A failure retrying cannot fix (a 5xx answer, a server without the required STARTTLS)."""


def write_atomically(target: Path, payload: bytes) -> None:
    """Readers of the shared folder see the old file or the new one, never half of one."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(payload)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def put_in_shared_folder(folder: Path, role: str, stem: str, html: Path, json_twin: Path) -> Path:
    """<folder>/<role>/<stem>.html and .json; returns the role's directory."""
    role_dir = folder / role
    write_atomically(role_dir / f"{stem}.json", json_twin.read_bytes())
    write_atomically(role_dir / f"{stem}.html", html.read_bytes())
    return role_dir


def report_mail(sender: str, recipient: str, subject: str, html: Path, json_twin: Path) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, recipient, subject
    message.set_content(
        f"{subject}\n\nThe report is attached as HTML (open it in a browser) with its JSON twin."
    )
    body = html.read_text(encoding="utf-8")
    message.add_alternative(body, subtype="html")
    message.add_attachment(body.encode("utf-8"), maintype="text", subtype="html", filename=html.name)
    message.add_attachment(
        json_twin.read_bytes(), maintype="application", subtype="json", filename=json_twin.name
    )
    return message


def send_mail(settings: SmtpSettings, message: EmailMessage, timeout_s: float = 30.0) -> None:
    """One SMTP session; raises PermanentFailure for what a retry cannot fix, other errors are transient."""
    try:
        with smtplib.SMTP(settings.host, settings.port, timeout=timeout_s) as smtp:
            smtp.ehlo()
            if settings.starttls != "off" and smtp.has_extn("starttls"):
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            elif settings.starttls == "require":
                raise PermanentFailure(f"{settings.host}:{settings.port} does not offer STARTTLS")
            if settings.user:
                smtp.login(settings.user, settings.password or "")
            smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as refused:
        codes = [code for code, _ in refused.recipients.values()]
        if all(code >= 500 for code in codes):
            raise PermanentFailure(f"recipient refused: {refused.recipients}") from refused
        raise
    except smtplib.SMTPResponseException as answer:
        if answer.smtp_code >= 500:
            raise PermanentFailure(f"{answer.smtp_code} {answer.smtp_error!r}") from answer
        raise
