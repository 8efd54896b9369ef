"""A plant export landed as factory days: the raw tables of one day, in the same contract as the simulator.

The export is read once (every file of the mapping), cut into factory days by each event's start, and each
day gets its production events plus the master data of the whole export. Tables the export does not carry
(machine states, quality measurements, telemetry, products, shifts) land empty, with their schema, so the
warehouse builds and the marts say which KPIs cannot be computed instead of inventing them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from orchestration.connectors.events import LoadedEvents, load_events
from orchestration.connectors.factory_days import split_by_factory_day
from orchestration.connectors.mapping import SourceMapping
from orchestration.connectors.master_data import derive_machines, load_machines_csv
from orchestration.factory_calendar import FactoryCalendar
from orchestration.lake.tables import RAW_TABLES


@dataclass(frozen=True)
class PlantExport:
    mapping: SourceMapping
    loaded: LoadedEvents
    days: dict[str, pa.Table]  # factory day -> its production events
    machines: pa.Table  # master data: the plant's machines CSV, or derived from the events
    master_data_given: bool  # the machines came from the plant's CSV (authoritative), not from the events

    def day_fingerprints(self) -> dict[str, str]:
        """Factory day -> a digest of its events: a day whose digest changes needs landing again."""
        digests = {}
        for day, events in self.days.items():
            sink = pa.BufferOutputStream()
            with pa.ipc.new_stream(sink, events.schema) as writer:
                writer.write_table(events.combine_chunks())
            digests[day] = hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()[:16]
        return digests

    def raw_tables(self, day: str) -> dict[str, pa.Table]:
        """The raw tables of factory day ``day``; a day without events gets an empty event table."""
        tables = {name: schema.empty_table() for name, schema in RAW_TABLES.items()}
        tables["production_events"] = self.days.get(day, tables["production_events"])
        tables["machines"] = self.machines
        return tables


def read_plant_export(
    mapping: SourceMapping, calendar: FactoryCalendar, machines_csv: Path | None = None
) -> PlantExport:
    """Read the export and cut it into ``calendar``'s factory days (the plant's, orchestration.plant); with
    a machines CSV, events on machines it does not list are quarantined."""
    if not mapping.needs_machine:  # the marts are per machine (OEE, bottlenecks, costs)
        raise ValueError(
            f"{mapping.origin}: the warehouse needs a machine on every event: map columns.machine and leave "
            "machine_optional unset (a log without machines is mined with the mine command)"
        )
    machines = load_machines_csv(machines_csv) if machines_csv is not None else None
    known = machines["machine_id"].to_pylist() if machines is not None else None
    loaded = load_events(mapping, known_machines=known)
    days = split_by_factory_day(loaded.events, calendar)
    return PlantExport(
        mapping=mapping,
        loaded=loaded,
        days=days,
        machines=machines if machines is not None else derive_machines(loaded.events),
        master_data_given=machines is not None,
    )
