"""A simulated factory day resolved into objects and events: the OCEL 2.0 relational core as Arrow tables.

The batch stays the unit of machine work: every production event of the day becomes one OCEL event on the
electrode objects (Mixing to Slitting), or one event per cell from the cell-making step (Stacking) on, the
cells of a batch staggered evenly over the step's start..end in stacking order. Counts reconcile with the
batch events: a batch's Stacking event creates ``produced_qty`` cells (cells 0..produced_qty-1), every later
step processes the first ``produced_qty`` survivors, and each step's ``scrap_qty`` cells end there, marked
by the qualifier "scrapped" and the status attribute. At Grading the worst graded cells take the scrap; at
other steps the scrapped cells are drawn at random. Electrode scrap before Stacking is material (cell
equivalents) and only shortens the coil: the cells of a batch are those its Stacking event produced.

One day is expanded on its own: cells are those stacked that day, so a batch stacked the day before shows
its electrode events only. Good cells are packed in trays after Grading, per product in grading order; a
tray not full at the end of the day stays open and its cells keep the status "graded".
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pyarrow as pa

from orchestration.genealogy import model as m
from orchestration.genealogy.physics import batch_day, coating, grade_cells, grading_badness, slurry_viscosity
from orchestration.simulator.config import FactoryConfig
from orchestration.simulator.engine import FactoryDay
from orchestration.simulator.streams import stream

UTC_TS = pa.timestamp("us", tz="UTC")
TRAY_CLOSING_US = 30_000_000  # a tray is closed and labelled half a minute after its last cell is graded
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
EPOCH_US = 0  # OCEL 2.0: attribute values that hold from the start carry the time 1970-01-01

OCEL_SCHEMAS: dict[str, pa.Schema] = {
    "event": pa.schema(
        [
            ("ocel_id", pa.string()),
            ("ocel_type", pa.string()),  # the activity
            ("ocel_time", UTC_TS),
            ("batch_event_id", pa.string()),  # the production event (batch step) it belongs to
        ]
    ),
    "object": pa.schema([("ocel_id", pa.string()), ("ocel_type", pa.string())]),
    "event_object": pa.schema(
        [("ocel_event_id", pa.string()), ("ocel_object_id", pa.string()), ("ocel_qualifier", pa.string())]
    ),
    "object_object": pa.schema(
        [("ocel_source_id", pa.string()), ("ocel_target_id", pa.string()), ("ocel_qualifier", pa.string())]
    ),
    # One row per attribute value; numbers in value_num, text in value_str (exactly one is set).
    "object_attribute": pa.schema(
        [
            ("ocel_id", pa.string()),
            ("ocel_time", UTC_TS),
            ("name", pa.string()),
            ("value_num", pa.float64()),
            ("value_str", pa.string()),
        ]
    ),
}


class _Log:
    """Column lists of the OCEL tables, filled while walking the day's batch events."""

    def __init__(self) -> None:
        self.columns = {name: {f.name: [] for f in schema} for name, schema in OCEL_SCHEMAS.items()}
        self.seen: set[str] = set()

    def obj(self, object_id: str, object_type: str) -> None:
        if object_id not in self.seen:
            self.seen.add(object_id)
            self.columns["object"]["ocel_id"].append(object_id)
            self.columns["object"]["ocel_type"].append(object_type)

    def event(self, event_id: str, activity: str, time_us: int, batch_event_id: str) -> None:
        cols = self.columns["event"]
        cols["ocel_id"].append(event_id)
        cols["ocel_type"].append(activity)
        cols["ocel_time"].append(time_us)
        cols["batch_event_id"].append(batch_event_id)

    def e2o(self, event_ids: list[str], object_ids: list[str], qualifiers: list[str]) -> None:
        cols = self.columns["event_object"]
        cols["ocel_event_id"].extend(event_ids)
        cols["ocel_object_id"].extend(object_ids)
        cols["ocel_qualifier"].extend(qualifiers)

    def o2o(self, sources: list[str], targets: list[str], qualifier: str) -> None:
        cols = self.columns["object_object"]
        cols["ocel_source_id"].extend(sources)
        cols["ocel_target_id"].extend(targets)
        cols["ocel_qualifier"].extend([qualifier] * len(sources))

    def attr(self, object_ids: list[str], time_us, name: str, values) -> None:
        cols = self.columns["object_attribute"]
        n = len(object_ids)
        cols["ocel_id"].extend(object_ids)
        cols["ocel_time"].extend(np.broadcast_to(np.asarray(time_us, dtype=np.int64), (n,)).tolist())
        cols["name"].extend([name] * n)
        values = np.broadcast_to(np.asarray(values), (n,))
        numeric = values.dtype.kind in "fiu"
        cols["value_num"].extend(values.astype(np.float64).tolist() if numeric else [None] * n)
        cols["value_str"].extend([None] * n if numeric else [str(v) for v in values])

    def tables(self) -> dict[str, pa.Table]:
        return {
            name: pa.Table.from_pydict(self.columns[name], schema=schema)
            for name, schema in OCEL_SCHEMAS.items()
        }


def expand_day(config: FactoryConfig, factory_day: FactoryDay) -> dict[str, pa.Table]:
    """The OCEL 2.0 tables (event, object, event_object, object_object, object_attribute) of a day."""
    events = factory_day.tables["production_events"].sort_by(
        [("case_id", "ascending"), ("start_ts", "ascending")]
    )
    rows = events.to_pylist()
    day = _day_of(events)
    log = _Log()
    # Machines and crews are objects of the day once they work on something (pm4py drops idle ones anyway).
    machines = factory_day.tables["machines"]
    activity_of = dict(zip(machines["machine_id"].to_pylist(), machines["activity"].to_pylist(), strict=True))
    for machine_id in sorted(set(events["machine_id"].to_pylist())):
        log.obj(machine_id, m.MACHINE)
        log.attr([machine_id], EPOCH_US, "activity", activity_of.get(machine_id, "unknown"))
    graded: list[tuple[int, str, str]] = []  # (grading time, product, cell) of the good graded cells
    by_case: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_case[row["case_id"]].append(row)
    cell_step, electrode_steps = _cell_making_step(config), _electrode_steps(config)
    for case_id, case_events in by_case.items():
        stacked_at = next((i for i, e in enumerate(case_events) if e["activity"] == cell_step), None)
        if stacked_at is None:
            # The cell steps of a batch stacked before the day belong to that day's cells: left out here.
            electrode_events, cell_events = [e for e in case_events if e["activity"] in electrode_steps], []
        else:
            electrode_events, cell_events = case_events[:stacked_at], case_events[stacked_at:]
        if not electrode_events and not cell_events:
            continue
        batch = _Batch(config, log, case_id, case_events[0]["product_id"])
        for event in electrode_events:
            batch.electrode_event(event)
        for event in cell_events:
            batch.cell_event(event, is_last_step=event["activity"] == list(config.route)[-1])
        graded.extend(batch.graded)
    _pack(log, day, graded)
    return log.tables()


def _electrode_steps(config: FactoryConfig) -> set[str]:
    order = list(config.route)
    return set(order[: order.index(_cell_making_step(config))])


def _cell_making_step(config: FactoryConfig) -> str:
    # The step that assembles cells from anode and cathode rolls.
    return "Stacking" if "Stacking" in config.route else list(config.route)[0]


def _day_of(events: pa.Table) -> date:
    first = events["event_id"][0].as_py() if len(events) else "1970-01-01"
    return date.fromisoformat(first[:10])


def _us(ts: datetime) -> int:
    return (ts - EPOCH) // timedelta(microseconds=1)


class _Batch:
    """The objects of one production batch and the events that create and move them."""

    def __init__(self, config: FactoryConfig, log: _Log, case_id: str, product_id: str):
        self.config, self.log, self.case_id, self.product_id = config, log, case_id, product_id
        self.size = config.batch_size_cells
        self.slurries = {e: m.slurry_id(case_id, e) for e in m.ELECTRODES}
        self.coils = {
            e: [m.coil_id(case_id, e, c) for c in range(m.COILS_PER_ELECTRODE)] for e in m.ELECTRODES
        }
        self.rolls = {
            e: [
                m.roll_id(coil, lane, section)
                for coil in coils
                for lane in range(m.LANES_PER_COIL)
                for section in range(m.SECTIONS_PER_LANE)
            ]
            for e, coils in self.coils.items()
        }
        self.quality = coating(config, case_id)
        self.made = False  # the cell-making step has run: cells exist
        self.alive: list[int] = []  # cell numbers still in the batch, in stacking order
        self.graded: list[tuple[int, str, str]] = []
        self._declare_objects()

    def _declare_objects(self) -> None:
        log, static = self.log, {"batch": self.case_id, "product": self.product_id}
        viscosity = slurry_viscosity(self.config, self.case_id)
        for e, electrode in m.ELECTRODES.items():
            log.obj(self.slurries[e], m.SLURRY)
            log.attr([self.slurries[e]], EPOCH_US, "electrode", electrode)
            log.attr([self.slurries[e]], EPOCH_US, "slurry_viscosity_mpas", viscosity[e])
            for c, coil in enumerate(self.coils[e]):
                log.obj(coil, m.COIL)
                for name, value in static.items():
                    log.attr([coil], EPOCH_US, name, value)
                log.attr([coil], EPOCH_US, "electrode", electrode)
                segments = [m.segment_id(coil, s) for s in range(m.SEGMENTS_PER_COIL)]
                for segment in segments:
                    log.obj(segment, m.SEGMENT)
                k = list(m.ELECTRODES).index(e)
                log.attr(segments, EPOCH_US, "coating_thickness_um", self.quality["thickness_um"][k, c])
                log.attr(segments, EPOCH_US, "areal_loading_mg_cm2", self.quality["loading_mg_cm2"][k, c])
                log.attr(segments, EPOCH_US, "position", np.arange(m.SEGMENTS_PER_COIL))
                log.o2o(segments, [coil] * len(segments), m.SEGMENT_OF)
            log.o2o(self.coils[e], [self.slurries[e]] * len(self.coils[e]), m.COATED_WITH)
            per_roll = m.SEGMENTS_PER_COIL // m.SECTIONS_PER_LANE
            for roll in self.rolls[e]:
                log.obj(roll, m.ROLL)
                section = int(roll[-1]) - 1
                log.attr([roll], EPOCH_US, "first_segment", section * per_roll)
                log.attr([roll], EPOCH_US, "last_segment", (section + 1) * per_roll - 1)
            log.o2o(self.rolls[e], [r.rsplit("-", 1)[0] for r in self.rolls[e]], m.SLIT_FROM)

    def _resources(self, event: dict, event_ids: list[str]) -> None:
        n = len(event_ids)
        self.log.e2o(event_ids, [event["machine_id"]] * n, [m.PERFORMED_ON] * n)
        if event["crew_id"] is not None:
            self.log.obj(event["crew_id"], m.CREW)
            self.log.e2o(event_ids, [event["crew_id"]] * n, [m.OPERATED_BY] * n)

    def electrode_event(self, event: dict) -> None:
        """One batch step before cell making: one OCEL event on the slurries, coils or rolls it touches."""
        activity, event_id = event["activity"], event["event_id"]
        self.log.event(event_id, activity, _us(event["start_ts"]), event_id)
        slurries, coils = list(self.slurries.values()), [c for cs in self.coils.values() for c in cs]
        rolls = [r for rs in self.rolls.values() for r in rs]
        if activity == "Mixing":
            links = [(s, m.OUTPUT) for s in slurries]
        elif activity == "Coating":
            segments = [m.segment_id(c, k) for c in coils for k in range(m.SEGMENTS_PER_COIL)]
            links = [(s, m.INPUT) for s in slurries] + [(c, m.OUTPUT) for c in [*coils, *segments]]
        elif activity == "Slitting":
            links = [(c, m.INPUT) for c in coils] + [(r, m.OUTPUT) for r in rolls]
        else:  # Drying, Calendering and any other electrode step work on the coils
            links = [(c, m.PROCESSED) for c in coils]
        self.log.e2o([event_id] * len(links), [o for o, _ in links], [q for _, q in links])
        self._resources(event, [event_id])

    def cell_event(self, event: dict, is_last_step: bool) -> None:
        """One batch step from cell making on: one OCEL event per cell, staggered over the step."""
        log, activity = self.log, event["activity"]
        creating = not self.made
        if creating:
            self.made, self.alive = True, list(range(event["produced_qty"]))
            self._create_cells()
        cells = self.alive[: event["produced_qty"]]
        n = len(cells)
        if n == 0:
            return
        start, end = _us(event["start_ts"]), _us(event["end_ts"])
        times = start + ((np.arange(n) + 0.5) / n * (end - start)).astype(np.int64)
        ids = [m.cell_id(self.case_id, k) for k in cells]
        event_ids = [f"{event['event_id']}-{k:04d}" for k in cells]
        cols = log.columns["event"]
        cols["ocel_id"].extend(event_ids)
        cols["ocel_type"].extend([activity] * n)
        cols["ocel_time"].extend(times.tolist())
        cols["batch_event_id"].extend([event["event_id"]] * n)

        scrapped = self._scrapped(event, cells, ids, times, is_last_step)
        qualifier = m.CREATED if creating else m.PROCESSED
        log.e2o(event_ids, ids, [m.SCRAPPED if i in scrapped else qualifier for i in range(n)])
        if creating:
            anode = [self.rolls["A"][self._roll_index(k)] for k in cells]
            cathode = [self.rolls["C"][self._roll_index(k)] for k in cells]
            log.e2o(event_ids + event_ids, anode + cathode, [m.INPUT] * (2 * n))
            # A cell scrapped where it is made is never "in process".
            kept = [i for i in range(n) if i not in scrapped]
            log.attr([ids[i] for i in kept], times[kept], "status", m.IN_PROCESS)
        if activity == "Formation":
            channels = [
                m.channel_id(event["machine_id"], i % m.CHANNELS_PER_FORMATION_MACHINE) for i in range(n)
            ]
            for channel in dict.fromkeys(channels):
                if channel not in log.seen:
                    log.obj(channel, m.CHANNEL)
                    log.o2o([channel], [event["machine_id"]], m.CHANNEL_OF)
            log.e2o(event_ids, channels, [m.PROCESSED] * n)
            log.o2o(ids, channels, m.FORMED_IN)
        self._resources(event, event_ids)
        gone = sorted(scrapped)
        log.attr([ids[i] for i in gone], times[gone], "status", m.STATUS_SCRAPPED)
        self.alive = [k for i, k in enumerate(cells) if i not in scrapped]

    def _roll_index(self, number: int) -> int:
        coil, _, lane, section = m.position(number, self.size)
        return (coil * m.LANES_PER_COIL + lane) * m.SECTIONS_PER_LANE + section

    def _create_cells(self) -> None:
        log, cells = self.log, self.alive
        ids = [m.cell_id(self.case_id, k) for k in cells]
        for cell in ids:
            log.obj(cell, m.CELL)
        log.attr(ids, EPOCH_US, "batch", self.case_id)
        log.attr(ids, EPOCH_US, "product", self.product_id)
        positions = [m.position(k, self.size) for k in cells]
        for e, (roll_q, segment_q) in {
            "A": (m.ANODE_FROM, m.ANODE_SEGMENT),
            "C": (m.CATHODE_FROM, m.CATHODE_SEGMENT),
        }.items():
            log.o2o(ids, [self.rolls[e][self._roll_index(k)] for k in cells], roll_q)
            log.o2o(ids, [m.segment_id(self.coils[e][c], s) for c, s, _, _ in positions], segment_q)

    def _scrapped(
        self, event: dict, cells: list[int], ids: list[str], times: np.ndarray, grading: bool
    ) -> set[int]:
        """Indexes into ``cells`` of the cells this step scraps: the worst graded ones, or drawn at random."""
        count = min(event["scrap_qty"], len(cells))
        if not grading:
            rng = stream(self.config.seed, batch_day(self.case_id), f"genealogy:scrap:{event['event_id']}")
            return set(rng.choice(len(cells), size=count, replace=False).tolist()) if count else set()
        # Graded for the whole batch, picked by cell number: a cell's values do not depend on the others.
        every = np.array([m.position(k, self.size)[:2] for k in range(self.size)])
        loading = self.quality["loading_mg_cm2"] / self.quality["loading_target"]
        batch = grade_cells(
            self.config,
            self.case_id,
            self.product_id,
            loading[0][every[:, 0], every[:, 1]],
            loading[1][every[:, 0], every[:, 1]],
        )
        graded = {name: values[np.array(cells)] for name, values in batch.items()}
        for name, values in graded.items():
            self.log.attr(ids, times, name, values)
        worst = np.argsort(-grading_badness(self.config, self.product_id, graded), kind="stable")[:count]
        scrapped = set(worst.tolist())
        good = [i for i in range(len(cells)) if i not in scrapped]
        self.log.attr([ids[i] for i in good], times[good], "status", m.GRADED)
        self.graded.extend((int(times[i]), self.product_id, ids[i]) for i in good)
        return scrapped


def _pack(log: _Log, day: date, graded: list[tuple[int, str, str]]) -> None:
    """Full trays of good cells, per product in grading order; each closed tray is one Packing event."""
    by_product: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for time_us, product, cell in sorted(graded):
        by_product[product].append((time_us, cell))
    for product, cells in sorted(by_product.items()):
        for n in range(len(cells) // m.CELLS_PER_TRAY):
            tray_cells = cells[n * m.CELLS_PER_TRAY : (n + 1) * m.CELLS_PER_TRAY]
            tray = f"TRAY-{day:%Y%m%d}-{product}-{n + 1:04d}"
            closed = tray_cells[-1][0] + TRAY_CLOSING_US
            event_id = f"{tray}-PACK"
            log.obj(tray, m.TRAY)
            log.attr([tray], EPOCH_US, "product", product)
            log.event(event_id, "Packing", closed, event_id)
            ids = [c for _, c in tray_cells]
            log.e2o([event_id] * (len(ids) + 1), [tray, *ids], [m.OUTPUT] + [m.PACKED] * len(ids))
            log.o2o(ids, [tray] * len(ids), m.PACKED_IN)
            log.attr(ids, closed, "status", m.STATUS_PACKED)
