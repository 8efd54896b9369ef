"""A password never crosses a clear channel unless the configuration says so, never shows in a repr or a log,
and the files holding restricted figures are created readable by their owner and one group only."""

from __future__ import annotations

import grp
import os
import stat
from pathlib import Path

import duckdb
import pytest

from orchestration.atomic_files import RESTRICTED, restrict_database
from orchestration.distribution import SmtpSettings, deliver_reports
from orchestration.distribution.config import Distribution, Retries, RoleRecipients
from orchestration.rca import state_connection
from orchestration.reporting import render_daily_reports, render_shift_handover
from orchestration.settings import load_settings
from tests.live_helpers import free_port
from tests.test_distribution import Mailbox, render_roles
from tests.test_report_roles import BERLIN, WAREHOUSE_SQL
from tests.test_report_roles import DAY as REPORT_DAY

aiosmtpd = pytest.importorskip("aiosmtpd")
from aiosmtpd.controller import Controller  # noqa: E402
from aiosmtpd.smtp import AuthResult  # noqa: E402

DAY = "2026-11-13"
PASSWORD = "hunter2-Sup3r-s3cret"


class Server:
    """An SMTP server on loopback without STARTTLS that records every login it is offered and refuses it,
    echoing the password back (a careless server): what the client logs must still not carry it."""

    def __init__(self, auth: bool):
        self.mailbox, self.logins = Mailbox(), []
        options = {"authenticator": self.authenticate, "auth_require_tls": False} if auth else {}
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=free_port(), **options)

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        self.logins.append(auth_data.password)
        refusal = f"535 5.7.8 {auth_data.password.decode()} is not it"
        return AuthResult(success=False, handled=False, message=refusal)


@pytest.fixture
def smtp_server():
    started = []

    def start(auth: bool = True) -> Server:
        server = Server(auth)
        server.controller.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.controller.stop()


@pytest.fixture
def wide_umask():
    """umask 0: every mode asserted below comes from the code, not from the test runner's umask."""
    before = os.umask(0)
    yield
    os.umask(before)


def settings_for(monkeypatch, port: int, starttls: str | None, user: str | None = "reports") -> SmtpSettings:
    monkeypatch.setenv("GIGAFACTORY_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("GIGAFACTORY_SMTP_PORT", str(port))
    monkeypatch.setenv("GIGAFACTORY_SMTP_PASSWORD", PASSWORD)
    for name, value in (("GIGAFACTORY_SMTP_STARTTLS", starttls), ("GIGAFACTORY_SMTP_USER", user)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    return SmtpSettings.from_environment()


def deliver_to_quality(tmp_path: Path, smtp: SmtpSettings, shared: bool = False, group: str | None = None):
    distribution = Distribution(
        {"quality": RoleRecipients("quality", ("quality@plant.example",), shared)},
        Retries(attempts=2, backoff_s=0.0, max_backoff_s=0.0),
    )
    reports = render_roles(tmp_path / "reports", DAY)
    return deliver_reports(
        reports,
        DAY,
        distribution,
        tmp_path / "state.duckdb",
        tmp_path / "shared",
        smtp,
        roles=["quality"],
        sleep=lambda _: None,
        file_group=group,
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- never a password in clear unless the configuration says so ---


def test_auto_refuses_to_log_in_over_a_clear_channel(tmp_path, smtp_server, monkeypatch):
    server = smtp_server()
    smtp = settings_for(monkeypatch, server.controller.port, starttls=None)  # auto, the default
    assert smtp.starttls == "auto"
    (delivery,) = deliver_to_quality(tmp_path, smtp)
    assert delivery.status == "failed" and delivery.attempts == 1  # permanent: retrying cannot fix it
    assert "does not offer STARTTLS" in delivery.error and "GIGAFACTORY_SMTP_STARTTLS=never" in delivery.error
    assert server.logins == [] and server.mailbox.messages == []  # the password never left


def test_require_refuses_a_server_without_starttls(tmp_path, smtp_server, monkeypatch):
    server = smtp_server()
    (delivery,) = deliver_to_quality(tmp_path, settings_for(monkeypatch, server.controller.port, "require"))
    assert delivery.status == "failed" and "STARTTLS=require" in delivery.error
    assert server.logins == []


def test_auto_without_a_user_sends_without_a_login(tmp_path, smtp_server, monkeypatch):
    server = smtp_server(auth=False)
    smtp = settings_for(monkeypatch, server.controller.port, "auto", user=None)
    (delivery,) = deliver_to_quality(tmp_path, smtp)
    assert delivery.status == "delivered"
    assert [rcpt for rcpt, _ in server.mailbox.messages] == [["quality@plant.example"]]


@pytest.mark.parametrize("spelling", ["never", "off"])  # "off": the setting's spelling before "never"
def test_only_never_sends_the_password_in_clear(tmp_path, smtp_server, monkeypatch, spelling):
    server = smtp_server()
    smtp = settings_for(monkeypatch, server.controller.port, spelling)
    assert smtp.starttls == "never"
    deliver_to_quality(tmp_path, smtp)
    assert server.logins and set(server.logins) == {PASSWORD.encode()}


def test_an_unknown_starttls_setting_is_refused(monkeypatch):
    with pytest.raises(ValueError, match="auto, require, never"):
        settings_for(monkeypatch, 25, "sometimes")


# --- secrets masked in every repr and log ---


def test_the_password_never_shows_in_a_repr(monkeypatch):
    smtp = settings_for(monkeypatch, 25, "never")
    assert smtp.password.reveal() == PASSWORD  # it is there, for the login
    for text in (repr(smtp), str(smtp), f"{smtp}", repr(smtp.password), str(smtp.password)):
        assert PASSWORD not in text and "***" in text


def test_a_failed_login_is_logged_without_the_password(tmp_path, smtp_server, monkeypatch, capsys):
    """The server echoes the password in its refusal: the error kept in the log and printed is masked."""
    server = smtp_server()
    smtp = settings_for(monkeypatch, server.controller.port, "never")
    (delivery,) = deliver_to_quality(tmp_path, smtp)
    assert set(server.logins) == {PASSWORD.encode()}  # the server did see it, and said it back
    assert delivery.status == "failed" and "535" in delivery.error and "***" in delivery.error
    assert PASSWORD not in repr(delivery)
    print(delivery)
    with duckdb.connect(str(tmp_path / "state.duckdb"), read_only=True) as conn:
        logged = conn.execute("select * from distribution.delivery_log").fetchall()
    assert [row[5] for row in logged] == ["pending", "failed"]
    assert PASSWORD not in repr(logged) + capsys.readouterr().out


# --- files holding restricted figures ---


def other_group() -> str:
    """A group this account may give its files to, other than its own (root may give any)."""
    own = os.getgid()
    candidates = os.getgroups() if os.geteuid() else [g.gr_gid for g in grp.getgrall()]
    names = [grp.getgrgid(gid).gr_name for gid in candidates if gid != own]
    if not names:
        pytest.skip("this account belongs to no group but its own")
    return names[0]


def test_role_reports_are_owner_and_group_only(tmp_path, wide_umask, monkeypatch):
    monkeypatch.setenv("GIGAFACTORY_FILE_GROUP", other_group())
    group = load_settings().file_group
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute(WAREHOUSE_SQL)
    reports = tmp_path / "reports"
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        daily = render_daily_reports(conn, REPORT_DAY, reports, calendar=BERLIN, file_group=group)
        handover = render_shift_handover(conn, REPORT_DAY, "late", reports, calendar=BERLIN, file_group=group)
    files = [path for report in [*daily.values(), handover] for path in (report.html, report.json)]
    assert len(files) == 2 * len(daily) + 2 and "finance" in daily
    for path in files:
        assert mode(path) == 0o640 and grp.getgrgid(path.stat().st_gid).gr_name == group, path
    for folder in (reports / REPORT_DAY.isoformat(), reports / REPORT_DAY.isoformat() / "daily"):
        assert mode(folder) == 0o750 and grp.getgrgid(folder.stat().st_gid).gr_name == group
    assert not list(reports.rglob("*.tmp"))


def test_the_shared_folder_is_per_role_owner_and_group_only(tmp_path, wide_umask, smtp_server, monkeypatch):
    server = smtp_server(auth=False)
    group = other_group()
    smtp = settings_for(monkeypatch, server.controller.port, "auto", user=None)
    deliveries = deliver_to_quality(tmp_path, smtp, shared=True, group=group)
    assert [d.status for d in deliveries] == ["delivered", "delivered"]
    role_folder = tmp_path / "shared" / "quality"
    assert mode(role_folder) == 0o750 and grp.getgrgid(role_folder.stat().st_gid).gr_name == group
    for path in role_folder.iterdir():
        assert mode(path) == 0o640 and grp.getgrgid(path.stat().st_gid).gr_name == group, path


def test_the_state_file_is_owner_only(tmp_path, wide_umask, smtp_server, monkeypatch):
    """Written by distribution (the delivery log) and by RCA (cases), whichever creates it first."""
    server = smtp_server(auth=False)
    deliver_to_quality(tmp_path, settings_for(monkeypatch, server.controller.port, "auto", user=None))
    assert mode(tmp_path / "state.duckdb") == 0o600
    rca_state = tmp_path / "rca" / "state.duckdb"
    with state_connection(rca_state) as conn:
        conn.execute("select count(*) from rca.cases").fetchone()
    assert mode(rca_state) == 0o600


def test_a_restricted_warehouse_keeps_its_mode_through_later_writes(tmp_path, wide_umask):
    """DuckDB opens an existing file in place: restricted once after the run that created it, the warehouse
    stays 0640 through every later run (its write-ahead log is restricted with it when one is left)."""
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("create schema marts; create table marts.cost as select 47.12 as cost_per_good_cell")
    assert mode(warehouse) == 0o666  # as DuckDB creates it: the umask decides, here nothing
    restrict_database(warehouse, RESTRICTED)
    for _ in range(2):
        with duckdb.connect(str(warehouse)) as conn:
            conn.execute("insert into marts.cost values (17.0)")
            conn.execute("checkpoint")
    assert mode(warehouse) == 0o640
