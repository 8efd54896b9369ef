"""Alarms: one per problem, ranked, in a sentence a person acts on (ISA-18.2 / EEMUA 191 thinking).

The detectors find events (one sensor, one kind, one window) and SPC finds rule firings (one point, one rule).
A person should not read either: simultaneous events of one machine are one problem, the firings of one chart
on one day are one problem. An ``Alarm`` is that problem, with what contributed to it (``members``), a
priority from consequence and urgency, and a sentence naming the sensor or characteristic, the quantity with
its unit, the size of the deviation and since when. Reports, RCA and alerting read alarms, not raw events.

Priorities:
- ``critical``: act now; a consequence for product or equipment is under way (e.g. a measured value beyond
  its specification, a machine's telemetry lost for half an hour, a deviation many times its limit);
- ``high``: act this shift (a clear, sustained deviation);
- ``low``: look when convenient (a short or small deviation, a warm-up judgement).

Sensor alarms (source ``sensor``) are written by the sensor-anomaly step, SPC alarms (source ``spc``) by the
SPC step, each replacing its own rows of the day in ``analytics.alarms``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import duckdb

PRIORITIES = ("critical", "high", "low")
SOURCES = ("sensor", "spc")

ALARM_COLUMNS = (
    "production_date date, alarm_id varchar, source varchar, machine_id varchar, subject varchar, "
    "start_ts timestamptz, end_ts timestamptz, priority varchar, sentence varchar, score double, "
    "members varchar"
)


@dataclass(frozen=True)
class Alarm:
    source: str  # sensor | spc
    machine_id: str | None  # the machine (or room) the problem is on
    subject: str  # the sensor id, or the characteristic (with its product, for SPC)
    start_us: int  # UTC epoch microseconds
    end_us: int  # exclusive
    priority: str  # critical | high | low
    sentence: str
    score: float  # the size of the deviation in the detector's own unit (for ranking within a priority)
    members: list[dict] = field(default_factory=list)  # contributing events or rule firings

    def __post_init__(self):
        if self.priority not in PRIORITIES:
            raise ValueError(f"priority {self.priority!r} is not one of {PRIORITIES}")
        if self.source not in SOURCES:
            raise ValueError(f"source {self.source!r} is not one of {SOURCES}")

    @property
    def alarm_id(self) -> str:
        """Stable across reruns of the same day: the same problem keeps its id."""
        key = f"{self.source}|{self.machine_id}|{self.subject}|{self.start_us}"
        return hashlib.sha1(key.encode()).hexdigest()[:16]

    def members_json(self) -> str:
        return json.dumps(self.members, sort_keys=True, default=float)


def spc_subject(characteristic: str, product_id: str | None) -> str:
    """The subject of an SPC alarm: its chart's characteristic, and its product when it has one."""
    return f"{characteristic}/{product_id}" if product_id else characteristic


def spc_characteristic(subject: str) -> str:
    """The characteristic of an SPC alarm's subject (the inverse of ``spc_subject``)."""
    return subject.split("/", 1)[0]


def rank(alarms: list[Alarm]) -> list[Alarm]:
    """Most urgent first: by priority, then by the size of the deviation, then by time."""
    return sorted(alarms, key=lambda a: (PRIORITIES.index(a.priority), -a.score, a.start_us, a.subject))


def write_alarms(conn: duckdb.DuckDBPyConnection, day: str, source: str, alarms: list[Alarm]) -> int:
    """Replace the day's alarms of one source in analytics.alarms (idempotent reruns)."""
    conn.execute("create schema if not exists analytics")
    conn.execute(f"create table if not exists analytics.alarms ({ALARM_COLUMNS})")
    conn.execute(
        "delete from analytics.alarms where production_date = $day::date and source = $source",
        {"day": day, "source": source},
    )
    if alarms:
        conn.executemany(
            """insert into analytics.alarms values
               ($1::date, $2, $3, $4, $5, make_timestamptz($6), make_timestamptz($7), $8, $9, $10, $11)""",
            [
                (
                    day,
                    a.alarm_id,
                    a.source,
                    a.machine_id,
                    a.subject,
                    a.start_us,
                    a.end_us,
                    a.priority,
                    a.sentence,
                    float(a.score),
                    a.members_json(),
                )
                for a in rank(alarms)
            ],
        )
    return len(alarms)
