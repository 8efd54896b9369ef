"""The MES log of a simulated factory day, turned into the raw tables of the lake contract.

Times are kept on the plant's clock (seconds from the start of its first day: ``shifts.PlantClock``) and
converted to UTC microseconds once, by one rounding function, so that a state boundary and an event boundary
at the same instant stay equal, on one day or on two, and each machine's states add up to the window
exactly.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa

from orchestration.lake.tables import RAW_TABLES
from orchestration.simulator.config import FactoryConfig
from orchestration.simulator.machine import StepRecord
from orchestration.simulator.quality import Measurement
from orchestration.simulator.route import Station
from orchestration.simulator.shifts import ShiftCalendar


class MesLog:
    """The MES log of factory day ``calendar.day``, from steps on the plant's clock (seconds since
    ``plant_origin``; the day starts at ``origin_s`` on it)."""

    def __init__(
        self, calendar: ShiftCalendar, stations: list[Station], origin_s: float, plant_origin: datetime
    ):
        self.calendar = calendar
        self._line_of = {m: s.step.line_id for s in stations for m in s.machine_ids}
        self._plant_us = _epoch_us(plant_origin)
        self._start_us = _epoch_us(calendar.window_start)
        self._end_us = _epoch_us(calendar.window_end)
        self._origin_s, self._end_s = origin_s, origin_s + calendar.length_s
        self.steps: list[StepRecord] = []
        # (case, activity, machine, measurement)
        self.measurements: list[tuple[str, str, str, Measurement]] = []

    def record_step(self, step: StepRecord, measurements: list[Measurement]) -> None:
        """Keep a step that started in the day, and the measurements taken in it (of steps started in the
        day, or running into it from the day before)."""
        if self._origin_s <= step.start_s < self._end_s:
            self.steps.append(step)
        self.measurements.extend(
            (step.case_id, step.activity, step.machine_id, m)
            for m in measurements
            if self._origin_s <= m.measured_s < self._end_s
        )

    def us(self, clock_s) -> np.ndarray:
        """UTC epoch microseconds of plant-clock seconds."""
        return self._plant_us + np.rint(np.asarray(clock_s, dtype=np.float64) * 1e6).astype(np.int64)

    def day_us(self, clock_s) -> np.ndarray:
        """UTC epoch microseconds of seconds from the day's start (the shift calendar's clock)."""
        return self._start_us + np.rint(np.asarray(clock_s, dtype=np.float64) * 1e6).astype(np.int64)

    def production_events(self) -> pa.Table:
        steps = sorted(self.steps, key=lambda s: (s.start_s, s.machine_id))
        prefix = self.calendar.day.isoformat()
        produced = np.array([s.produced_qty for s in steps], dtype=np.int64)
        scrap = np.array([s.scrap_qty for s in steps], dtype=np.int64)
        return _table(
            "production_events",
            event_id=[f"{prefix}-E{n:06d}" for n in range(1, len(steps) + 1)],
            case_id=[s.case_id for s in steps],
            product_id=[s.product_id for s in steps],
            activity=[s.activity for s in steps],
            line_id=[self._line_of[s.machine_id] for s in steps],
            machine_id=[s.machine_id for s in steps],
            crew_id=[s.crew_id for s in steps],
            start_ts=self.us([s.start_s for s in steps]),
            end_ts=self.us([s.end_s for s in steps]),
            produced_qty=produced,
            good_qty=produced - scrap,
            scrap_qty=scrap,
            is_rework=[s.is_rework for s in steps],
        )

    def quality_measurements(self) -> pa.Table:
        rows = list(self.measurements)
        rows.sort(key=lambda r: (r[3].measured_s, r[0], r[1], r[3].characteristic))
        prefix = self.calendar.day.isoformat()
        return _table(
            "quality_measurements",
            measurement_id=[f"{prefix}-Q{n:06d}" for n in range(1, len(rows) + 1)],
            case_id=[r[0] for r in rows],
            activity=[r[1] for r in rows],
            machine_id=[r[2] for r in rows],
            characteristic=[r[3].characteristic for r in rows],
            unit=[r[3].unit for r in rows],
            value=np.array([r[3].value for r in rows], dtype=np.float64),
            lsl=np.array([r[3].lsl for r in rows], dtype=np.float64),
            usl=np.array([r[3].usl for r in rows], dtype=np.float64),
            measured_ts=self.us([r[3].measured_s for r in rows]),
        )

    def state_intervals(self, log: list[tuple[float, float, str]]) -> list[tuple[int, int, str]]:
        """A machine's log as contiguous intervals covering the window: gaps are idle, clipped, merged."""
        intervals: list[tuple[int, int, str]] = []
        cursor = self._start_us

        def add(start: int, end: int, state: str) -> None:
            if end <= start:
                return
            if intervals and intervals[-1][2] == state:
                intervals[-1] = (intervals[-1][0], end, state)
            else:
                intervals.append((start, end, state))

        for start_s, end_s, state in log:
            start, end = (int(v) for v in self.us([start_s, end_s]))
            if start >= self._end_us:
                break
            add(cursor, start, "idle")
            add(max(start, cursor), min(end, self._end_us), state)
            cursor = max(cursor, min(end, self._end_us))
        add(cursor, self._end_us, "idle")
        return intervals

    @property
    def window_us(self) -> tuple[int, int]:
        return self._start_us, self._end_us

    def machine_states(self, states: dict[str, list[tuple[int, int, str]]]) -> pa.Table:
        rows = [(machine_id, *iv) for machine_id, intervals in states.items() for iv in intervals]
        return _table(
            "machine_states",
            machine_id=[r[0] for r in rows],
            state=[r[3] for r in rows],
            start_ts=np.array([r[1] for r in rows], dtype=np.int64),
            end_ts=np.array([r[2] for r in rows], dtype=np.int64),
        )

    def shifts(self) -> pa.Table:
        slots = self.calendar.shifts
        prefix = self.calendar.day.isoformat()
        return _table(
            "shifts",
            shift_id=[f"{prefix}-{s.name}" for s in slots],
            shift_name=[s.name for s in slots],
            crew_id=[s.crew_id for s in slots],
            staffed_headcount=np.array([s.staffed_headcount for s in slots], dtype=np.int64),
            start_ts=self.day_us([s.start_s for s in slots]),
            end_ts=self.day_us([s.end_s for s in slots]),
        )


def machines_table(config: FactoryConfig, stations: list[Station]) -> pa.Table:
    rows = [(m, s) for s in stations for m in s.machine_ids]
    return _table(
        "machines",
        machine_id=[m for m, _ in rows],
        line_id=[s.step.line_id for _, s in rows],
        activity=[s.activity for _, s in rows],
        room_id=[s.step.room_id for _, s in rows],
        planned_runtime_per_unit_s=np.array(
            [s.step.planned_runtime_per_unit_s for _, s in rows], dtype=np.float64
        ),
        conversion_cost_per_hour=np.array([config.conversion_cost(s.activity) for _, s in rows]),
        material_cost_share=np.array([s.step.material_cost_share for _, s in rows], dtype=np.float64),
    )


def products_table(config: FactoryConfig) -> pa.Table:
    products = config.products
    return _table(
        "products",
        product_id=list(products),
        nominal_capacity_ah=[p.nominal_capacity_ah for p in products.values()],
        material_cost_per_cell=[p.material_cost_per_cell for p in products.values()],
        selling_price_per_cell=[p.selling_price_per_cell for p in products.values()],
        currency=[config.economics.currency] * len(products),
    )


def _epoch_us(instant: datetime) -> int:
    return (instant - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


def _table(name: str, **columns) -> pa.Table:
    schema = RAW_TABLES[name]
    arrays = [pa.array(columns[field.name], type=field.type) for field in schema]
    return pa.Table.from_arrays(arrays, schema=schema)
