"""Live scoring of arriving readings as they come: signals for the alarm manager.

A reading is judged against what its machine's state leads to expect, as the daily detection judges it, with
what a live scorer can know (the MES's machine states come later, with the day's extraction):

- **the machine's state is read from its own readings**: each state (producing, idle, out of service) is
  scored by how well it explains where each of the machine's sensors went from its last reading (its level
  through the sensor's lag, reference.py), each sensor's say capped so that one faulty sensor cannot choose.
  The states that fit about as well stay possible (idle and stopped read alike on a speed), the last
  readings' fits choosing among them. A machine without a sensor that shows its state (all slow and close,
  e.g. an aging chamber) may be in any of its states;
- **each sensor's expected reading** is an interval: where its lag takes it from the possible states' levels
  (a point when the state is known; wider while it is not), plus its hour-of-day offset (between the hours'
  own) and a slow drift (the daily detection's adaptive baseline, ``level_tau``); a state change the readings
  told a reading late is expected too. The distance outside the interval in the state's noise sigmas is the
  reading's z. After a gap in a sensor's readings its course starts again from its next reading;
- **an alarm** is a z of ``threshold_sigmas`` or more that holds ``on_delay`` readings in a row (at least
  half as far off, same side: ISA-18.2's on-delay), critical at ``critical_sigmas`` (the median z); it ends
  after ``off_delay`` readings back within half the threshold (the off-delay). Still off after
  ``history_readings``: the sensor's new normal (its offset is learnt and the alert returns, saying so);
- **a stuck sensor**: more identical readings in a row than ``stuck_readings`` and twice the longest run the
  reference showed; **silence**: a machine whose readings stop while the plant's clock moves on.

The reference (each sensor's levels, lag, noise) is learnt from the plant's own recent days in the lake
(reference.py). A sensor the reference does not know (a new plant's first days, a new sensor) learns its
normal from its own first ``min_history_readings``: its recent median and the spread of its successive
differences, with no machine state, so it tells a state change from a fault less well (docs/alerting.md).

Each problem is one signal per machine (``sensor_anomaly:<machine>``): started, joined by another sensor (an
update), ended when every sensor of it is back. Times are the readings' own (the plant's clock), so a
replayed day is judged as it was lived.
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np

from orchestration.alerting.manager import Signal
from orchestration.alerting.reference import IDLE, STATES, Reference, SensorModel
from orchestration.alerting.rules import AlertRules
from orchestration.anomalies.detectors import DetectorSettings

CAP_SIGMAS = 6.0  # one sensor's say in the machine's state: at most this many sigmas off a state's level
TIE_COST = 9.0  # states whose fit is within this (3 sigmas on one sensor) of the best: still possible
MEMORY = 0.5  # a state's misfit carries on into the next reading's at this weight
LEVEL_READINGS = 10  # a sensor without a reference: its level is the median of its last readings
SIGMA_REFRESH = 30  # ... and its noise is estimated again every this many readings
_DETECTION = DetectorSettings()  # the daily detection's adaptive baseline (level_tau), the same live


def _utc(ts_us: int) -> datetime:
    return datetime.fromtimestamp(ts_us / 1e6, UTC)


def _hhmm(ts_us: int) -> str:
    return _utc(ts_us).strftime("%H:%M UTC")


@dataclass
class _Sensor:
    sensor_id: str
    machine_id: str
    measure: str
    unit: str
    history: int
    model: SensorModel | None = None
    # What the machine's possible states lead to expect (lagged levels, no hour offset): an interval, a
    # point when the state is known, wider while the readings cannot tell (idle or stopped?).
    low: float | None = None
    high: float | None = None
    before: tuple[float, float] | None = None  # the interval a reading earlier
    drift: float = 0.0  # slow legitimate change (the daily detection's adaptive baseline, level_tau)
    offset: float = 0.0  # a new normal, learnt after an alarm outlived history_readings
    last: float | None = None
    last_ts: int = 0
    same: int = 0
    candidate: dict | None = None
    off: dict | None = None
    values: deque = field(default_factory=deque)  # without a reference: its recent readings
    steps: deque = field(default_factory=lambda: deque(maxlen=20))  # time between its readings
    sigma: float | None = None
    since_sigma: int = 0

    def __post_init__(self):
        self.values = deque(maxlen=self.history)


@dataclass
class _Machine:
    shows_state: bool = False  # it has an indicator sensor; else any state it has is possible
    states: tuple[int, ...] = (IDLE,)  # the states its readings leave possible
    changed: bool = False  # ... changed with this instant's readings
    costs: list = field(default_factory=lambda: [0.0] * len(STATES))  # each state's recent misfit
    steps: deque = field(default_factory=lambda: deque(maxlen=20))  # time between its readings


class LiveEvaluator:
    """Feed it readings ``(sensor_id, machine_id, measure, unit, reading_ts_us, value)`` in (about) time
    order; it returns the signals they raise. ``silence()`` judges machines that stopped sending."""

    def __init__(self, rules: AlertRules, reference: Reference | None = None):
        self.rules = rules
        self.live = rules.live
        self.reference: Reference | None = None
        self._zone = None
        self.sensors: dict[str, _Sensor] = {}
        self.machines: dict[str, _Machine] = {}
        self.off_sensors: dict[str, dict[str, dict]] = {}  # machine -> sensor -> what is off
        self.last_seen: dict[str, int] = {}  # machine -> newest reading
        self.silent: dict[str, str] = {}  # machine -> the priority told
        self.clock_us = 0
        self.readings = 0
        if reference is not None:
            self.use(reference)

    def use(self, reference: Reference) -> None:
        """Judge with ``reference`` from now on (a new factory day's); what each sensor expects carries on."""
        self.reference = reference
        self._zone = ZoneInfo(reference.timezone)
        for sensor in self.sensors.values():
            sensor.model = reference.sensors.get(sensor.sensor_id)
        for machine_id, machine in self.machines.items():
            machine.shows_state = reference.has_indicator(machine_id)

    # ---- readings
    def add(self, readings: list[tuple]) -> list[Signal]:
        signals: list[Signal] = []
        group: list[tuple] = []
        for reading in sorted(readings, key=lambda r: (r[4], r[1])):
            if group and (reading[4], reading[1]) != (group[0][4], group[0][1]):
                signals.extend(self._instant(group))
                group = []
            group.append(reading)
        if group:
            signals.extend(self._instant(group))
        return signals

    def _instant(self, group: list[tuple]) -> list[Signal]:
        """One machine's readings of one instant: its state first, then each reading against it."""
        signals: list[Signal] = []
        machine_id, ts_us = group[0][1], group[0][4]
        self.readings += len(group)
        self.clock_us = max(self.clock_us, ts_us)
        machine = self.machines.get(machine_id)
        if machine is None:
            shows = self.reference is not None and self.reference.has_indicator(machine_id)
            machine = self.machines[machine_id] = _Machine(shows_state=shows)
        seen = self.last_seen.get(machine_id)
        if seen is not None and ts_us > seen:
            machine.steps.append(ts_us - seen)
        self.last_seen[machine_id] = max(seen or ts_us, ts_us)
        if self.silent.pop(machine_id, None) is not None:
            signals.append(
                Signal(
                    "ingestion_silence",
                    f"ingestion_silence:{machine_id}",
                    "high",
                    f"{machine_id}: telemetry is back at {_hhmm(ts_us)}.",
                    _utc(ts_us),
                    active=False,
                    machine_id=machine_id,
                )
            )
        fresh = []
        for sensor_id, _, measure, unit, _, value in group:
            sensor = self.sensors.get(sensor_id)
            if sensor is None:
                sensor = self.sensors[sensor_id] = _Sensor(
                    sensor_id, machine_id, measure, unit, self.live.history_readings
                )
                sensor.model = self.reference.sensors.get(sensor_id) if self.reference else None
            if ts_us > sensor.last_ts:  # a resend or a late reading: judged once, in order
                if sensor.last_ts:
                    step = ts_us - sensor.last_ts
                    if len(sensor.steps) >= 3 and step > 2 * statistics.median(sensor.steps):
                        sensor.low = sensor.before = None  # after a gap its course is unknown: from here
                    sensor.steps.append(step)
                fresh.append((sensor, float(value)))
        if not fresh:
            return signals
        hour = self._hour(ts_us)
        self._infer_state(machine, fresh, hour)
        for sensor, value in fresh:
            signals.extend(self._judge(sensor, machine, ts_us, value, hour))
            sensor.same = sensor.same + 1 if value == sensor.last else 0
            sensor.last, sensor.last_ts = value, ts_us
        return signals

    def _hour(self, ts_us: int) -> float:
        """The local time of day, in hours (the hour-of-day offsets are the reference's)."""
        if self._zone is None:
            return 0.0
        local = _utc(ts_us).astimezone(self._zone)
        return local.hour + local.minute / 60 + local.second / 3600

    def _infer_state(self, machine: _Machine, fresh: list, hour: float) -> None:
        """The states the machine's readings leave possible: those whose fit is within ``TIE_COST`` of the
        best (idle and stopped read alike on a speed). Every sensor with a reference has its say, the fit of
        its reading to where each state would have taken it from its last reading, capped so that one faulty
        sensor cannot choose (a fault of one sensor, or of two at once, leaves the state as it was). Among the
        states that fit this reading, the fits of the last readings choose
        too (each reading's weight halving, ``MEMORY``): an idle and a stopped machine read alike on a speed,
        not on their slow sensors' course."""
        if not machine.shows_state:
            machine.states = tuple(range(len(STATES)))
            return
        machine.changed = False
        judged = [(s, v) for s, v in fresh if s.model is not None]
        if not judged:
            return  # none read this instant: the states carry on
        cap = CAP_SIGMAS**2
        costs = []
        for state in range(len(STATES)):
            cost = 0.0
            for sensor, value in judged:
                model = sensor.model
                level = model.levels[state]
                if not math.isfinite(level):
                    cost += cap
                    continue
                offset = _seasonal(model, hour) + sensor.offset
                start = sensor.last - offset if sensor.last is not None else level
                predicted = start + model.alpha * (level - start)
                cost += min(((value - offset - predicted) / _sigma(model, state)) ** 2, cap)
            costs.append(cost)
        machine.costs = [MEMORY * old + new for old, new in zip(machine.costs, costs, strict=True)]
        now = [k for k, c in enumerate(costs) if c <= min(costs) + TIE_COST]
        best = min(machine.costs[k] for k in now)  # the recent past only chooses among these
        states = tuple(k for k in now if machine.costs[k] <= best + TIE_COST)
        machine.changed, machine.states = states != machine.states, states

    # ---- one reading
    def _judge(
        self, sensor: _Sensor, machine: _Machine, ts_us: int, value: float, hour: float
    ) -> list[Signal]:
        z, expected = self._residual(sensor, machine, value, hour)
        signals = []
        if z is not None:
            if sensor.off is not None:
                signals.extend(self._while_off(sensor, ts_us, value, z, expected))
            elif sensor.candidate is not None:
                signals.extend(self._confirm(sensor, ts_us, value, z))
            elif abs(z) >= self.live.threshold_sigmas:
                sensor.candidate = {"t0": ts_us, "zs": [z], "expected": expected}
        else:
            sensor.candidate = None  # a state the reference never showed, or not learnt yet: not judged
        if sensor.off is None and self._stuck(sensor, value):
            signals.extend(self._fire(sensor, ts_us, value, "stuck", 0.0, value, "high"))
        return signals

    def _residual(self, sensor: _Sensor, machine: _Machine, value: float, hour: float):
        """(z, the expected reading) of a reading; z None when it is not judged."""
        model = sensor.model
        if model is None:
            return self._residual_unreferenced(sensor, value)
        offset = _seasonal(model, hour) + sensor.offset
        base = value - offset
        if sensor.low is None:
            sensor.low = sensor.high = base  # the lag starts from here (exact for a linear lag)
            return None, None
        previous = (sensor.low, sensor.high)
        sensor.low, sensor.high = _lagged(sensor.model, previous, machine.states)
        if machine.changed and sensor.before is not None:
            # the change may have come a reading before the readings told it: that course is expected too
            early = _lagged(
                sensor.model, _lagged(sensor.model, sensor.before, machine.states), machine.states
            )
            sensor.low, sensor.high = min(sensor.low, early[0]), max(sensor.high, early[1])
        sensor.before = previous
        nearest = min(max(base, sensor.low), sensor.high)
        residual = base - nearest - sensor.drift
        if sensor.candidate is None and sensor.off is None:
            sensor.drift += (base - nearest - sensor.drift) / _DETECTION.level_tau
        return residual / _sigma(model, *machine.states), nearest + offset + sensor.drift

    def _residual_unreferenced(self, sensor: _Sensor, value: float):
        values = sensor.values
        if len(values) >= self.live.min_history_readings and (
            sensor.sigma is None or sensor.since_sigma >= SIGMA_REFRESH
        ):
            diffs = np.diff(np.asarray(values, dtype=float))
            diffs = diffs[diffs != 0]
            mad = float(np.median(np.abs(diffs - np.median(diffs)))) if len(diffs) >= 10 else 0.0
            sensor.sigma, sensor.since_sigma = (1.4826 * mad / math.sqrt(2) if mad > 0 else None), 0
        sensor.since_sigma += 1
        open_problem = sensor.off or sensor.candidate
        expected = (
            open_problem["expected"]
            if open_problem
            else (statistics.median(list(values)[-LEVEL_READINGS:]) if values else None)
        )
        if not open_problem or sensor.off is not None and sensor.off["kind"] == "stuck":
            values.append(value)  # an open problem's readings do not teach the level
        if expected is None or sensor.sigma is None or len(values) < self.live.min_history_readings:
            return None, None
        return (value - expected) / sensor.sigma, expected

    def _stuck(self, sensor: _Sensor, value: float) -> bool:
        run = sensor.same + 1 if value == sensor.last else 1
        longest = 2 * sensor.model.max_run if sensor.model is not None else 0
        return run >= max(self.live.stuck_readings, longest) and value != 0

    def _confirm(self, sensor: _Sensor, ts_us: int, value: float, z: float) -> list[Signal]:
        candidate = sensor.candidate
        first = candidate["zs"][0]
        if np.sign(z) != np.sign(first) or abs(z) < self.live.threshold_sigmas / 2:
            sensor.candidate = None  # a single wild reading, or a moment: nothing held
            return []
        candidate["zs"].append(z)
        if len(candidate["zs"]) < self.live.on_delay_readings:
            return []
        sensor.candidate = None
        size = statistics.median(candidate["zs"])
        priority = "critical" if abs(size) >= self.live.critical_sigmas else "high"
        return self._fire(sensor, candidate["t0"], value, "jump", size, candidate["expected"], priority)

    def _fire(self, sensor, t0, value, kind, size, expected, priority) -> list[Signal]:
        sensor.off = {
            "t0": t0,
            "kind": kind,
            "back": 0,
            "open": 0,
            "value": value,
            "priority": priority,
            "size": size,
            "expected": expected,
            "residuals": deque(maxlen=LEVEL_READINGS),
        }
        unit = f" {sensor.unit}" if sensor.unit else ""
        quantity = sensor.measure.replace("_", " ")
        if kind == "stuck":
            what = f"stuck at {value:.4g}{unit} (the same reading {sensor.same + 1} times in a row)"
        else:
            direction = "above" if size > 0 else "below"
            basis = "its recent level" if sensor.model is None else "what its machine's state leads to expect"
            what = f"at {value:.4g}{unit}, {abs(size):.1f} noise sigmas {direction} {basis}"
            what += f" ({expected:.4g}{unit})"
        sensor.off["sentence"] = (
            f"{sensor.machine_id}: {quantity} ({sensor.sensor_id}) {what}, since {_hhmm(t0)}"
        )
        self.off_sensors.setdefault(sensor.machine_id, {})[sensor.sensor_id] = sensor.off
        return [self._machine_signal(sensor.machine_id, t0)]

    def _machine_signal(self, machine_id: str, at_us: int) -> Signal:
        off = self.off_sensors.get(machine_id, {})
        ranked = sorted(off.items(), key=lambda kv: (kv[1]["priority"] != "critical", -abs(kv[1]["size"])))
        lead_id, lead = ranked[0]
        others = [s.split(".")[-1].replace("_", " ") for s, _ in ranked[1:]]
        sentence = lead["sentence"] + (f"; also {', '.join(others)}" if others else "") + "."
        return Signal(
            "sensor_anomaly",
            f"sensor_anomaly:{machine_id}",
            "critical" if any(o["priority"] == "critical" for o in off.values()) else "high",
            sentence,
            _utc(at_us),
            machine_id=machine_id,
            subject=lead_id,
            facts={"kind": lead["kind"]},
            decided_at=_utc(self.clock_us),
        )

    def _while_off(
        self, sensor: _Sensor, ts_us: int, value: float, z: float, expected: float
    ) -> list[Signal]:
        off = sensor.off
        off["open"] += 1
        if off["kind"] == "stuck":
            back = value != off["value"]
        else:
            back = abs(z) < self.live.threshold_sigmas / 2
            off["residuals"].append(value - expected)
        off["back"] = off["back"] + 1 if back else 0
        new_normal = off["open"] >= self.live.history_readings
        if off["back"] < (1 if off["kind"] == "stuck" else self.live.off_delay_readings) and not new_normal:
            return []
        if new_normal and off["kind"] != "stuck" and off["residuals"]:
            shift = statistics.median(off["residuals"])
            if sensor.model is None:
                sensor.values.clear()  # learnt again from here
            else:
                sensor.offset += shift
        sensor.off = None
        machine = self.off_sensors.get(sensor.machine_id, {})
        machine.pop(sensor.sensor_id, None)
        if machine:
            return [self._machine_signal(sensor.machine_id, ts_us)]
        how = (
            "still off after its longest open time: taken as its new normal"
            if new_normal
            else "back to normal"
        )
        return [
            Signal(
                "sensor_anomaly",
                f"sensor_anomaly:{sensor.machine_id}",
                off["priority"],
                f"{sensor.machine_id}: {sensor.sensor_id} {how} at {_hhmm(ts_us)}.",
                _utc(ts_us),
                active=False,
                machine_id=sensor.machine_id,
                subject=sensor.sensor_id,
            )
        ]

    # ---- silence
    def silence(self) -> list[Signal]:
        """Machines silent for the rules' minutes on the plant's clock (the newest reading of any sensor)."""
        minutes = self.rules.silence_minutes()
        if minutes is None or not self.clock_us:
            return []
        signals = []
        for machine, seen in self.last_seen.items():
            steps = self.machines[machine].steps
            if len(steps) < 3:
                continue  # its pace not known yet
            silent_min = (self.clock_us - seen) / 6e7
            if silent_min < max(minutes, 3 * statistics.median(steps) / 6e7):
                continue
            priority = "critical" if silent_min >= self.live.critical_silence_minutes else "high"
            if self.silent.get(machine) == priority:
                continue
            self.silent[machine] = priority
            signals.append(
                Signal(
                    "ingestion_silence",
                    f"ingestion_silence:{machine}",
                    priority,
                    f"{machine}: no telemetry for {silent_min:.0f} min (last reading {_hhmm(seen)}): "
                    "the machine runs unwatched.",
                    _utc(self.clock_us),
                    machine_id=machine,
                    facts={"minutes": silent_min},
                    decided_at=_utc(self.clock_us),
                )
            )
        return signals


def _sigma(model: SensorModel, *states: int) -> float:
    """The noise sigma of the widest of ``states`` (of any state the reference knows, if none of them)."""
    known = [model.sigma[k] for k in states if math.isfinite(model.sigma[k]) and model.sigma[k] > 0]
    known = known or [v for v in model.sigma if math.isfinite(v) and v > 0]
    return max(known, default=1e-9)


def _seasonal(model: SensorModel, hour: float) -> float:
    """The hour-of-day offset at ``hour``, between the hours' own (each at its half hour): a daily swing
    is a curve, not 24 steps."""
    at = hour - 0.5
    below = math.floor(at)
    share = at - below
    return (1 - share) * model.seasonal[below % 24] + share * model.seasonal[(below + 1) % 24]


def _lagged(
    model: SensorModel, interval: tuple[float, float], states: tuple[int, ...]
) -> tuple[float, float]:
    """An expectation interval one reading on, the machine in one of ``states``: each end follows the
    sensor's lag toward the furthest level (a state the reference never saw for it is left out)."""
    low, high = interval
    levels = [model.levels[k] for k in states if math.isfinite(model.levels[k])]
    if not levels:
        return low, high
    a = model.alpha
    return min(low + a * (level - low) for level in levels), max(
        high + a * (level - high) for level in levels
    )
