"""A simulated factory day resolved into objects and events: the OCEL 2.0 relational core as Arrow tables.

The batch stays the unit of machine work: every production event of the day becomes one OCEL event on the
electrode objects (Mixing to Slitting), or one event per cell from the cell-making step (Stacking) on, the
cells of a batch staggered evenly over the step's start..end in stacking order. Counts reconcile with the
batch events: a batch's Stacking event creates ``produced_qty`` cells (cells 0..produced_qty-1), every later
step processes the first ``produced_qty`` survivors, and each step's ``scrap_qty`` cells end there, marked
by the qualifier "scrapped" and the status attribute. At Grading the worst graded cells take the scrap; at
other steps the scrapped cells are drawn at random. Electrode scrap before Stacking is material (cell
equivalents) and only shortens the coil: the cells of a batch are those its Stacking event produced.

A day is expanded with its batches' earlier events (``earlier``, from the lake) replayed silently: a batch
stacked the day before goes on with its surviving cells, and every object is declared once, on the day it
is first named (machines, crews and formation channels: on every day they work, the warehouse keeps them
once). Good cells are packed in trays after Grading, per product in grading order and per day; a tray not
full at the end of the day stays open and its cells keep the status "graded".

Python walks the batch events (a few thousand a day at full scale); everything per cell is a numpy or Arrow
array, ids included (Arrow string kernels), so a scale-1.0 day of ~300 k cells expands in seconds.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.genealogy import model as m
from orchestration.genealogy.physics import batch_day, coating, grade_cells, grading_badness, slurry_viscosity
from orchestration.lake.tables import GENEALOGY_TABLES
from orchestration.simulator.config import FactoryConfig
from orchestration.simulator.engine import FactoryDay
from orchestration.simulator.streams import stream

TRAY_CLOSING_US = 30_000_000  # a tray is closed and labelled half a minute after its last cell is graded
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
EPOCH_US = 0  # OCEL 2.0: attribute values that hold from the start carry the time 1970-01-01

OCEL_SCHEMAS = GENEALOGY_TABLES  # the lake's contract (orchestration/lake/tables.py)

Ids = pa.Array | list[str]  # object or event ids: an Arrow string array per cell, a list for the few others


class _Log:
    """The OCEL tables as chunks of columns (an array, a list, or one value for the whole chunk), joined once.

    Values are kept as given and turned into Arrow only in ``tables``: a scalar costs nothing per row.
    """

    def __init__(self) -> None:
        self.chunks: dict[str, list[tuple[int, dict]]] = {name: [] for name in OCEL_SCHEMAS}
        self.seen: set[str] = set()  # machines, crews and channels: objects that many events name

    def add(self, table: str, **columns) -> None:
        """A chunk of rows; its length is that of the first column given as an array or list."""
        rows = next(len(v) for v in columns.values() if isinstance(v, pa.Array | np.ndarray | list))
        if rows:
            self.chunks[table].append((rows, columns))

    def obj(self, object_id: str, object_type: str) -> None:
        """One object, declared once however often it is named."""
        if object_id not in self.seen:
            self.seen.add(object_id)
            self.objects([object_id], object_type)

    def objects(self, object_ids: Ids, object_type: str) -> None:
        self.add("object", ocel_id=object_ids, ocel_type=object_type)

    def events(self, event_ids: Ids, activity: str, times, batch_event_id: str) -> None:
        self.add(
            "event",
            ocel_id=event_ids,
            ocel_type=activity,
            ocel_time=times,
            batch_event_id=batch_event_id,
        )

    def e2o(self, event_ids, object_ids, qualifiers) -> None:
        self.add(
            "event_object",
            ocel_event_id=event_ids,
            ocel_object_id=object_ids,
            ocel_qualifier=qualifiers,
        )

    def o2o(self, sources: Ids, targets, qualifier: str) -> None:
        self.add(
            "object_object",
            ocel_source_id=sources,
            ocel_target_id=targets,
            ocel_qualifier=qualifier,
        )

    def attr(self, object_ids: Ids, time_us, name: str, values) -> None:
        values = np.asarray(values)
        numeric = values.dtype.kind in "fiu"
        values = values.astype(np.float64 if numeric else str)
        value = values.item() if values.ndim == 0 else values  # one value for every object
        self.add(
            "object_attribute",
            ocel_id=object_ids,
            ocel_time=time_us,
            name=name,
            value_num=value if numeric else None,
            value_str=None if numeric else value,
        )

    def tables(self) -> dict[str, pa.Table]:
        return {
            name: pa.Table.from_arrays(
                [_column(self.chunks[name], f.name, f.type) for f in schema], schema=schema
            )
            for name, schema in OCEL_SCHEMAS.items()
        }


def _column(chunks: list[tuple[int, dict]], name: str, arrow_type: pa.DataType) -> pa.Array:
    """One column of a table as Arrow, chunks in order.

    Arrays go to Arrow as they are. Runs of the other chunks (one value for a whole cell step, one batch's
    coils, one event's machine) are gathered as values and repeat counts and become one Arrow array with a
    single take: converting each chunk on its own would cost more than the rows of a whole cell step.
    """
    parts: list[pa.Array] = []
    values: list = []
    repeats: list[int] = []

    def flush() -> None:
        if values:
            index = np.repeat(np.arange(len(values)), repeats)
            parts.append(pa.array(values, arrow_type).take(index))
            values.clear()
            repeats.clear()

    for rows, columns in chunks:
        given = columns[name]
        if isinstance(given, pa.Array):
            flush()
            parts.append(given)
        elif isinstance(given, np.ndarray) and rows >= 64:
            flush()
            parts.append(pa.array(given, arrow_type))
        elif isinstance(given, np.ndarray | list):
            values.extend(given.tolist() if isinstance(given, np.ndarray) else given)
            repeats.extend([1] * rows)
        else:  # one value for the whole chunk
            values.append(given)
            repeats.append(rows)
    flush()
    return pa.concat_arrays(parts) if parts else pa.array([], arrow_type)


def _suffixed(prefix: str, texts: pa.Array) -> pa.Array:
    """``prefix-text`` for every text (ids of cells and their events)."""
    return pc.binary_join_element_wise(prefix, texts, "-")


def expand_day(
    config: FactoryConfig, factory_day: FactoryDay, earlier: pa.Table | None = None
) -> dict[str, pa.Table]:
    """The OCEL 2.0 tables (event, object, event_object, object_object, object_attribute) of a day."""
    tables = factory_day.tables
    return expand_events(config, tables["production_events"], tables["machines"], earlier)


def expand_events(
    config: FactoryConfig, events: pa.Table, machines: pa.Table, earlier: pa.Table | None = None
) -> dict[str, pa.Table]:
    """The OCEL tables of one factory day's production ``events`` (a day of raw production_events).

    ``earlier``: the production events of the same batches on the days before (the lake's), replayed
    without emitting anything, so that the day continues each batch where it stood: its cells made on an
    earlier day go on with the survivors, and its objects are declared on the day of its first event only.
    A batch with no event before the day (or none landed) starts on it: its objects are declared there,
    and its cells where its first cell step is (made before the landed history if that is not stacking).
    """
    events = events.sort_by([("case_id", "ascending"), ("start_ts", "ascending")])
    day = _day_of(events)
    log = _Log()
    # Machines and crews are objects of the day once they work on something (pm4py drops idle ones anyway).
    activity_of = dict(zip(machines["machine_id"].to_pylist(), machines["activity"].to_pylist(), strict=True))
    for machine_id in sorted(set(events["machine_id"].to_pylist())):
        log.obj(machine_id, m.MACHINE)
        log.attr([machine_id], EPOCH_US, "activity", activity_of.get(machine_id, "unknown"))
    history: dict[str, list[dict]] = defaultdict(list)
    if earlier is not None and earlier.num_rows:
        for row in earlier.sort_by([("case_id", "ascending"), ("start_ts", "ascending")]).to_pylist():
            history[row["case_id"]].append(row)
    graded: list[pa.Table] = []  # (time_us, product, cell) of the good graded cells
    by_case: dict[str, list[dict]] = defaultdict(list)
    for row in events.to_pylist():  # batch events: a few thousand a day at full scale
        by_case[row["case_id"]].append(row)
    electrode_steps, last_step = _electrode_steps(config), list(config.route)[-1]
    for case_id, case_events in by_case.items():
        before = history.get(case_id, [])
        batch = _Batch(config, _Log() if before else log, case_id, case_events[0]["product_id"])
        for event in before:  # the batch as it stood when the day began: nothing emitted
            batch.step(event, electrode_steps, last_step)
        batch.log, batch.graded = log, []
        for event in case_events:
            batch.step(event, electrode_steps, last_step)
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
        # Segments and rolls per electrode, in the order a cell's position indexes them.
        self.segments = {
            e: [m.segment_id(coil, s) for coil in coils for s in range(m.SEGMENTS_PER_COIL)]
            for e, coils in self.coils.items()
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
        self.alive = np.arange(0)  # cell numbers still in the batch, in stacking order
        self.numbers = pa.array([], pa.string())  # "0042": cell number k's id suffix, for every cell made
        self.graded: list[pa.Table] = []
        self._declare_objects()

    def _declare_objects(self) -> None:
        log, static = self.log, {"batch": self.case_id, "product": self.product_id}
        viscosity = slurry_viscosity(self.config, self.case_id)
        per_roll = m.SEGMENTS_PER_COIL // m.SECTIONS_PER_LANE
        for k, (e, electrode) in enumerate(m.ELECTRODES.items()):
            slurry, coils, segments, rolls = self.slurries[e], self.coils[e], self.segments[e], self.rolls[e]
            log.objects([slurry], m.SLURRY)
            log.attr([slurry], EPOCH_US, "electrode", electrode)
            log.attr([slurry], EPOCH_US, "slurry_viscosity_mpas", viscosity[e])
            log.objects(coils, m.COIL)
            for name, value in {**static, "electrode": electrode}.items():
                log.attr(coils, EPOCH_US, name, value)
            log.o2o(coils, slurry, m.COATED_WITH)
            log.objects(segments, m.SEGMENT)
            log.attr(segments, EPOCH_US, "coating_thickness_um", self.quality["thickness_um"][k].ravel())
            log.attr(segments, EPOCH_US, "areal_loading_mg_cm2", self.quality["loading_mg_cm2"][k].ravel())
            log.attr(segments, EPOCH_US, "position", np.tile(np.arange(m.SEGMENTS_PER_COIL), len(coils)))
            log.o2o(segments, np.repeat(coils, m.SEGMENTS_PER_COIL).tolist(), m.SEGMENT_OF)
            log.objects(rolls, m.ROLL)
            sections = np.array([int(roll[-1]) - 1 for roll in rolls])
            log.attr(rolls, EPOCH_US, "first_segment", sections * per_roll)
            log.attr(rolls, EPOCH_US, "last_segment", (sections + 1) * per_roll - 1)
            log.o2o(rolls, [r.rsplit("-", 1)[0] for r in rolls], m.SLIT_FROM)

    def _resources(self, event: dict, event_ids: Ids) -> None:
        self.log.e2o(event_ids, event["machine_id"], m.PERFORMED_ON)
        if event["crew_id"] is not None:
            self.log.obj(event["crew_id"], m.CREW)
            self.log.e2o(event_ids, event["crew_id"], m.OPERATED_BY)

    def step(self, event: dict, electrode_steps: set[str], last_step: str) -> None:
        """One batch event: on the electrode objects until the batch's cells exist, then on its cells."""
        if not self.made and event["activity"] in electrode_steps:
            self.electrode_event(event)
        else:
            self.cell_event(event, is_last_step=event["activity"] == last_step)

    def electrode_event(self, event: dict) -> None:
        """One batch step before cell making: one OCEL event on the slurries, coils or rolls it touches."""
        activity, event_id = event["activity"], event["event_id"]
        self.log.events([event_id], activity, [_us(event["start_ts"])], event_id)
        slurries, coils = list(self.slurries.values()), [c for cs in self.coils.values() for c in cs]
        if activity == "Mixing":
            links = [(s, m.OUTPUT) for s in slurries]
        elif activity == "Coating":
            segments = [s for e in m.ELECTRODES for s in self.segments[e]]
            links = [(s, m.INPUT) for s in slurries] + [(c, m.OUTPUT) for c in [*coils, *segments]]
        elif activity == "Slitting":
            rolls = [r for rs in self.rolls.values() for r in rs]
            links = [(c, m.INPUT) for c in coils] + [(r, m.OUTPUT) for r in rolls]
        else:  # Drying, Calendering and any other electrode step work on the coils
            links = [(c, m.PROCESSED) for c in coils]
        self.log.e2o(event_id, [o for o, _ in links], [q for _, q in links])
        self._resources(event, [event_id])

    def cell_event(self, event: dict, is_last_step: bool) -> None:
        """One batch step from cell making on: one OCEL event per cell, staggered over the step."""
        log, activity = self.log, event["activity"]
        creating = not self.made
        # Cells first seen at a later step were stacked before the landed history: made here, not consumed.
        stacking = creating and activity == _cell_making_step(self.config)
        if creating:
            self.made, self.alive = True, np.arange(event["produced_qty"])
            self.numbers = m.cell_suffixes(self.alive)
            self._create_cells()
        cells = self.alive[: event["produced_qty"]]
        n = len(cells)
        if n == 0:
            return
        start, end = _us(event["start_ts"]), _us(event["end_ts"])
        times = start + ((np.arange(n) + 0.5) / n * (end - start)).astype(np.int64)
        numbers = self.numbers.take(cells)
        ids, event_ids = _suffixed(self.case_id, numbers), _suffixed(event["event_id"], numbers)
        log.events(event_ids, activity, times, event["event_id"])

        scrapped = self._scrapped(event, cells, ids, times, is_last_step)
        qualifier = m.CREATED if stacking else m.PROCESSED
        log.e2o(event_ids, ids, pc.if_else(scrapped, m.SCRAPPED, qualifier))
        if stacking:
            for e in m.ELECTRODES:
                log.e2o(event_ids, pa.array(self.rolls[e]).take(self._roll_index(cells)), m.INPUT)
        if creating:  # a cell scrapped where it is made is never "in process"
            kept = ~scrapped
            log.attr(ids.filter(kept), times[kept], "status", m.IN_PROCESS)
        if activity == "Formation":
            self._form(event["machine_id"], event_ids, ids)
        self._resources(event, event_ids)
        log.attr(ids.filter(scrapped), times[scrapped], "status", m.STATUS_SCRAPPED)
        self.alive = cells[~scrapped]

    def _form(self, machine_id: str, event_ids: pa.Array, ids: pa.Array) -> None:
        """Cell i of a Formation event sits in channel i mod the machine's channel count."""
        n, log = len(ids), self.log
        channel_ids = [m.channel_id(machine_id, i) for i in range(min(n, m.CHANNELS_PER_FORMATION_MACHINE))]
        for channel in channel_ids:
            if channel not in log.seen:
                log.obj(channel, m.CHANNEL)
                log.o2o([channel], machine_id, m.CHANNEL_OF)
        channels = pa.array(channel_ids).take(np.arange(n) % m.CHANNELS_PER_FORMATION_MACHINE)
        log.e2o(event_ids, channels, m.PROCESSED)
        log.o2o(ids, channels, m.FORMED_IN)

    def _roll_index(self, numbers: np.ndarray) -> np.ndarray:
        coil, _, lane, section = m.position(numbers, self.size)
        return (coil * m.LANES_PER_COIL + lane) * m.SECTIONS_PER_LANE + section

    def _create_cells(self) -> None:
        log, cells = self.log, self.alive
        ids = _suffixed(self.case_id, self.numbers)
        log.objects(ids, m.CELL)
        log.attr(ids, EPOCH_US, "batch", self.case_id)
        log.attr(ids, EPOCH_US, "product", self.product_id)
        coil, segment, _, _ = m.position(cells, self.size)
        roll_index, segment_index = self._roll_index(cells), coil * m.SEGMENTS_PER_COIL + segment
        for e, (roll_q, segment_q) in {
            "A": (m.ANODE_FROM, m.ANODE_SEGMENT),
            "C": (m.CATHODE_FROM, m.CATHODE_SEGMENT),
        }.items():
            log.o2o(ids, pa.array(self.rolls[e]).take(roll_index), roll_q)
            log.o2o(ids, pa.array(self.segments[e]).take(segment_index), segment_q)

    def _scrapped(
        self, event: dict, cells: np.ndarray, ids: pa.Array, times: np.ndarray, grading: bool
    ) -> np.ndarray:
        """Which of ``cells`` this step scraps (a mask): the worst graded ones, or drawn at random."""
        count, scrapped = min(event["scrap_qty"], len(cells)), np.zeros(len(cells), dtype=bool)
        if not grading:
            if count:
                rng = stream(
                    self.config.seed, batch_day(self.case_id), f"genealogy:scrap:{event['event_id']}"
                )
                scrapped[rng.choice(len(cells), size=count, replace=False)] = True
            return scrapped
        # Graded for the whole batch, picked by cell number: a cell's values do not depend on the others.
        coil, segment, _, _ = m.position(np.arange(self.size), self.size)
        loading = self.quality["loading_mg_cm2"] / self.quality["loading_target"]
        batch = grade_cells(
            self.config, self.case_id, self.product_id, loading[0][coil, segment], loading[1][coil, segment]
        )
        graded = {name: values[cells] for name, values in batch.items()}
        for name, values in graded.items():
            self.log.attr(ids, times, name, values)
        worst = np.argsort(-grading_badness(self.config, self.product_id, graded), kind="stable")[:count]
        scrapped[worst] = True
        good = ~scrapped
        self.log.attr(ids.filter(good), times[good], "status", m.GRADED)
        self.graded.append(
            pa.table(
                {
                    "time_us": times[good],
                    "product": pa.repeat(self.product_id, good.sum()),
                    "cell": ids.filter(good),
                }
            )
        )
        return scrapped


def _pack(log: _Log, day: date, graded: list[pa.Table]) -> None:
    """Full trays of good cells, per product in grading order; each closed tray is one Packing event."""
    if not graded:
        return
    cells = pa.concat_tables(graded).sort_by(
        [("product", "ascending"), ("time_us", "ascending"), ("cell", "ascending")]
    )
    for product in sorted(set(cells["product"].to_pylist())):
        of_product = cells.filter(pc.equal(cells["product"], product))
        trays = len(of_product) // m.CELLS_PER_TRAY
        if not trays:
            continue
        packed = of_product.slice(0, trays * m.CELLS_PER_TRAY)
        tray_ids = [f"TRAY-{day:%Y%m%d}-{product}-{n + 1:04d}" for n in range(trays)]
        closed = packed["time_us"].to_numpy()[m.CELLS_PER_TRAY - 1 :: m.CELLS_PER_TRAY] + TRAY_CLOSING_US
        event_ids = [f"{tray}-PACK" for tray in tray_ids]
        log.objects(tray_ids, m.TRAY)
        log.attr(tray_ids, EPOCH_US, "product", product)
        log.events(event_ids, "Packing", closed, event_ids)  # a tray's packing is its own production event
        log.e2o(event_ids, tray_ids, m.OUTPUT)
        tray_of_cell = np.repeat(np.arange(trays), m.CELLS_PER_TRAY)
        ids = packed["cell"].combine_chunks()
        log.e2o(pa.array(event_ids).take(tray_of_cell), ids, m.PACKED)
        log.o2o(ids, pa.array(tray_ids).take(tray_of_cell), m.PACKED_IN)
        log.attr(ids, closed[tray_of_cell], "status", m.STATUS_PACKED)
