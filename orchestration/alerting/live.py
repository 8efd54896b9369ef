"""Live scoring of arriving readings, sensor by sensor, as they come: signals for the alarm manager.

What a live detector can know is less than the daily run knows (the machine's state comes with the MES
events, later), so it judges what a reading says on its own and against its machine's other sensors:

- **a jump that holds**: a reading ``threshold_sigmas`` noise sigmas off the level of its last 10 readings
  (median), reached in one step (a jump, not a warm-up), and still at least half as far off ``on_delay``
  readings in a row (ISA-18.2's on-delay). The sensor's noise sigma is the robust spread of its successive
  differences (``1.4826 * MAD(diff) / sqrt(2)``, the robust z-score the ingestion's ``/score`` uses, on
  differences so that a sensor's slow moves and its levels do not count as noise). A machine changing state
  (producing, idle, down) moves several of its sensors at once, or moves a sensor the way it has moved before:
  such a jump is the machine's, not a fault, and raises nothing. Critical at ``critical_sigmas``.
- **a stuck sensor**: ``stuck_readings`` identical readings in a row on a sensor whose noise is not zero
  (a clipped floor, e.g. a speed of 0 at rest, excepted).
- **silence**: a machine whose readings stop while the plant's clock (the newest reading of any sensor) moves
  on.

Each problem is one signal per machine (``sensor_anomaly:<machine>``): started, joined by another sensor (an
update), ended when every sensor of it is back (``off_delay`` readings in a row: the off-delay). A jump that
is still off after ``history_readings`` is taken as the sensor's new normal (the alert returns to normal and
says so). Times are the readings' own (the plant's clock), so a replayed day is judged as it was lived.
"""

from __future__ import annotations

import statistics
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from orchestration.alerting.manager import Signal
from orchestration.alerting.rules import AlertRules

LEVEL_READINGS = 10  # the level a reading is compared with: the median of the readings before it
PEER_SIGMAS = 3.0  # a sibling sensor moving this much in one step: the machine changed state
PEER_READINGS = 2  # ... within this many readings of the jump
# A jump this large is a machine changing state (0 A at rest, 30 A charging; a pump venting), not a sensor
# fault: the faults a sensor shows alone (an offset, a bad calibration) are a few to a dozen noise sigmas.
# A machine that stops is the downtime's signal (machine_down), not the sensors'.
STATE_JUMP_SIGMAS = 20.0
# Quantities with inertia (a temperature follows its process over minutes): a jump back to a level they sat
# at is no state change of the machine, since their levels are not steps but the ends of slow curves.
INERT_MEASURES = ("temperature",)
SIGMA_REFRESH = 30  # readings between two estimates of a sensor's noise


def _course(values: list[float]):
    """Where a sensor was heading before a reading: the least-squares line through its last readings, as a
    function of the readings ahead (1: the next). A slow warm-up is a course, not a jump."""
    n = len(values)
    x = np.arange(n, dtype=float)
    slope, intercept = np.polyfit(x, np.asarray(values, dtype=float), 1) if n >= 3 else (0.0, values[-1])
    return lambda ahead: float(intercept + slope * (n - 1 + ahead))


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
    values: deque = field(default_factory=deque)
    stamps: deque = field(default_factory=deque)
    sigma: float | None = None
    since_sigma: int = 0
    same: int = 0
    candidate: dict | None = None
    off: dict | None = None
    natural_jumps: deque = field(default_factory=lambda: deque(maxlen=50))
    levels: dict = field(default_factory=dict)  # bin of 2 sigmas -> steady readings seen there
    level_width: float | None = None
    steady_total: int = 0

    def remember_level(self, value: float) -> None:
        """Count a reading on a plateau (its last readings within a few noise sigmas of each other) in its
        bin: the levels the sensor sits at, not the values a slow move passes through."""
        if self.sigma is None or len(self.values) < LEVEL_READINGS:
            return
        recent = list(self.values)[-LEVEL_READINGS:]
        if max(max(recent), value) - min(min(recent), value) >= 6 * self.sigma:
            return
        if self.level_width is None:
            self.level_width = 2 * self.sigma
        key = round(value / self.level_width)
        self.levels[key] = self.levels.get(key, 0) + 1
        self.steady_total += 1

    def known_level(self, value: float) -> bool:
        """Whether the sensor has sat near ``value`` before, for a share of its steady time: a state's level
        (at rest, producing, down), not a place its slow moves only pass through."""
        if self.level_width is None:
            return False
        key = round(value / self.level_width)
        seen = sum(self.levels.get(k, 0) for k in (key - 1, key, key + 1))
        return seen >= max(10, 0.05 * self.steady_total)

    def __post_init__(self):
        self.values = deque(maxlen=self.history)
        self.stamps = deque(maxlen=self.history)

    def interval_us(self) -> int:
        if len(self.stamps) < 3:
            return 60_000_000
        stamps = list(self.stamps)[-20:]
        return int(statistics.median(b - a for a, b in zip(stamps, stamps[1:], strict=False)) or 60_000_000)

    def refresh_sigma(self) -> None:
        diffs = np.diff(np.asarray(self.values, dtype=float))
        diffs = diffs[diffs != 0]  # a clipped floor (0 at rest) repeats exactly: not the sensor's noise
        if len(diffs) < 10:
            self.sigma = None
            return
        mad = float(np.median(np.abs(diffs - np.median(diffs))))
        self.sigma = 1.4826 * mad / np.sqrt(2) if mad > 0 else None


class LiveEvaluator:
    """Feed it readings ``(sensor_id, machine_id, measure, unit, reading_ts_us, value)`` in (about) time
    order; it returns the signals they raise. ``silence()`` judges machines that stopped sending."""

    def __init__(self, rules: AlertRules):
        self.rules = rules
        self.live = rules.live
        self.sensors: dict[str, _Sensor] = {}
        self.moves: dict[str, dict[str, deque]] = {}  # machine -> sensor -> stamps of its large steps
        self.off_sensors: dict[str, dict[str, dict]] = {}  # machine -> sensor -> what is off
        self.last_seen: dict[str, int] = {}  # machine -> newest reading
        self.machine_interval: dict[str, int] = {}
        self.silent: dict[str, str] = {}  # machine -> the priority told
        self.clock_us = 0
        self.readings = 0

    # ---- readings
    def add(self, readings: list[tuple]) -> list[Signal]:
        signals: list[Signal] = []
        for sensor_id, machine_id, measure, unit, ts_us, value in sorted(readings, key=lambda r: r[4]):
            self.readings += 1
            self.clock_us = max(self.clock_us, ts_us)
            previous = self.last_seen.get(machine_id)
            self.last_seen[machine_id] = max(previous or ts_us, ts_us)
            if machine_id in self.silent:
                self.silent.pop(machine_id)
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
            sensor = self.sensors.get(sensor_id)
            if sensor is None:
                sensor = self.sensors[sensor_id] = _Sensor(
                    sensor_id, machine_id, measure, unit, self.live.history_readings
                )
            if sensor.stamps and ts_us <= sensor.stamps[-1]:
                continue  # a resend or a late reading: judged once, in order
            signals.extend(self._judge(sensor, ts_us, float(value)))
        return signals

    def _judge(self, sensor: _Sensor, ts_us: int, value: float) -> list[Signal]:
        signals: list[Signal] = []
        live = self.live
        ready = len(sensor.values) >= live.min_history_readings
        if ready and (sensor.sigma is None or sensor.since_sigma >= SIGMA_REFRESH):
            sensor.refresh_sigma()
            sensor.since_sigma = 0
        sensor.since_sigma += 1
        sigma = sensor.sigma
        last = sensor.values[-1] if sensor.values else None
        if last is not None and sigma and abs(value - last) >= PEER_SIGMAS * sigma:
            moves = self.moves.setdefault(sensor.machine_id, {}).setdefault(
                sensor.sensor_id, deque(maxlen=20)
            )
            moves.append(ts_us)
        sensor.same = sensor.same + 1 if last is not None and value == last else 0
        sensor.remember_level(value)
        if ready and sigma:
            if sensor.off is not None:
                signals.extend(self._while_off(sensor, ts_us, value, sigma))
            elif sensor.candidate is not None:
                signals.extend(self._confirm(sensor, ts_us, value, sigma))
            elif (
                abs(value - last) >= sigma * live.threshold_sigmas / 2
            ):  # a step: is it a jump off the course?
                course = _course(list(sensor.values)[-LEVEL_READINGS:])
                deviation, step = (value - course(1)) / sigma, (value - last) / sigma
                if abs(deviation) >= live.threshold_sigmas and np.sign(step) == np.sign(deviation):
                    sensor.candidate = {
                        "t0": ts_us,
                        "course": course,
                        "devs": [deviation],
                        "level": course(1),
                    }
            if (
                sensor.off is None
                and sensor.same + 1 >= live.stuck_readings
                and value != 0
                and sensor.values
                and min(sensor.values) < value < max(sensor.values)
            ):
                signals.extend(self._fire(sensor, ts_us, value, sigma, "stuck", 0.0, value, "high"))
        sensor.values.append(value)
        sensor.stamps.append(ts_us)
        return signals

    def _confirm(self, sensor: _Sensor, ts_us: int, value: float, sigma: float) -> list[Signal]:
        candidate = sensor.candidate
        deviation = (value - candidate["course"](len(candidate["devs"]) + 1)) / sigma
        first = candidate["devs"][0]
        if np.sign(deviation) != np.sign(first) or abs(deviation) < self.live.threshold_sigmas / 2:
            sensor.candidate = None  # a single wild reading, or a moment: nothing held
            return []
        candidate["devs"].append(deviation)
        if len(candidate["devs"]) < self.live.on_delay_readings:
            return []
        sensor.candidate = None
        size = statistics.median(candidate["devs"])
        steps = np.abs(np.diff(candidate["devs"]))
        settled = bool(np.all(steps < PEER_SIGMAS))  # a fault holds its new level; a machine's move goes on
        if not settled:
            return []
        jump = size * sigma
        if (
            abs(size) >= STATE_JUMP_SIGMAS
            or self._machine_moved(sensor, candidate["t0"])
            or (sensor.measure not in INERT_MEASURES and sensor.known_level(value))
            or any(j * jump > 0 and 0.7 <= jump / j <= 1.4 for j in sensor.natural_jumps)
        ):
            sensor.natural_jumps.append(jump)  # the machine's own move: the same move again is no fault
            return []
        priority = "critical" if abs(size) >= self.live.critical_sigmas else "high"
        return self._fire(sensor, candidate["t0"], value, sigma, "jump", size, candidate["level"], priority)

    def _machine_moved(self, sensor: _Sensor, t0: int) -> bool:
        window = PEER_READINGS * sensor.interval_us()
        for other, stamps in self.moves.get(sensor.machine_id, {}).items():
            if other != sensor.sensor_id and any(abs(s - t0) <= window for s in stamps):
                return True
        return False

    def _fire(self, sensor, t0, value, sigma, kind, size, level, priority) -> list[Signal]:
        sensor.off = {
            "t0": t0,
            "kind": kind,
            "level": level,
            "jump": size * sigma,
            "back": 0,
            "open": 0,
            "value": value,
            "priority": priority,
            "size": size,
        }
        unit = f" {sensor.unit}" if sensor.unit else ""
        quantity = sensor.measure.replace("_", " ")
        if kind == "stuck":
            what = f"stuck at {value:.4g}{unit} (the same reading {self.live.stuck_readings} times in a row)"
        else:
            direction = "above" if size > 0 else "below"
            what = (
                f"jumped to {value:.4g}{unit}, {abs(size):.1f} noise sigmas {direction} its level of "
                f"{level:.4g}{unit}"
            )
        sensor.off["sentence"] = (
            f"{sensor.machine_id}: {quantity} ({sensor.sensor_id}) {what}, since {_hhmm(t0)}"
        )
        machine = self.off_sensors.setdefault(sensor.machine_id, {})
        machine[sensor.sensor_id] = sensor.off
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
        )

    def _while_off(self, sensor: _Sensor, ts_us: int, value: float, sigma: float) -> list[Signal]:
        off = sensor.off
        off["open"] += 1
        if off["kind"] == "stuck":
            back = value != off["value"]
        else:
            back = abs(value - off["level"]) < abs(off["jump"]) / 2
        off["back"] = off["back"] + 1 if back else 0
        new_normal = off["open"] >= self.live.history_readings
        if off["back"] < (1 if off["kind"] == "stuck" else self.live.off_delay_readings) and not new_normal:
            return []
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
        intervals: dict[str, int] = {}
        for sensor in self.sensors.values():
            if len(sensor.stamps) > 3:
                interval = sensor.interval_us()
                intervals[sensor.machine_id] = min(intervals.get(sensor.machine_id, interval), interval)
        for machine, seen in self.last_seen.items():
            interval = intervals.get(machine)
            if interval is None:
                continue
            silent_min = (self.clock_us - seen) / 6e7
            if silent_min < max(minutes, 3 * interval / 6e7):
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
                    "the machine "
                    "runs unwatched.",
                    _utc(self.clock_us),
                    machine_id=machine,
                    facts={"minutes": silent_min},
                )
            )
        return signals
