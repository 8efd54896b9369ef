"""kill -9 of the alerting process mid-delivery, then a restart: every alert's message reaches the webhook,
none is lost, and none twice but the one in flight when the process died, which comes again with the same
message id (a receiver that keeps ids drops it) and is marked in the outbox as a possible duplicate."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections import Counter
from datetime import timedelta

import pytest

from orchestration.alerting.dispatch import IN_DOUBT_NOTE, Dispatcher
from orchestration.alerting.manager import AlertManager
from orchestration.alerting.rules import load_rules
from orchestration.alerting.store import connect
from orchestration.settings import REPO_ROOT
from tests.test_alerting import T0, receiver, sensor_signal, write_rules  # noqa: F401

pytestmark = pytest.mark.e2e  # a dispatching process killed with SIGKILL at each step

# The alerting process's dispatcher, killed by SIGKILL right after step k of its deliveries: a claim committed
# (before the send) or a send done (before its outcome is committed).
RUN = """
import os, signal, sys
from pathlib import Path
from orchestration.alerting.dispatch import Dispatcher
from orchestration.alerting.rules import load_rules

state, rules = Path(sys.argv[1]), load_rules(Path(sys.argv[2]))
point, kill_after = sys.argv[3], int(sys.argv[4])
steps = 0

def step():
    global steps
    steps += 1
    if steps == kill_after:
        os.kill(os.getpid(), signal.SIGKILL)

dispatcher = Dispatcher(state, rules)
if point == "sent":
    dispatcher.send_hook = lambda message, error: step()
else:
    claim = dispatcher._claim
    def claiming_then_step(message_id):
        claimed = claim(message_id)
        step()
        return claimed
    dispatcher._claim = claiming_then_step
dispatcher.deliver_due()
"""


@pytest.mark.parametrize(("point", "kill_after"), [("claimed", 1), ("claimed", 3), ("sent", 1), ("sent", 3)])
def test_kill_9_mid_delivery_loses_nothing_and_repeats_only_the_message_in_flight(
    tmp_path,
    receiver,  # noqa: F811 - the fixture of tests/test_alerting.py
    point,
    kill_after,
):
    state = tmp_path / "state.duckdb"
    rules_path = write_rules(tmp_path)
    rules = load_rules(rules_path)
    machines = ("COAT-01", "CAL-01", "MIX-01", "FORM-02")
    alert_ids = AlertManager(state, rules).observe(
        [sensor_signal(m, T0 + timedelta(seconds=n), "high") for n, m in enumerate(machines)]
    )
    with connect(state) as conn:
        expected = {r[0] for r in conn.execute("select message_id from alerts.outbox").fetchall()}
    assert len(expected) == 4  # one webhook post per alert (rule sensor-high: webhook only)

    killed = subprocess.run(
        [sys.executable, "-c", RUN, str(state), str(rules_path), point, str(kill_after)],
        cwd=REPO_ROOT,
        capture_output=True,
        timeout=120,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()[-2000:]
    before_restart = Counter(m["message_id"] for m in receiver.received)
    assert len(before_restart) == (kill_after if point == "sent" else kill_after - 1)

    restarted = Dispatcher(state, rules)  # the process started again
    assert restarted.recover() == 1  # exactly one message was in flight
    restarted.deliver_due()

    received = Counter(m["message_id"] for m in receiver.received)
    assert set(received) == expected  # nothing lost
    twice = [message_id for message_id, n in received.items() if n > 1]
    assert twice == ([] if point == "claimed" else [receiver.received[kill_after - 1]["message_id"]])
    assert all(n <= 2 for n in received.values())
    with connect(state) as conn:
        outbox = conn.execute("select message_id, status, note from alerts.outbox").fetchall()
        alerts = conn.execute("select alert_id from alerts.alerts").fetchall()
    assert {status for _, status, _ in outbox} == {"delivered"}
    in_doubt = [message_id for message_id, _, note in outbox if note == IN_DOUBT_NOTE]
    assert len(in_doubt) == 1 and (point == "claimed" or in_doubt == twice)
    resent = [m for m in receiver.received if m.get("note") == IN_DOUBT_NOTE]
    assert [m["message_id"] for m in resent] == in_doubt  # the resend says it may be a duplicate
    assert sorted(a for (a,) in alerts) == sorted(alert_ids)  # no alert raised twice
    assert all(m["kind"] == "raise" for m in receiver.received)
