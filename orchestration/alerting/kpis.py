"""Alarm-management KPIs of a window (a factory day), per team, from the alerts in the state file: the figures
ISA-18.2 and EEMUA 191 benchmark an alarm system by.

- alerts: raised in the window; ``per_10_min``: their average rate (EEMUA 191: about 1 per 10 minutes per
  operator is manageable, 2 is over-demanding); ``peak_10_min``: the most raised in any 10 minutes (a flood
  is 10 or more);
- standing: raised by the window's end and neither acknowledged nor closed at its end;
- time to acknowledge: median minutes from raising to acknowledgement, of the window's acknowledged alerts;
- chattering: alerts whose problem came back 3 times or more while open (or raised 3 times or more);
- shelved: alerts shelved in the window; flood summaries: the summaries sent instead of single alerts.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path

from orchestration.alerting.store import connect, rows

MANAGEABLE_PER_10_MIN = 1.0  # EEMUA 191
CHATTERING_OCCURRENCES = 3


@dataclass(frozen=True)
class TeamAlarmLoad:
    team: str
    alerts: int
    per_10_min: float
    peak_10_min: int
    standing: int
    median_ack_s: float | None
    chattering: int
    shelved: int
    flood_summaries: int

    def as_dict(self) -> dict:
        return asdict(self)


def _peak(stamps: list[datetime], window: timedelta = timedelta(minutes=10)) -> int:
    stamps = sorted(stamps)
    best, first = 0, 0
    for last, stamp in enumerate(stamps):
        while stamp - stamps[first] >= window:
            first += 1
        best = max(best, last - first + 1)
    return best


def alarm_load(state_path: Path, start: datetime, end: datetime) -> list[TeamAlarmLoad]:
    """Each team's alarm load over [start, end); teams without an alert in it are not listed."""
    if state_path is None or not Path(state_path).exists():
        return []
    with connect(state_path) as conn:
        if not conn.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'alerts' and table_name = 'alerts'"
        ).fetchone()[0]:
            return []
        alerts = rows(
            conn,
            "select * from alerts.alerts where raised_at < $end "
            "and (closed_at is null or closed_at >= $start)",
            {"start": start, "end": end},
        )
        shelved = dict(
            conn.execute(
                """select a.team, count(distinct e.alert_id) from alerts.alert_events e
                   join alerts.alerts a using (alert_id)
                   where e.event = 'shelved' and e.event_ts >= $start and e.event_ts < $end group by all""",
                {"start": start, "end": end},
            ).fetchall()
        )
        summaries = dict(
            conn.execute(
                """select team, count(distinct notice_id) from alerts.outbox where kind = 'summary'
                   and created_at >= $start and created_at < $end group by all""",
                {"start": start, "end": end},
            ).fetchall()
        )
    hours = (end - start).total_seconds() / 3600
    loads = []
    for team in sorted({a["team"] for a in alerts}):
        mine = [a for a in alerts if a["team"] == team]
        raised = [a for a in mine if a["raised_at"] >= start]
        standing = [
            a
            for a in mine
            if (a["acknowledged_at"] is None or a["acknowledged_at"] >= end)
            and (a["closed_at"] is None or a["closed_at"] >= end)
        ]
        ack_s = [
            (a["acknowledged_at"] - a["raised_at"]).total_seconds()
            for a in raised
            if a["acknowledged_at"] is not None
        ]
        keys = [a["problem_key"] for a in raised]
        chattering = [
            a
            for a in raised
            if a["occurrences"] >= CHATTERING_OCCURRENCES
            or keys.count(a["problem_key"]) >= CHATTERING_OCCURRENCES
        ]
        loads.append(
            TeamAlarmLoad(
                team=team,
                alerts=len(raised),
                per_10_min=len(raised) / (hours * 6) if hours else 0.0,
                peak_10_min=_peak([a["raised_at"] for a in raised]),
                standing=len(standing),
                median_ack_s=statistics.median(ack_s) if ack_s else None,
                chattering=len(chattering),
                shelved=int(shelved.get(team, 0)),
                flood_summaries=int(summaries.get(team, 0)),
            )
        )
    return loads
