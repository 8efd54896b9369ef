"""Report distribution against a real SMTP server on loopback (aiosmtpd) and a shared folder."""

from __future__ import annotations

import email
import email.policy
import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest

from orchestration.distribution import SmtpSettings, deliver_reports, load_distribution
from orchestration.distribution.config import Distribution, Retries, RoleRecipients
from tests.live_helpers import free_port

aiosmtpd = pytest.importorskip("aiosmtpd")
from aiosmtpd.controller import Controller  # noqa: E402
from aiosmtpd.smtp import AuthResult  # noqa: E402

ROLES = ("director", "production", "quality", "maintenance", "finance")
MARGIN = "Margin 17.4 % (EUR 1,234,567)"  # a figure only finance (and the director) may see


@dataclass
class Rendered:
    html: Path
    json: Path
    complete: bool = True
    missing: list[str] = field(default_factory=list)


def render_roles(reports_dir: Path, day: str) -> dict[str, Rendered]:
    """A tiny stand-in for orchestration.reporting.render_daily_reports: one marked page per role."""
    rendered = {}
    for role in ROLES:
        folder = reports_dir / day / "daily"
        folder.mkdir(parents=True, exist_ok=True)
        secret = f"<p>{MARGIN}</p>" if role in ("director", "finance") else ""
        (folder / f"{role}.html").write_text(f"<html><body><h1>report-for-{role}</h1>{secret}</body></html>")
        (folder / f"{role}.json").write_text(f'{{"role": "{role}"}}')
        rendered[role] = Rendered(folder / f"{role}.html", folder / f"{role}.json")
    return rendered


class Mailbox:
    """Accepts mail after refusing the first ``refuse`` transactions with a transient 451."""

    def __init__(self, refuse: int = 0):
        self.refuse, self.messages, self.logins = refuse, [], []

    async def handle_DATA(self, server, session, envelope):
        if self.refuse > 0:
            self.refuse -= 1
            return "451 4.3.0 Mailbox busy, try again later"
        self.messages.append(
            (envelope.rcpt_tos, email.message_from_bytes(envelope.content, policy=email.policy.default))
        )
        return "250 OK"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (auth_data.login, auth_data.password) == (b"reports", b"s3cret-from-env")
    return AuthResult(success=ok)


@pytest.fixture
def smtp_server(monkeypatch):
    def start(mailbox: Mailbox):
        """The server requires a login: mail gets through only with the credentials from the environment."""
        controller = Controller(
            mailbox,
            hostname="127.0.0.1",
            port=free_port(),
            authenticator=authenticator,
            auth_required=True,
            auth_require_tls=False,
        )
        controller.start()
        started.append(controller)
        for name, value in {
            "GIGAFACTORY_SMTP_HOST": "127.0.0.1",
            "GIGAFACTORY_SMTP_PORT": str(controller.port),
            "GIGAFACTORY_SMTP_USER": "reports",
            "GIGAFACTORY_SMTP_PASSWORD": "s3cret-from-env",
            "GIGAFACTORY_SMTP_SENDER": "reports@gigafactory-nord.example",
            # a relay on loopback without TLS: the one place a password may travel in clear, said explicitly
            "GIGAFACTORY_SMTP_STARTTLS": "never",
        }.items():
            monkeypatch.setenv(name, value)
        return SmtpSettings.from_environment()

    started: list[Controller] = []
    yield start
    for controller in started:
        controller.stop()


def one_address_per_role(shared: bool = True) -> Distribution:
    return Distribution(
        {role: RoleRecipients(role, (f"{role}@plant.example",), shared) for role in ROLES},
        Retries(attempts=3, backoff_s=0.01, max_backoff_s=0.02),
    )


def delivery_log(state: Path) -> list[tuple]:
    with duckdb.connect(str(state), read_only=True) as conn:
        return conn.execute(
            "select role, recipient, channel, status, attempts, error is null, delivered_at is not null"
            " from distribution.delivery_log where status not in ('pending', 'retrying')"
            " order by role, channel"
        ).fetchall()


def test_each_role_receives_exactly_its_own_report(tmp_path, smtp_server):
    mailbox = Mailbox()
    smtp = smtp_server(mailbox)
    reports = render_roles(tmp_path / "reports", "2026-11-13")
    logged = deliver_reports(
        reports, "2026-11-13", one_address_per_role(), tmp_path / "state.duckdb", tmp_path / "shared", smtp
    )
    assert all(d.status == "delivered" and d.attempts == 1 for d in logged)
    by_recipient = {}
    for recipients, message in mailbox.messages:
        (recipient,) = recipients
        assert recipient not in by_recipient  # exactly one mail each
        by_recipient[recipient] = message
    assert sorted(by_recipient) == sorted(f"{role}@plant.example" for role in ROLES)
    for role in ROLES:
        message = by_recipient[f"{role}@plant.example"]
        text = message.as_string()
        assert f"report-for-{role}" in text
        assert [other for other in ROLES if other != role and f"report-for-{other}" in text] == []
        attachments = sorted(part.get_filename() for part in message.iter_attachments())
        assert attachments == [f"{role}.html", f"{role}.json"]
    # the finance-only figure never reaches maintenance, by mail or in its shared folder
    assert MARGIN in by_recipient["finance@plant.example"].get_body(("html",)).get_content()
    assert MARGIN not in by_recipient["maintenance@plant.example"].as_string()
    maintenance_folder = tmp_path / "shared" / "maintenance"
    assert sorted(p.name for p in maintenance_folder.iterdir()) == [
        "2026-11-13-daily.html",
        "2026-11-13-daily.json",
    ]
    assert MARGIN not in (maintenance_folder / "2026-11-13-daily.html").read_text()
    assert len(delivery_log(tmp_path / "state.duckdb")) == 2 * len(ROLES)


def test_a_refused_delivery_is_retried_and_logged(tmp_path, smtp_server):
    mailbox = Mailbox(refuse=2)  # the server is busy twice, then accepts
    smtp = smtp_server(mailbox)
    reports = render_roles(tmp_path / "reports", "2026-11-13")
    waits = []
    deliver_reports(
        reports,
        "2026-11-13",
        one_address_per_role(shared=False),
        tmp_path / "state.duckdb",
        tmp_path / "shared",
        smtp,
        roles=["quality"],
        sleep=waits.append,
    )
    assert waits == [0.01, 0.02]  # exponential backoff, bounded
    assert [rcpt for rcpt, _ in mailbox.messages] == [["quality@plant.example"]]
    assert delivery_log(tmp_path / "state.duckdb") == [
        ("quality", "quality@plant.example", "email", "delivered", 3, True, True)
    ]
    # every attempt in the log as it happened: pending before the first, each refusal with its reason
    with duckdb.connect(str(tmp_path / "state.duckdb"), read_only=True) as conn:
        attempts = conn.execute(
            "select status, attempts, error from distribution.delivery_log order by logged_at"
        ).fetchall()
    assert [(status, n) for status, n, _ in attempts] == [
        ("pending", 1),
        ("retrying", 1),
        ("retrying", 2),
        ("delivered", 3),
    ]
    assert all("451" in error for status, _, error in attempts if status == "retrying")
    # a server that never accepts: the attempts run out and the failure is logged with its error
    mailbox.refuse = 10
    deliver_reports(
        reports,
        "2026-11-13",
        one_address_per_role(shared=False),
        tmp_path / "state.duckdb",
        tmp_path / "shared",
        smtp,
        roles=["quality"],
        sleep=lambda _: None,
        resend=True,  # the same report again, on purpose
    )
    with duckdb.connect(str(tmp_path / "state.duckdb"), read_only=True) as conn:
        failed = conn.execute(
            "select status, attempts, error, delivered_at from distribution.delivery_log"
            " where status = 'failed'"
        ).fetchall()
    assert len(failed) == 1 and failed[0][1] == 3 and "451" in failed[0][2] and failed[0][3] is None


def test_the_committed_configuration_names_every_role():
    distribution = load_distribution()
    assert sorted(distribution.roles) == sorted(ROLES)
    assert all(r.email or r.shared_folder for r in distribution.roles.values())


def test_a_rerun_does_not_mail_the_same_report_twice(tmp_path, smtp_server):
    """Re-running a day's deliveries sends nobody the report they already have (logged unchanged); a
    report whose figures were corrected, or that became complete, goes out again."""
    mailbox = Mailbox()
    smtp = smtp_server(mailbox)
    state, shared = tmp_path / "state.duckdb", tmp_path / "shared"
    reports = render_roles(tmp_path / "reports", "2026-11-13")
    reports["quality"].complete, reports["quality"].missing = False, ["gx_raw_measurements"]
    for role, rendered in reports.items():
        rendered.json.write_text(json.dumps({"role": role, "oee": 0.3}))

    def deliver():
        logged = deliver_reports(reports, "2026-11-13", one_address_per_role(), state, shared, smtp)
        return {(d.role, d.channel): d.status for d in logged}

    first = deliver()
    assert set(first.values()) == {"delivered"} and len(mailbox.messages) == len(ROLES)
    # the same day rendered again: a new rendering time, the same figures (but for a parallel sum's last bit)
    for role, rendered in reports.items():
        again = {"role": role, "oee": 0.1 + 0.2, "generated_at": "2026-11-14T06:31:00Z"}
        rendered.json.write_text(json.dumps(again))
    assert set(deliver().values()) == {"unchanged"} and len(mailbox.messages) == len(ROLES)
    # maintenance's figures corrected; quality's day mended, its report now complete
    reports["maintenance"].json.write_text('{"role": "maintenance", "mttr_h": 1.5}')
    reports["quality"].complete, reports["quality"].missing = True, []
    third = deliver()
    changed = {key for key, status in third.items() if status == "delivered"}
    assert changed == {
        (role, channel) for role in ("maintenance", "quality") for channel in ("email", "shared_folder")
    }
    assert set(third.values()) == {"delivered", "unchanged"}
    resent = [rcpt for rcpt, _ in mailbox.messages[len(ROLES) :]]
    assert sorted(resent) == [["maintenance@plant.example"], ["quality@plant.example"]]
    assert "INCOMPLETE" in mailbox.messages[ROLES.index("quality")][1]["Subject"]
    assert "INCOMPLETE" not in mailbox.messages[-1][1]["Subject"] + mailbox.messages[-2][1]["Subject"]
    with duckdb.connect(str(state), read_only=True) as conn:
        statuses = conn.execute(
            "select status, count(*) from distribution.delivery_log group by 1 order by 1"
        ).fetchall()
    # 5 roles x (mail, folder) a run; each delivery sent was committed pending before it was sent
    assert statuses == [("delivered", 10 + 4), ("pending", 10 + 4), ("unchanged", 10 + 6)]
