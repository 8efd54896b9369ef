"""Sensor events grouped into alarms: one per machine and problem, with a priority and a sentence.

One fault shows in several detectors and sensors at once (a stuck dryer sensor is also a level shift and a
broken relation for the machine model; a lost telemetry link is a gap on every sensor of the machine). Events
of one machine whose windows overlap, or lie within ``join_readings`` of each other, are one problem: one
alarm, named after its largest deviation, with every event as a member. Durations are counted in readings of
the sensors' own interval (a minute-by-minute plant and a 1 Hz test rig alike), except a lost telemetry link,
which is about time.

Priority (ISA-18.2: consequence and urgency), from what the events say, fixed here and not tuned:
- ``critical``: the machine's telemetry lost for ``critical_gap_s`` or longer (it is running blind), or a
  sustained deviation (``sustained_readings``) of at least ``critical_factor`` times its limit;
- ``high``: a deviation held ``sustained_readings`` or longer, a stuck sensor, or a gap of ``high_gap_s``;
- ``low``: the rest that still needs a person: a short excursion well beyond its limit (``low_factor``
  times it), or any deviation judged on warm-up limits that is held ``min_alarm_readings``.

An alarm that comes back (the same sensor, the same kind, no higher priority) within ``repeat_window_s`` of
the last time it was raised is that same problem repeating, not a new one: it is folded into the first as an
occurrence (ISA-18.2's chattering and repeating alarms, handled here by design rather than by shelving). A
bursty sensor that spikes forty times a day raises one alarm saying so; a repeat that is worse than the
first is raised again. The window is a shift, about the person told: fixed here, not tuned.

An event that needs nobody raises no alarm: a single reading or a few minutes just past a limit (a healthy
plant of a hundred sensors shows several a day by chance), or a level that moved less than
``min_shift_sigmas`` sigmas of the sensor's single readings (judged on a windowed mean, a shift of a
degree-tenth is significant, but it is inside the band a trend chart shows as the sensor's noise: a chamber
warming with its load, not a fault). Such an event stays in analytics.sensor_anomalies for the analyst, as
ISA-18.2 keeps alarms for what requires a response.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from orchestration.anomalies.alarms import Alarm
from orchestration.anomalies.detectors import Event

KIND_WORDS = {
    "spike": "a spike",
    "level_shift": "a level shift",
    "drift": "a drift",
    "stuck": "a stuck reading",
    "gap": "no readings",
    "multivariate": "a broken relation between its signals",
}


@dataclass(frozen=True)
class AlarmRules:
    join_readings: int = 10  # events of one machine this close are one problem
    min_alarm_readings: int = 10  # a deviation shorter than this alarms only when it is large (low_factor)
    low_factor: float = 1.5
    sustained_readings: int = 30
    critical_factor: float = 2.0
    critical_gap_s: float = 1800.0
    high_gap_s: float = 600.0
    # A level change smaller than this, in sigmas of single readings, needs nobody.
    min_shift_sigmas: float = 3.0
    # A broken relation with no sensor off its own normal alarms only if this is set: on the simulated plant
    # and SKAB's development files it was the main source of false alarms (docs/measured.md); it stays in
    # analytics.sensor_anomalies, and joins the alarm of a sensor deviation on its machine as a member.
    relation_alone: bool = False
    repeat_window_s: float = 8 * 3600.0  # the same alarm within a shift of its last occurrence: a repeat


@dataclass(frozen=True)
class SensorInfo:
    measure: str  # temperature, vibration, ...
    unit: str


def group_events(
    events: list[Event],
    sensors: dict[str, SensorInfo] | None = None,
    timezone: str = "UTC",
    rules: AlarmRules | None = None,
    interval_s: float = 60.0,
) -> list[Alarm]:
    """The alarms of a list of events (any order) on sensors read every ``interval_s``."""
    rules = rules or AlarmRules()
    sensors = sensors or {}
    by_machine: dict[str, list[Event]] = {}
    for event in events:
        if not needs_response(event, rules, interval_s):
            continue
        by_machine.setdefault(event.machine_id, []).append(event)
    groups: list[tuple[str, list[Event]]] = []
    join_us = int(rules.join_readings * interval_s * 1e6)
    for machine, found in sorted(by_machine.items()):
        found.sort(key=lambda e: (e.start_us, e.end_us, e.sensor_id))
        group = [found[0]]
        group_end = found[0].end_us
        for event in found[1:]:
            if event.start_us <= group_end + join_us:
                group.append(event)
                group_end = max(group_end, event.end_us)
            else:
                groups.append((machine, group))
                group, group_end = [event], event.end_us
        groups.append((machine, group))
    alarms = [
        _alarm(machine, group, sensors, timezone, rules, interval_s)
        for machine, group in groups
        if rules.relation_alone or any(e.kind != "multivariate" for e in group)
    ]
    return fold_repeats(alarms, rules, timezone)


def fold_repeats(alarms: list[Alarm], rules: AlarmRules, timezone: str = "UTC") -> list[Alarm]:
    """Alarms of one sensor and kind that come back within ``repeat_window_s`` of the last occurrence, no
    worse than the first, as one alarm with every occurrence among its members (``occurrence`` 0, 1, ...)."""
    window_us = int(rules.repeat_window_s * 1e6)
    chains: dict[tuple, list[Alarm]] = {}
    folded: list[list[Alarm]] = []
    for alarm in sorted(alarms, key=lambda a: (a.start_us, a.end_us, a.subject)):
        key = (alarm.machine_id, alarm.subject, _lead_kind(alarm))
        chain = chains.get(key)
        if (
            chain
            and alarm.start_us <= max(a.end_us for a in chain) + window_us
            and _rank(alarm.priority) >= _rank(chain[0].priority)
        ):
            chain.append(alarm)
            continue
        chains[key] = [alarm]
        folded.append(chains[key])
    return [_repeated(chain, timezone) for chain in folded]


def _lead_kind(alarm: Alarm) -> str:
    return next((m["kind"] for m in alarm.members if m.get("lead")), "")


def _repeated(chain: list[Alarm], timezone: str) -> Alarm:
    first = chain[0]
    if len(chain) == 1:
        return first
    last_end = max(a.end_us for a in chain)
    return replace(
        first,
        end_us=last_end,
        score=max(a.score for a in chain),
        sentence=f"{first.sentence[:-1]}; it came back {len(chain) - 1} more"
        f" time{'s' if len(chain) > 2 else ''}, the last at {_local_time(chain[-1].start_us, timezone)}.",
        members=[{**m, "occurrence": k} for k, a in enumerate(chain) for m in a.members],
    )


def deviation_spans(alarm: Alarm) -> list[tuple[int, int]]:
    """(start_us, end_us) of each sensor deviation in the alarm: the readings it flags. A broken relation is
    the alarm's evidence, not readings of its own, unless it is all the alarm holds (``relation_alone``)."""
    own = [m for m in alarm.members if m["kind"] != "multivariate"] or alarm.members
    return [(m["start_us"], m["end_us"]) for m in own]


def occurrence_spans(alarm: Alarm) -> list[tuple[int, int]]:
    """(start_us, end_us) of each time the alarm's problem was present: one span, or one per repeat."""
    spans: dict[int, list[int]] = {}
    for member in alarm.members:
        span = spans.setdefault(member.get("occurrence", 0), [member["start_us"], member["end_us"]])
        span[0], span[1] = min(span[0], member["start_us"]), max(span[1], member["end_us"])
    return [tuple(s) for s in spans.values()] or [(alarm.start_us, alarm.end_us)]


def needs_response(event: Event, rules: AlarmRules, interval_s: float = 60.0) -> bool:
    """Whether an event is worth a person's attention at all (see the module's docstring)."""
    readings = (event.end_us - event.start_us) / 1e6 / interval_s
    if event.kind == "gap":
        return (event.end_us - event.start_us) / 1e6 >= rules.high_gap_s
    if event.kind in ("level_shift", "drift"):
        moved = event.evidence.get("peak_shift_z")
        if moved is not None and moved < rules.min_shift_sigmas:
            return False
    if event.kind == "stuck" or readings >= rules.min_alarm_readings:
        return True
    limit = _limit_of(event)
    return bool(limit) and event.score >= rules.low_factor * limit


def priority_of(event: Event, rules: AlarmRules, interval_s: float = 60.0) -> str:
    duration_s = (event.end_us - event.start_us) / 1e6
    if event.kind == "gap":
        if duration_s >= rules.critical_gap_s:
            return "critical"
        return "high" if duration_s >= rules.high_gap_s else "low"
    if event.evidence.get("warm_up"):
        return "low"
    limit = _limit_of(event)
    sustained = duration_s / interval_s >= rules.sustained_readings
    if sustained and limit and event.score >= rules.critical_factor * limit:
        return "critical"
    if event.kind == "stuck" or sustained:
        return "high"
    return "low"


def _limit_of(event: Event) -> float | None:
    evidence = event.evidence
    for key in ("open_limit", "threshold_z"):
        if evidence.get(key):
            return float(evidence[key])
    if event.kind == "multivariate":
        return 1.0  # its score is the ratio to the T2/Q limit
    return None


def _alarm(machine, group, sensors, timezone, rules, interval_s) -> Alarm:
    # Named after a sensor's own deviation where there is one: it says which quantity moved and by how much.
    ranked = sorted(
        group,
        key=lambda e: (
            _rank(priority_of(e, rules, interval_s)),
            e.kind == "multivariate",
            -_severity(e),
            e.start_us,
        ),
    )
    lead = ranked[0]
    priority = priority_of(lead, rules, interval_s)
    start_us = min(e.start_us for e in group)
    end_us = max(e.end_us for e in group)
    return Alarm(
        source="sensor",
        machine_id=machine,
        subject=lead.sensor_id,
        start_us=start_us,
        end_us=end_us,
        priority=priority,
        sentence=sentence(machine, lead, group, sensors, timezone, start_us, end_us),
        score=float(lead.score),
        members=[
            {
                "sensor_id": e.sensor_id,
                "kind": e.kind,
                "start_us": e.start_us,
                "end_us": e.end_us,
                "score": e.score,
                "priority": priority_of(e, rules, interval_s),
                "lead": e is lead,  # the event the alarm is named after
            }
            for e in group
        ],
    )


def _rank(priority: str) -> int:
    return ("critical", "high", "low").index(priority)


def _severity(event: Event) -> float:
    limit = _limit_of(event)
    return event.score / limit if limit else event.score


def sentence(machine, lead: Event, group, sensors, timezone, start_us, end_us) -> str:
    """E.g. "COAT-01: dryer temperature (COAT-01.dryer_temperature) 4.2 degC above normal (61.0 degC,
    8.1 sigmas), a level shift since 14:05 for 80 min; also web tension."""
    info = sensors.get(lead.sensor_id)
    quantity = (info.measure if info else lead.sensor_id.split(".")[-1]).replace("_", " ")
    unit = f" {info.unit}" if info and info.unit else ""
    since = _local_time(start_us, timezone)
    minutes = max(1, round((end_us - start_us) / 6e7))
    what = KIND_WORDS.get(lead.kind, lead.kind)
    size = _size(lead, unit)
    others = sorted(
        {e.sensor_id.split(".")[-1].replace("_", " ") for e in group if e.sensor_id != lead.sensor_id}
    )
    tail = f"; also {', '.join(others)}" if others else ""
    rebaselined = (
        " (still off after the longest open time: taken as its new normal)"
        if any(e.evidence.get("rebaselined") for e in group)
        else ""
    )
    lead_words = f"{machine}: {quantity} ({lead.sensor_id}) {what}{size}"
    return f"{lead_words}, since {since} for {minutes} min{tail}{rebaselined}."


def _size(event: Event, unit: str) -> str:
    evidence = event.evidence
    if event.kind == "gap":
        return ""
    if event.kind == "stuck":
        value = evidence.get("value")
        return f" at {value:.4g}{unit}" if value is not None else ""
    if event.kind == "spike":
        value = evidence.get("value")
        return f" to {value:.4g}{unit} ({event.score:.1f} sigmas)" if value is not None else ""
    if event.kind == "multivariate":
        return f" ({event.score:.1f} times its limit)"
    mean_z, sigma = evidence.get("mean_z"), evidence.get("robust_sigma")
    if mean_z is None or not sigma:
        return ""
    offset = mean_z * sigma
    direction = "above" if offset >= 0 else "below"
    return f", {abs(offset):.3g}{unit} {direction} normal ({abs(mean_z):.1f} sigmas)"


def _local_time(epoch_us: int, timezone: str) -> str:
    return pd.Timestamp(epoch_us, unit="us", tz="UTC").tz_convert(timezone).strftime("%a %H:%M")
