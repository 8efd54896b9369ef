"""One factory day of the simulated plant: batches released into the route, machines as SimPy processes.

Every day is simulated on its own, with its own random streams, so a day's tables depend only on the scenario
and the date. The line does not start empty: the simulation starts ``release.warm_up_h`` hours before the
window with the previous day's release plan (same case ids and products as that day's own simulation), so the
day opens with work in progress. Only what starts inside the window is emitted: steps of warm-up batches that
start inside the day appear as cases whose earlier steps happened the day before; machine states are clipped
to the window. Machines start no new batch once the day is over, but a batch already running finishes (its
event may end after the day); what is still queued is taken up again by the next day's warm-up.
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
from orchestration.simulator.machine import Machine
from orchestration.simulator.mes import MesLog, machines_table, products_table
from orchestration.simulator.planted import Wear, bottleneck_of_day, planted_effects
from orchestration.simulator.quality import QualityModel
from orchestration.simulator.route import Batch, Station, lay_out
from orchestration.simulator.sensors import Telemetry
from orchestration.simulator.shifts import ShiftCalendar
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
    calendar = ShiftCalendar(config, day)
    stations = lay_out(config)
    mes = MesLog(calendar, stations)
    warm_up_s = config.release.warm_up_h * 3600.0
    env = simpy.Environment(initial_time=-warm_up_s)
    queues = [simpy.Store(env) for _ in stations]

    def dispatch(batch: Batch, step: int) -> None:
        if step < len(stations):  # past the last step the batch is finished
            batch.queued_s = env.now
            queues[step].put(batch)

    quality = QualityModel(config, stream(config.seed, day, "quality"), calendar)
    maintenance = maintenance_plan(config, calendar, stations)
    wear = Wear(config, calendar) if config.effects.degradation is not None else None
    if wear is not None:
        for at, duration in wear.failures():
            maintenance.setdefault(wear.spec.machine, []).append((at, duration, "breakdown"))
    machines = [
        Machine(
            env,
            machine_id,
            station,
            inbound=queues[station.index],
            dispatch=dispatch,
            calendar=calendar,
            quality=quality,
            rng=stream(config.seed, day, f"machine:{machine_id}"),
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
    env.process(release_batches(env, release_plan(config, day, calendar, warm_up_s), queues[0]))
    env.run()  # ends when the last running batch has finished: nothing is released after the day

    states = {m.machine_id: mes.state_intervals(m.log) for m in machines}
    telemetry = Telemetry(
        config, calendar, stations, states, mes.window_us, stream(config.seed, day, "sensors"), wear
    )
    return FactoryDay(
        tables={
            "production_events": mes.production_events(),
            "machine_states": mes.machine_states(states),
            "quality_measurements": mes.quality_measurements(),
            "machines": machines_table(config, stations),
            "products": products_table(config),
            "shifts": mes.shifts(),
        },
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
            ),
            "sensor_anomalies": telemetry.truth(),
        },
    )


def release_batches(env: simpy.Environment, plan: list[tuple[float, Batch]], first: simpy.Store) -> Generator:
    """Put each batch of the plan into the first step's queue at its release time."""
    for at, batch in plan:
        yield env.timeout(at - env.now)
        batch.queued_s = env.now
        first.put(batch)


def release_plan(
    config: FactoryConfig, day: date, calendar: ShiftCalendar, warm_up_s: float
) -> list[tuple[float, Batch]]:
    """(clock_s, batch) of the releases from ``warm_up_s`` before the window to its end, in time order.

    Warm-up releases are the last ones of the previous day's own plan (same draws), shifted onto this clock.
    """
    plan = []
    if warm_up_s > 0:
        previous = day - timedelta(days=1)
        length = ShiftCalendar(config, previous).length_s
        plan = [
            (at - length, batch)
            for at, batch in day_releases(config, previous, length)
            if at - length >= -warm_up_s
        ]
    return plan + day_releases(config, day, calendar.length_s)


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
    return [
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
