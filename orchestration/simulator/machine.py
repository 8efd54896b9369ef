"""A production machine as a SimPy process: it pulls batches from its station's queue and runs them.

Its time is accounted in ISO 22400 states as it goes: setup before a batch (product changeover, start-up
check of the first batch in a shift), producing, micro-stops and breakdowns while a batch runs, planned
maintenance between batches. Gaps are idle time (starved: nothing in the queue); the MES log fills them in.
Breakdowns and micro-stops count down operating time, so a breakdown interrupts the running batch and the
batch resumes after the repair.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass

import numpy as np
import simpy

from orchestration.simulator.quality import QualityModel
from orchestration.simulator.route import Batch, Station
from orchestration.simulator.shifts import RunCalendar

_EPS = 1e-9


@dataclass(frozen=True)
class StepRecord:
    """One production event: a batch's pass through one step on one machine."""

    case_id: str
    product_id: str
    activity: str
    machine_id: str
    crew_id: str
    start_s: float
    end_s: float
    produced_qty: int
    scrap_qty: int
    is_rework: bool
    waited_s: float  # in the step's queue before a machine took the batch (setup excluded)


class Machine:
    def __init__(
        self,
        env: simpy.Environment,
        machine_id: str,
        station: Station,
        inbound: simpy.Store,
        dispatch: Callable[[Batch, int], None],
        calendar: RunCalendar,
        quality: QualityModel,
        rng: np.random.Generator,
        maintenance: list[tuple[float, float, str]],
        on_step: Callable[[StepRecord, list], None],
        wear: Callable[[float], float] | None = None,
        micro_stop_factor: float = 1.0,
    ):
        self.env = env
        self.machine_id = machine_id
        self.station = station
        self.inbound = inbound
        self._dispatch = dispatch
        self._calendar = calendar
        self._quality = quality
        self._rng = rng
        # (start_s, duration_s, state): planned maintenance, and the failure of a worn machine, taken between
        # batches; all inside the factory day.
        self._maintenance = sorted(maintenance)
        self._wear = wear
        self._micro_stop_factor = micro_stop_factor
        self._on_step = on_step
        self.log: list[tuple[float, float, str]] = []  # (start_s, end_s, state), in time order
        behaviour = station.behaviour
        self._mtbf_s = behaviour.mtbf_h * 3600.0
        # Lognormal repair time with mean mttr_min and the configured coefficient of variation.
        self._repair_sigma = float(np.sqrt(np.log1p(behaviour.mttr_cv**2)))
        self._repair_mu = float(np.log(behaviour.mttr_min * 60.0) - self._repair_sigma**2 / 2)
        self._micro_interval_s = behaviour.micro_stops.mean_interval_min * 60.0
        self._micro_duration_s = behaviour.micro_stops.mean_duration_s
        self._to_failure_s = rng.exponential(self._mtbf_s)  # operating time left until the next breakdown
        self._to_micro_stop_s = self._next_micro_stop()
        self._last_product: str | None = None
        self._last_shift: int | None = None

    def _next_micro_stop(self) -> float:
        """Producing seconds to the next micro-stop; a worn machine stops up to micro_stop_factor as often."""
        interval = self._micro_interval_s
        if self._wear is not None:
            interval /= 1.0 + (self._micro_stop_factor - 1.0) * float(self._wear(self.env.now))
        return self._rng.exponential(interval)

    def _spend(self, seconds: float, state: str):
        if seconds > _EPS:
            self.log.append((self.env.now, self.env.now + seconds, state))
        return self.env.timeout(seconds)

    def run(self) -> Generator:
        env, day_end = self.env, self._calendar.end_s  # the run's end: no new batch after it
        while env.now < day_end:
            if self._maintenance and env.now >= self._maintenance[0][0]:
                _, duration, state = self._maintenance.pop(0)
                yield self._spend(duration, state)
                continue
            request = self.inbound.get()
            if self._maintenance:  # wait for material, but not past the next maintenance window
                yield request | env.timeout(self._maintenance[0][0] - env.now)
            else:
                yield request
            if not request.triggered:
                request.cancel()
                continue
            batch = request.value
            waited = env.now - batch.queued_s
            if env.now < day_end:
                yield from self._set_up(batch)
            if env.now >= day_end:  # the day is over: the batch ends here, no event is emitted
                return
            yield from self._run_batch(batch, waited)

    def _set_up(self, batch: Batch) -> Generator:
        behaviour = self.station.behaviour
        shift = self._calendar.shift_index_at(self.env.now)
        minutes = 0.0
        if self._last_product is not None and batch.product_id != self._last_product:
            minutes += behaviour.changeover_min
        if shift != self._last_shift:
            minutes += behaviour.shift_start_setup_min
        self._last_product, self._last_shift = batch.product_id, shift
        if minutes > 0:
            yield self._spend(minutes * 60.0 * self._rng.uniform(0.8, 1.4), "setup")

    def _run_batch(self, batch: Batch, waited_s: float) -> Generator:
        station, rng = self.station, self._rng
        start = self.env.now
        produced = batch.good_qty
        slowdown = 1.0 + rng.gamma(station.behaviour.slowdown.shape, 1.0) * (
            station.behaviour.slowdown.mean_excess / station.behaviour.slowdown.shape
        )
        work = station.step.planned_runtime_per_unit_s * produced * slowdown
        while work > _EPS:
            run = min(work, self._to_failure_s, self._to_micro_stop_s)
            yield self._spend(run, "producing")
            work -= run
            self._to_failure_s -= run
            self._to_micro_stop_s -= run
            if self._to_failure_s <= _EPS:
                yield self._spend(rng.lognormal(self._repair_mu, self._repair_sigma), "breakdown")
                self._to_failure_s = rng.exponential(self._mtbf_s)
            elif self._to_micro_stop_s <= _EPS and work > _EPS:
                yield self._spend(rng.exponential(self._micro_duration_s), "micro_stop")
                self._to_micro_stop_s = self._next_micro_stop()
        if self._to_micro_stop_s <= _EPS:  # due exactly as the batch finished: it passes unnoticed
            self._to_micro_stop_s = self._next_micro_stop()
        end = self.env.now

        inspection = self._quality.inspect(batch, station, produced, start, end)
        record = StepRecord(
            case_id=batch.case_id,
            product_id=batch.product_id,
            activity=station.activity,
            machine_id=self.machine_id,
            crew_id=self._calendar.crew_at(start),
            start_s=start,
            end_s=end,
            produced_qty=produced,
            scrap_qty=inspection.scrap_qty,
            is_rework=station.activity in batch.done,
            waited_s=waited_s,
        )
        self._on_step(record, inspection.measurements)
        batch.done.add(station.activity)
        batch.good_qty = produced - inspection.scrap_qty
        if inspection.rework:
            batch.reworks += 1
            self._dispatch(batch, station.rework_to)
        else:
            self._dispatch(batch, batch.next_station(station.index))
