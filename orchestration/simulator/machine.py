"""A production machine as a SimPy process: it pulls batches from its station's queue and runs them.

Its time is accounted in ISO 22400 states as it goes: setup before a batch (product changeover, start-up
check of the first batch in a shift), producing, micro-stops and breakdowns while a batch runs, planned
maintenance between batches. Gaps are idle time (starved: nothing in the queue); the MES log fills them in.
Breakdowns and micro-stops count down operating time, so a breakdown interrupts the running batch and the
batch resumes after the repair.

Everything the machine will do next follows from its explicit state (``MachineState``): the timed activity
under way, the batch it holds and the work left on it, its failure and micro-stop countdowns, its random
generator. Each activity's draws are made when it starts, so the state between two events is complete: a
day's run stops at midnight, the state is kept, and the next day's run resumes the machine from it.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass

import numpy as np
import simpy

from orchestration.simulator.quality import QualityModel
from orchestration.simulator.route import Batch, Station
from orchestration.simulator.shifts import PlantClock

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


@dataclass
class Job:
    """The batch a machine holds: taken from the queue, set up for, produced."""

    batch: Batch
    waited_s: float
    start_s: float | None = None  # when production started; None while the machine sets up
    work_s: float = 0.0  # producing seconds left after the activity under way


@dataclass
class MachineState:
    """What a machine is doing at an instant, and everything its future draws depend on."""

    rng: dict  # the machine's generator (numpy bit_generator.state)
    to_failure_s: float  # operating time left until the next breakdown
    to_micro_stop_s: float  # producing time left until the next micro-stop
    last_product: str | None
    last_shift: int | None  # PlantClock shift number of the last set-up
    maintenance: list[tuple[float, float, str]]  # windows not yet taken: (start_s, duration_s, state)
    activity: tuple[str, float, float] | None  # (state, start_s, until_s) under way; None: waiting for work
    job: Job | None


class Machine:
    def __init__(
        self,
        env: simpy.Environment,
        machine_id: str,
        station: Station,
        inbound: simpy.Store,
        dispatch: Callable[[Batch, int], None],
        clock: PlantClock,
        quality: QualityModel,
        state: MachineState,
        on_step: Callable[[StepRecord, list], None],
        wear: Callable[[float], float] | None = None,
        micro_stop_factor: float = 1.0,
    ):
        self.env = env
        self.machine_id = machine_id
        self.station = station
        self.inbound = inbound
        self._dispatch = dispatch
        self._clock = clock
        self._quality = quality
        self._wear = wear
        self._micro_stop_factor = micro_stop_factor
        self._on_step = on_step
        behaviour = station.behaviour
        self._mtbf_s = behaviour.mtbf_h * 3600.0
        # Lognormal repair time with mean mttr_min and the configured coefficient of variation.
        self._repair_sigma = float(np.sqrt(np.log1p(behaviour.mttr_cv**2)))
        self._repair_mu = float(np.log(behaviour.mttr_min * 60.0) - self._repair_sigma**2 / 2)
        self._micro_interval_s = behaviour.micro_stops.mean_interval_min * 60.0
        self._micro_duration_s = behaviour.micro_stops.mean_duration_s
        self._rng = np.random.default_rng()
        self._rng.bit_generator.state = state.rng
        self._to_failure_s = state.to_failure_s
        self._to_micro_stop_s = state.to_micro_stop_s
        self._last_product = state.last_product
        self._last_shift = state.last_shift
        # Planned maintenance and the failure of a worn machine, taken between batches.
        self._maintenance = sorted(state.maintenance)
        self._activity = state.activity
        self._job = state.job
        self.log: list[tuple[float, float, str]] = []  # (start_s, end_s, state), in time order
        if self._activity is not None:  # resumed during an activity: its log goes on from its start
            self.log.append((self._activity[1], self._activity[2], self._activity[0]))

    @classmethod
    def first_state(
        cls, station: Station, rng: np.random.Generator, micro_stop_speedup: float
    ) -> MachineState:
        """A machine's state when the plant starts: idle, its countdowns drawn from ``rng`` (a worn machine
        stops ``micro_stop_speedup`` times as often)."""
        behaviour = station.behaviour
        to_failure = rng.exponential(behaviour.mtbf_h * 3600.0)
        to_micro_stop = rng.exponential(behaviour.micro_stops.mean_interval_min * 60.0 / micro_stop_speedup)
        return MachineState(
            rng=rng.bit_generator.state,
            to_failure_s=float(to_failure),
            to_micro_stop_s=float(to_micro_stop),
            last_product=None,
            last_shift=None,
            maintenance=[],
            activity=None,
            job=None,
        )

    def state(self) -> MachineState:
        """The machine's state now: the run stopped between two events."""
        return MachineState(
            rng=self._rng.bit_generator.state,
            to_failure_s=self._to_failure_s,
            to_micro_stop_s=self._to_micro_stop_s,
            last_product=self._last_product,
            last_shift=self._last_shift,
            maintenance=list(self._maintenance),
            activity=self._activity,
            job=self._job,
        )

    def _next_micro_stop(self, at_s: float) -> float:
        """Producing seconds to the next micro-stop; a worn machine stops up to micro_stop_factor as often."""
        interval = self._micro_interval_s
        if self._wear is not None:
            interval /= 1.0 + (self._micro_stop_factor - 1.0) * float(self._wear(at_s))
        return self._rng.exponential(interval)

    def _spend(self, seconds: float, state: str):
        now = self.env.now
        self._activity = (state, now, now + seconds)
        if seconds > _EPS:
            self.log.append((now, now + seconds, state))
        return self.env.timeout(seconds)

    def run(self) -> Generator:
        if self._activity is not None:  # resumed: finish the activity under way, then what follows it
            state, _, until = self._activity
            yield self.env.timeout(until - self.env.now)
            self._activity = None
            if state == "setup":
                self._start_production()
            elif state == "producing":
                yield from self._stop_if_due()
            if self._job is not None:
                yield from self._produce()
        while True:
            yield from self._next()

    def _next(self) -> Generator:
        """Take the next maintenance window that is due, or the next batch."""
        env = self.env
        if self._maintenance and env.now >= self._maintenance[0][0]:
            _, duration, state = self._maintenance.pop(0)
            yield self._spend(duration, state)
            self._activity = None
            return
        request = self.inbound.get()
        if self._maintenance:  # wait for material, but not past the next maintenance window
            yield request | env.timeout(self._maintenance[0][0] - env.now)
        else:
            yield request
        if not request.triggered:
            request.cancel()
            return
        batch = request.value
        self._job = Job(batch, waited_s=env.now - batch.queued_s)
        if (minutes := self._set_up_minutes(batch)) > 0:
            yield self._spend(minutes * 60.0 * self._rng.uniform(0.8, 1.4), "setup")
            self._activity = None
        self._start_production()
        yield from self._produce()

    def _set_up_minutes(self, batch: Batch) -> float:
        behaviour = self.station.behaviour
        shift = self._clock.shift_number_at(self.env.now)
        minutes = 0.0
        if self._last_product is not None and batch.product_id != self._last_product:
            minutes += behaviour.changeover_min
        if shift != self._last_shift:
            minutes += behaviour.shift_start_setup_min
        self._last_product, self._last_shift = batch.product_id, shift
        return minutes

    def _start_production(self) -> None:
        job, slowdown = self._job, self.station.behaviour.slowdown
        job.start_s = self.env.now
        factor = 1.0 + self._rng.gamma(slowdown.shape, 1.0) * (slowdown.mean_excess / slowdown.shape)
        job.work_s = self.station.step.planned_runtime_per_unit_s * job.batch.good_qty * factor

    def _produce(self) -> Generator:
        """Run the job to its end: producing, interrupted by breakdowns and micro-stops."""
        job = self._job
        while job.work_s > _EPS:
            run = min(job.work_s, self._to_failure_s, self._to_micro_stop_s)
            job.work_s -= run
            self._to_failure_s -= run
            self._to_micro_stop_s -= run
            yield self._spend(run, "producing")
            self._activity = None
            yield from self._stop_if_due()
        if self._to_micro_stop_s <= _EPS:  # due exactly as the batch finished: it passes unnoticed
            self._to_micro_stop_s = self._next_micro_stop(self.env.now)
        self._job = None
        self._finish(job)

    def _stop_if_due(self) -> Generator:
        """After a stretch of producing: the breakdown or micro-stop it ran into, if any."""
        rng = self._rng
        if self._to_failure_s <= _EPS:
            repair = rng.lognormal(self._repair_mu, self._repair_sigma)
            self._to_failure_s = rng.exponential(self._mtbf_s)
            yield self._spend(repair, "breakdown")
            self._activity = None
        elif self._to_micro_stop_s <= _EPS and self._job.work_s > _EPS:
            stop = rng.exponential(self._micro_duration_s)
            self._to_micro_stop_s = self._next_micro_stop(self.env.now + stop)
            yield self._spend(stop, "micro_stop")
            self._activity = None

    def _finish(self, job: Job) -> None:
        """The step is done: inspect, record, and pass the batch on (or back to rework)."""
        batch, station = job.batch, self.station
        start, end, produced = job.start_s, self.env.now, batch.good_qty
        inspection = self._quality.inspect(batch, station, produced, start, end)
        record = StepRecord(
            case_id=batch.case_id,
            product_id=batch.product_id,
            activity=station.activity,
            machine_id=self.machine_id,
            crew_id=self._clock.crew_at(start),
            start_s=start,
            end_s=end,
            produced_qty=produced,
            scrap_qty=inspection.scrap_qty,
            is_rework=station.activity in batch.done,
            waited_s=job.waited_s,
        )
        self._on_step(record, inspection.measurements)
        batch.done.add(station.activity)
        batch.good_qty = produced - inspection.scrap_qty
        if inspection.rework:
            batch.reworks += 1
            self._dispatch(batch, station.rework_to)
        else:
            self._dispatch(batch, batch.next_station(station.index))
