"""One factory day of the simulated plant: batches released into the route, machines as SimPy processes.

A day's tables depend only on the scenario and the date: the day is the end of a continuous run that starts
on the Monday of its week (see ``run_start``), whose random streams are keyed by that Monday. The line does
not start empty: the run starts ``release.warm_up_h`` hours before the Monday with the Sunday's last releases
(same case ids and products as in that day's own plan), so Monday opens with work in progress. Only what
starts inside the day is emitted; machine states are clipped to the day. The run goes on through the next day
(emitting nothing of it), so that a step running past midnight draws its quality in the same order of events
as in the next day's run, which is the same run continued: two days of a week agree on every batch between
them. Machines start no new batch once the next day is over; a batch already running finishes.
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
from orchestration.simulator.machine import Machine
from orchestration.simulator.mes import MesLog, machines_table, products_table
from orchestration.simulator.planted import Wear, bottleneck_of_day, planted_effects
from orchestration.simulator.quality import QualityModel
from orchestration.simulator.route import Batch, Station, lay_out
from orchestration.simulator.sensors import Telemetry
from orchestration.simulator.shifts import RunCalendar, ShiftCalendar
from orchestration.simulator.streams import stream


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


def simulate_factory_day(config: FactoryConfig, day: date) -> dict[str, pa.Table]:
    """The raw MES tables of factory day ``day``, in memory, conforming to ``orchestration.lake.tables``."""
    return run_factory_day(config, day).raw_tables()


def run_factory_day(config: FactoryConfig, day: date) -> FactoryDay:
    """Simulate factory day ``day``; telemetry is generated only when iterated."""
    first_day = run_start(day)
    # The run goes on through the next day: a step that starts today and ends after midnight is then
    # inspected in the same order of events as in tomorrow's run, so the two days agree on it.
    run = RunCalendar(config, first_day, day, last_day=day + timedelta(days=1))
    calendar = run.target
    stations = lay_out(config)
    mes = MesLog(calendar, stations)
    start_s = run.offsets_s[0] - config.release.warm_up_h * 3600.0
    env = simpy.Environment(initial_time=start_s)
    queues = [simpy.Store(env) for _ in stations]

    def dispatch(batch: Batch, step: int) -> None:
        if step < len(stations):  # past the last step the batch is finished
            batch.queued_s = env.now
            queues[step].put(batch)

    # Streams are keyed by the run's first day: every day of the week replays the same run up to its own end.
    quality = QualityModel(config, stream(config.seed, first_day, "quality"), run)
    maintenance: dict[str, list[tuple[float, float, str]]] = {}
    for day_calendar, offset in zip(run.days, run.offsets_s, strict=True):
        for machine_id, windows in maintenance_plan(config, day_calendar, stations).items():
            maintenance.setdefault(machine_id, []).extend((at + offset, d, s) for at, d, s in windows)
    wear = Wear(config, calendar) if config.effects.degradation is not None else None
    if wear is not None:
        for at, duration in wear.failures(since_s=start_s, until_s=run.end_s):
            maintenance.setdefault(wear.spec.machine, []).append((at, duration, "breakdown"))
    machines = [
        Machine(
            env,
            machine_id,
            station,
            inbound=queues[station.index],
            dispatch=dispatch,
            calendar=run,
            quality=quality,
            rng=stream(config.seed, first_day, f"machine:{machine_id}"),
            maintenance=maintenance.get(machine_id, []),
            on_step=mes.record_step,
            wear=wear.level if wear is not None and machine_id == wear.spec.machine else None,
            micro_stop_factor=wear.spec.micro_stop_factor if wear is not None else 1.0,
        )
        for station in stations
        for machine_id in station.machine_ids
    ]
    for machine in machines:
        env.process(machine.run())
    env.process(release_batches(env, release_plan(config, run, start_s), queues[0]))
    env.run()  # ends when the last running batch has finished: nothing is released after the day

    states = {m.machine_id: mes.state_intervals(m.log) for m in machines}
    telemetry = Telemetry(
        config, calendar, stations, states, mes.window_us, stream(config.seed, day, "sensors"), wear
    )
    tables = {
        "production_events": mes.production_events(),
        "machine_states": mes.machine_states(states),
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
                    mes.steps, states, {m: s.activity for s in stations for m in s.machine_ids}
                ),
                mes.us,
                route_deviations_of_day(config, calendar.day, calendar.length_s),
            ),
            "sensor_anomalies": telemetry.truth(),
        },
    )


def run_start(day: date) -> date:
    """The first day of the run that ``day`` ends: the Monday of its week.

    A plant never starts empty, and a batch crossing midnight must show each step once, in one day. So a day
    is not simulated alone: one continuous run starts at the week's Monday (after a warm-up with the Sunday's
    last releases) and every day of the week replays it, with the same random streams, up to its own end,
    emitting only its own day. Consecutive days of a week therefore agree exactly at their boundary; only the
    Sunday to Monday boundary joins two runs.
    """
    return day - timedelta(days=day.weekday())


def release_batches(env: simpy.Environment, plan: list[tuple[float, Batch]], first: simpy.Store) -> Generator:
    """Put each batch of the plan into the first step's queue at its release time."""
    for at, batch in plan:
        yield env.timeout(at - env.now)
        batch.queued_s = env.now
        first.put(batch)


def release_plan(config: FactoryConfig, run: RunCalendar, start_s: float) -> list[tuple[float, Batch]]:
    """(clock_s, batch) of the run's releases from ``start_s`` to the end of its last day, in time order.

    Warm-up releases are the last ones of the day before the run's first day (its own plan, same draws).
    """
    first = run.days[0].day
    previous = first - timedelta(days=1)
    length = ShiftCalendar(config, previous).length_s
    offset = run.offsets_s[0] - length
    plan = [(at + offset, b) for at, b in day_releases(config, previous, length) if at + offset >= start_s]
    for day_calendar, offset in zip(run.days, run.offsets_s, strict=True):
        plan.extend(
            (at + offset, b) for at, b in day_releases(config, day_calendar.day, day_calendar.length_s)
        )
    return plan


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
