"""The two channels a report travels by: a shared folder (atomic writes) and email over SMTP."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path

from orchestration.atomic_files import RESTRICTED, restricted_folder, write_atomically
from orchestration.distribution.config import SmtpSettings


class PermanentFailure(Exception):
    """A failure retrying cannot fix (a 5xx answer, a server without the required STARTTLS)."""


def put_in_shared_folder(
    folder: Path, role: str, stem: str, html: Path, json_twin: Path, group: str | None = None
) -> Path:
    """<folder>/<role>/<stem>.html and .json; returns the role's directory. The role's folder is 0750 and
    its files 0640 (in ``group`` when given): a role's costs and crew figures are not for every account.
    Durable before it returns, since the delivery is then confirmed in the log."""
    role_dir = restricted_folder(folder / role, group=group)
    for source, target in ((json_twin, f"{stem}.json"), (html, f"{stem}.html")):
        write_atomically(role_dir / target, source.read_bytes(), durable=True, mode=RESTRICTED, group=group)
    return role_dir


def report_mail(
    sender: str, recipient: str, subject: str, html: Path, json_twin: Path, message_id: str | None = None
) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, recipient, subject
    if message_id is not None:  # the same on a resend: mail clients show one message, not two
        message["Message-ID"] = message_id
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
    """One SMTP session; raises PermanentFailure for what a retry cannot fix, other errors are transient.

    A password crosses only an encrypted channel unless ``starttls`` is ``never``: with ``auto``, a server
    that offers no STARTTLS gets the mail without a login when no user is set, and is refused otherwise."""
    where = f"{settings.host}:{settings.port}"
    try:
        with smtplib.SMTP(settings.host, settings.port, timeout=timeout_s) as smtp:
            smtp.ehlo()
            encrypted = settings.starttls != "never" and smtp.has_extn("starttls")
            if encrypted:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            elif settings.starttls == "require":
                raise PermanentFailure(f"{where} does not offer STARTTLS (GIGAFACTORY_SMTP_STARTTLS=require)")
            elif settings.user and settings.starttls == "auto":
                raise PermanentFailure(
                    f"{where} does not offer STARTTLS: the login of {settings.user!r} is not sent in clear "
                    "(GIGAFACTORY_SMTP_STARTTLS=never allows it, e.g. for a relay on loopback)"
                )
            if settings.user:
                smtp.login(settings.user, settings.password.reveal() if settings.password else "")
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
