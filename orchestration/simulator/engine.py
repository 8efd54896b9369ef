"""One factory day of the simulated plant: batches released into the route, machines as SimPy processes.

The plant runs one continuous simulation from its first day (``release.first_day``), on one clock (seconds
since that day's start: ``PlantClock``). A day's run starts from the line's state at the day's start (every
machine's activity and batch, the queues, the random generators: ``line_state``), kept from the day before's
run (``LineStates``), and stops at the next day's start, leaving that day its state. The first day starts
after a warm-up with the last releases of the day before it, so it opens with work in progress.

A day emits what starts inside it: a step still running at midnight is finished by the next day's run (the
same run, from the same state) and emitted with its day. Machine states are clipped to the day, and quality
measurements are emitted with the day they are measured in. So consecutive days agree exactly at every
boundary, weeks included, and a day's tables depend only on the scenario and the date.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import simpy

from orchestration.lake.tables import RAW_TABLES
from orchestration.simulator.config import FactoryConfig, minutes_after_midnight
from orchestration.simulator.corruption import corrupt
from orchestration.simulator.deviations import RouteDeviation, plan_route_deviations
from orchestration.simulator.line_state import LineState, LineStates, dumps, fingerprint, loads
from orchestration.simulator.machine import Machine, MachineState, StepRecord
from orchestration.simulator.mes import MesLog, machines_table, products_table
from orchestration.simulator.planted import Wear, bottleneck_of_day, planted_effects
from orchestration.simulator.quality import Measurement, QualityModel
from orchestration.simulator.route import Batch, Station, lay_out
from orchestration.simulator.sensors import Telemetry
from orchestration.simulator.shifts import PlantClock, ShiftCalendar
from orchestration.simulator.streams import stream

DAY = timedelta(days=1)


@dataclass
class FactoryDay:
    """One simulated factory day: the MES tables, the telemetry (streamed), and the day's ground truth."""

    tables: dict[str, pa.Table]  # the raw tables except sensor_readings
    telemetry: Telemetry  # sensor_readings, generated in record batches on iteration
    truth: dict[str, pa.Table]  # orchestration.lake.tables.TRUTH_TABLES

    def raw_tables(self) -> dict[str, pa.Table]:
        """All raw tables in memory, sensor readings included: for small plants and tests."""
        readings = pa.Table.from_batches(list(self.telemetry.batches()), schema=RAW_TABLES["sensor_readings"])
        return {**self.tables, "sensor_readings": readings}


@dataclass
class DayRun:
    """One day's run of the line, from its state at the day's start to the next day's start."""

    steps: list[tuple[StepRecord, list[Measurement]]]  # the steps finished in it, with their measurements
    logs: dict[str, list[tuple[float, float, str]]]  # machine -> (start_s, end_s, state), plant clock
    end: LineState  # the line's state at the next day's start


def simulate_factory_day(config: FactoryConfig, day: date) -> dict[str, pa.Table]:
    """The raw MES tables of factory day ``day``, in memory, conforming to ``orchestration.lake.tables``."""
    return run_factory_day(config, day).raw_tables()


def run_factory_day(config: FactoryConfig, day: date, states: LineStates | None = None) -> FactoryDay:
    """Simulate factory day ``day``; telemetry is generated only when iterated. ``states`` keeps the line's
    states of past days (in memory only, by default): a day needs the state its day before left."""
    clock = PlantClock(config)
    if day < clock.first_day:
        raise ValueError(
            f"{config.name} starts on {clock.first_day} (release.first_day of its scenario): "
            f"there is no factory day {day}"
        )
    states = states or LineStates()
    stations = lay_out(config)
    calendar = clock.day(day)
    mes = MesLog(calendar, stations, clock.offset_s(day), clock.origin)
    plant = fingerprint(config)
    run = run_day(config, clock, stations, line_state(config, clock, stations, day, states))
    logs = run.logs
    while True:
        kept = dumps(run.end)
        states.put(plant, run.end.day, kept)  # the next day starts from it
        for step, measurements in run.steps:
            mes.record_step(step, measurements)
        # A step still running at midnight is finished by the next day's run, from the state this one left.
        if not _still_running(run.end, clock.offset_s(day), clock.offset_s(day + DAY)):
            break
        run = run_day(config, clock, stations, loads(kept))

    wear = Wear(config, calendar) if config.effects.degradation is not None else None
    states_of = {machine_id: mes.state_intervals(log) for machine_id, log in logs.items()}
    telemetry = Telemetry(
        config, calendar, stations, states_of, mes.window_us, stream(config.seed, day, "sensors"), wear
    )
    tables = {
        "production_events": mes.production_events(),
        "machine_states": mes.machine_states(states_of),
        "quality_measurements": mes.quality_measurements(),
        "machines": machines_table(config, stations),
        "products": products_table(config),
        "sensors": telemetry.sensors_table(),
        "shifts": mes.shifts(),
    }
    return FactoryDay(
        tables=corrupt(config.corruption, config.seed, day, tables),
        telemetry=telemetry,
        truth={
            "planted_effects": planted_effects(
                config,
                calendar,
                wear,
                bottleneck_of_day(
                    mes.steps, states_of, {m: s.activity for s in stations for m in s.machine_ids}
                ),
                mes.day_us,
                route_deviations_of_day(config, calendar.day, calendar.length_s),
            ),
            "sensor_anomalies": telemetry.truth(),
        },
    )


def _still_running(state: LineState, since_s: float, until_s: float) -> bool:
    """Whether a machine of ``state`` is still producing a batch it started in [since_s, until_s)."""
    return any(
        m.job is not None and m.job.start_s is not None and since_s <= m.job.start_s < until_s
        for m in state.machines.values()
    )


def line_state(
    config: FactoryConfig, clock: PlantClock, stations: list[Station], day: date, states: LineStates
) -> LineState:
    """The line's state at the start of ``day``: the latest kept state before it, run on day by day (each
    state on the way kept), or the plant's first state."""
    plant = fingerprint(config)
    known = day
    while known > clock.first_day and states.get(plant, known) is None:
        known -= DAY
    text = states.get(plant, known)
    if text is None:
        text = dumps(first_state(config, clock, stations))
        states.put(plant, known, text)
    state = loads(text)
    while state.day < day:
        state = run_day(config, clock, stations, state).end
        text = dumps(state)
        states.put(plant, state.day, text)
        state = loads(text)
    return state


def first_state(config: FactoryConfig, clock: PlantClock, stations: list[Station]) -> LineState:
    """The line at the start of the plant's first day: after ``release.warm_up_h`` hours of the day before's
    last releases on an empty line (no planned maintenance then), so the day opens with work in progress."""
    first = clock.first_day
    since = clock.offset_s(first) - config.release.warm_up_h * 3600.0
    wear = _plant_wear(config, clock)
    machines = {}
    for station in stations:
        for machine_id in station.machine_ids:
            worn = wear is not None and machine_id == wear.spec.machine
            speedup = 1.0 + (wear.spec.micro_stop_factor - 1.0) * float(wear.level(since)) if worn else 1.0
            rng = stream(config.seed, first, f"machine:{machine_id}")
            machines[machine_id] = Machine.first_state(station, rng, speedup)
            if worn:
                machines[machine_id].maintenance = [
                    (at, d, "breakdown")
                    for at, d in wear.failures(since_s=since, until_s=clock.offset_s(first))
                ]
    empty = LineState(
        day=first - DAY,
        machines=machines,
        queues=[[] for _ in stations],
        quality_rng=stream(config.seed, first, "quality").bit_generator.state,
    )
    return run_day(config, clock, stations, empty, since_s=since).end


def run_day(
    config: FactoryConfig,
    clock: PlantClock,
    stations: list[Station],
    state: LineState,
    since_s: float | None = None,
) -> DayRun:
    """Run the line through ``state.day`` from ``state`` (from ``since_s`` on, for the warm-up), to the next
    day's start: the steps finished, each machine's log, and the state it stops in."""
    day = state.day
    start, end = clock.offset_s(day), clock.offset_s(day + DAY)
    since = start if since_s is None else since_s
    env = simpy.Environment(initial_time=since)
    queues = [simpy.Store(env) for _ in stations]
    for queue, batches in zip(queues, state.queues, strict=True):
        queue.items.extend(batches)

    def dispatch(batch: Batch, step: int) -> None:
        if step < len(stations):  # past the last step the batch is finished
            batch.queued_s = env.now
            queues[step].put(batch)

    quality_rng = np.random.default_rng()
    quality_rng.bit_generator.state = state.quality_rng
    # A step is inspected against the room climate when it started: today or, running over midnight, before.
    recent = [day - 2 * DAY, day - DAY, day]
    warm = {room: clock.bad_shift_spans(room, recent) for room in config.rooms}
    quality = QualityModel(config, quality_rng, warm)
    wear = _plant_wear(config, clock)
    due: dict[str, list[tuple[float, float, str]]] = {}
    if since_s is None:
        for machine_id, windows in maintenance_plan(config, clock.day(day), stations).items():
            due[machine_id] = [(at + start, d, kind) for at, d, kind in windows]
        if wear is not None:  # the worn machine's failures starting today (one under way is in its state)
            due.setdefault(wear.spec.machine, []).extend(
                (at, d, "breakdown") for at, d in wear.failures(since_s=start, until_s=end, clip=False)
            )
    steps: list[tuple[StepRecord, list[Measurement]]] = []
    machines = []
    for station in stations:
        for machine_id in station.machine_ids:
            machine_state: MachineState = state.machines[machine_id]
            machine_state.maintenance = machine_state.maintenance + due.get(machine_id, [])
            worn = wear is not None and machine_id == wear.spec.machine
            machines.append(
                Machine(
                    env,
                    machine_id,
                    station,
                    inbound=queues[station.index],
                    dispatch=dispatch,
                    clock=clock,
                    quality=quality,
                    state=machine_state,
                    on_step=lambda step, measurements: steps.append((step, measurements)),
                    wear=wear.level if worn else None,
                    micro_stop_factor=wear.spec.micro_stop_factor if wear is not None else 1.0,
                )
            )
    for machine in machines:
        env.process(machine.run())
    env.process(release_batches(env, release_plan(config, clock, day, since), queues[0]))
    env.run(until=end)
    return DayRun(
        steps=steps,
        logs={m.machine_id: m.log for m in machines},
        end=LineState(
            day=day + DAY,
            machines={m.machine_id: m.state() for m in machines},
            queues=[list(queue.items) for queue in queues],
            quality_rng=quality_rng.bit_generator.state,
        ),
    )


def _plant_wear(config: FactoryConfig, clock: PlantClock) -> Wear | None:
    """The degradation cycle on the plant's clock (the first day's calendar has its zero)."""
    return Wear(config, clock.day(clock.first_day)) if config.effects.degradation is not None else None


def release_batches(env: simpy.Environment, plan: list[tuple[float, Batch]], first: simpy.Store) -> Generator:
    """Put each batch of the plan into the first step's queue at its release time."""
    for at, batch in plan:
        yield env.timeout(at - env.now)
        batch.queued_s = env.now
        first.put(batch)


def release_plan(
    config: FactoryConfig, clock: PlantClock, day: date, since_s: float
) -> list[tuple[float, Batch]]:
    """(plant clock_s, batch) of ``day``'s releases from ``since_s`` on, in time order."""
    offset = clock.offset_s(day)
    length = clock.day(day).length_s
    return [(at + offset, b) for at, b in day_releases(config, day, length) if at + offset >= since_s]


def day_releases(config: FactoryConfig, day: date, length_s: float) -> list[tuple[float, Batch]]:
    """The day's batches, released evenly across the day (jittered), in product campaigns."""
    count = config.batches_per_day
    if count == 0:
        return []
    rng = stream(config.seed, day, "release")
    spacing = length_s / count
    offsets = 0.5 + config.release.jitter * (rng.random(count) - 0.5)
    times = (np.arange(count) + offsets) * spacing
    products = list(config.products)
    shares = np.array([p.share for p in config.products.values()])
    campaigns = -(-count // config.product_campaign_batches)
    campaign_products = rng.choice(len(products), size=campaigns, p=shares / shares.sum())
    stamp = day.strftime("%Y%m%d")
    releases = [
        (
            float(at),
            Batch(
                case_id=f"B{stamp}-{n + 1:04d}",
                product_id=products[campaign_products[n // config.product_campaign_batches]],
                good_qty=config.batch_size_cells,
            ),
        )
        for n, at in enumerate(times)
    ]
    deviations = plan_route_deviations(config, day, [batch.case_id for _, batch in releases])
    for _, batch in releases:
        if batch.case_id in deviations:
            batch.detour = dict(deviations[batch.case_id].detour)
    return releases


def route_deviations_of_day(
    config: FactoryConfig, day: date, length_s: float
) -> list[tuple[float, RouteDeviation]]:
    """(release clock_s, deviation) of the batches released on ``day`` that leave the designed route."""
    if config.effects.route_deviations is None:
        return []
    releases = day_releases(config, day, length_s)
    plan = plan_route_deviations(config, day, [batch.case_id for _, batch in releases])
    return [(at, plan[batch.case_id]) for at, batch in releases if batch.case_id in plan]


def maintenance_plan(
    config: FactoryConfig, calendar: ShiftCalendar, stations: list[Station]
) -> dict[str, list[tuple[float, float, str]]]:
    """Planned maintenance windows (start_s, duration_s, state) per machine, rotating through the step."""
    plan = config.planned_maintenance
    windows: dict[str, list[tuple[float, float]]] = {}
    for station in stations:
        start = calendar.clock_at_minutes(
            minutes_after_midnight(plan.first_start) + station.index * plan.stagger_min
        )
        if not 0 <= start < calendar.length_s:
            continue
        count = len(station.machine_ids)
        for k in range(min(plan.machines_per_step, count)):
            machine_id = station.machine_ids[(calendar.day.toordinal() + k) % count]
            windows.setdefault(machine_id, []).append(
                (start, plan.duration_min * 60.0, "planned_maintenance")
            )
    return windows
