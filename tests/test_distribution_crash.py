"""kill -9 during distribution, at every step, then a rerun: every recipient has the report exactly once, but
for the one window SMTP cannot close (the server accepted the mail, the run died before confirming it), where
the recipient has it twice with the same Message-ID and the log says it may be a duplicate."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest

from orchestration.distribution import SmtpSettings, deliver_reports
from orchestration.distribution.config import Distribution, Retries, RoleRecipients
from orchestration.distribution.deliver import IN_DOUBT
from orchestration.settings import REPO_ROOT
from tests.live_helpers import free_port
from tests.test_distribution import Mailbox, render_roles

pytestmark = pytest.mark.e2e  # a distribution process killed 13 times over: the end-to-end tier
aiosmtpd = pytest.importorskip("aiosmtpd")
from aiosmtpd.controller import Controller  # noqa: E402

DAY = "2026-11-13"
ROLES = ("director", "production", "quality", "maintenance")  # one mail each: n = 4 sends
STEPS = ("pending committed", "sent", "delivered committed")  # what each mail goes through, in order

# The distribution run the test kills: the real deliver_reports, with the kill hook wrapped around the two
# things a mail's delivery does (commit a log row, send the mail). It SIGKILLs itself right after step k.
RUN = """
import os, signal, sys, json
from types import SimpleNamespace
from pathlib import Path
from orchestration.distribution import deliver
from orchestration.distribution.config import Distribution, Retries, RoleRecipients, SmtpSettings

kill_after, spec = int(sys.argv[1]), json.loads(sys.argv[2])
steps = 0

def step():
    global steps
    steps += 1
    if steps == kill_after:
        os.kill(os.getpid(), signal.SIGKILL)

log_deliveries, send_mail = deliver.log_deliveries, deliver.send_mail

def logging_then_step(state_path, rows):
    log_deliveries(state_path, rows)
    step()

def sending_then_step(settings, message):
    send_mail(settings, message)
    step()

deliver.log_deliveries, deliver.send_mail = logging_then_step, sending_then_step
reports = {role: SimpleNamespace(html=Path(p[0]), json=Path(p[1]), complete=True, missing=[])
           for role, p in spec["reports"].items()}
distribution = Distribution(
    {role: RoleRecipients(role, (address,), False) for role, address in spec["recipients"].items()},
    Retries(attempts=2, backoff_s=0.01, max_backoff_s=0.01),
)
smtp = SmtpSettings("127.0.0.1", spec["port"], "reports@gigafactory-nord.example", None, None, "never")
deliver.deliver_reports(reports, spec["day"], distribution, Path(spec["state"]), Path(spec["shared"]), smtp)
"""


@pytest.fixture(scope="module")
def server():
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield mailbox, controller.port
    controller.stop()


def recipients() -> dict[str, str]:
    return {role: f"{role}@plant.example" for role in ROLES}


def run_killed(kill_after: int, tmp_path: Path, port: int, reports) -> int:
    spec = {
        "day": DAY,
        "port": port,
        "state": str(tmp_path / "state.duckdb"),
        "shared": str(tmp_path / "shared"),
        "recipients": recipients(),
        "reports": {role: [str(reports[role].html), str(reports[role].json)] for role in ROLES},
    }
    run = subprocess.run(
        [sys.executable, "-c", RUN, str(kill_after), json.dumps(spec)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode in (0, -signal.SIGKILL), run.stderr
    return run.returncode


def rerun(tmp_path: Path, port: int, reports):
    distribution = Distribution(
        {role: RoleRecipients(role, (address,), False) for role, address in recipients().items()},
        Retries(attempts=2, backoff_s=0.01, max_backoff_s=0.01),
    )
    smtp = SmtpSettings("127.0.0.1", port, "reports@gigafactory-nord.example", None, None, "never")
    return deliver_reports(
        {role: reports[role] for role in ROLES}, DAY, distribution, tmp_path / "state.duckdb", tmp_path, smtp
    )


def logged(state: Path) -> list[SimpleNamespace]:
    with duckdb.connect(str(state), read_only=True) as conn:
        cursor = conn.execute(
            "select recipient, status, delivery_id, message_id, note from distribution.delivery_log"
            " order by logged_at"
        )
        names = [column[0] for column in cursor.description]
        return [SimpleNamespace(**dict(zip(names, row, strict=True))) for row in cursor.fetchall()]


@pytest.mark.parametrize("kill_after", range(1, 3 * len(ROLES) + 2))  # every step, and one past the last
def test_killed_at_any_step_every_recipient_has_the_report_once(kill_after, tmp_path, server):
    mailbox, port = server
    mailbox.messages.clear()
    reports = render_roles(tmp_path / "reports", DAY)
    killed = run_killed(kill_after, tmp_path, port, reports) == -signal.SIGKILL
    assert killed == (kill_after <= 3 * len(ROLES))  # the hook fired at this very step (none past the last)
    mailed_before_rerun = len(mailbox.messages)
    last = rerun(tmp_path, port, reports)

    # Where the run died: during the delivery of mail number `current`, right after `step`.
    current, step = divmod(kill_after - 1, len(STEPS))
    in_doubt = current if killed and STEPS[step] != "delivered committed" else None
    duplicated = current if killed and STEPS[step] == "sent" else None
    order = [recipients()[role] for role in ROLES]

    copies = Counter(rcpt for (rcpt,), _ in mailbox.messages)
    assert copies == {address: 2 if i == duplicated else 1 for i, address in enumerate(order)}
    assert mailed_before_rerun == (current + (STEPS[step] != "pending committed") if killed else len(ROLES))

    # The log: every delivery committed pending before it went out and confirmed once; the one left in doubt
    # kept its id and Message-ID, was resent once and says that it may be a duplicate.
    rows = logged(tmp_path / "state.duckdb")
    for i, address in enumerate(order):
        own = [row for row in rows if row.recipient == address]
        statuses = [row.status for row in own]
        if i == in_doubt:
            assert statuses == ["pending", "pending", "delivered"]
            assert len({row.delivery_id for row in own}) == 1 and len({row.message_id for row in own}) == 1
            assert [row.note for row in own] == [None, IN_DOUBT, IN_DOUBT]
        elif killed and i <= current or not killed:
            assert statuses == ["pending", "delivered", "unchanged"]  # confirmed by the killed run
            assert own[0].note is None and own[1].note is None
        else:
            assert statuses == ["pending", "delivered"]  # never started before the kill: sent by the rerun
            assert all(row.note is None for row in own)
        sent = [message for (rcpt,), message in mailbox.messages if rcpt == address]
        assert {message["Message-ID"] for message in sent} == {own[0].message_id}
    assert {d.recipient: d.note is not None for d in last} == {a: i == in_doubt for i, a in enumerate(order)}

    # and a third run sends nobody anything
    mailed = len(mailbox.messages)
    assert {d.status for d in rerun(tmp_path, port, reports)} == {"unchanged"}
    assert len(mailbox.messages) == mailed
