"""Connectors for real plant data: a committed YAML mapping turns a plant export (CSV, Parquet, XES, OCEL 2.0)
into the raw ``production_events`` table, with a quarantine for the rows that cannot be trusted.

Pure domain code: no Dagster import here; ``orchestration/defs`` wires these functions into assets.
"""

from orchestration.connectors.events import QUARANTINE_SCHEMA, LoadedEvents, load_events
from orchestration.connectors.export import export_ocel, export_xes
from orchestration.connectors.factory_days import split_by_factory_day
from orchestration.connectors.landing import PlantExport, read_plant_export
from orchestration.connectors.mapping import SOURCE_DIR_ENV, SourceMapping, load_mapping
from orchestration.connectors.master_data import derive_machines, load_machines_csv

__all__ = [
    "QUARANTINE_SCHEMA",
    "SOURCE_DIR_ENV",
    "LoadedEvents",
    "PlantExport",
    "SourceMapping",
    "derive_machines",
    "export_ocel",
    "export_xes",
    "load_events",
    "load_machines_csv",
    "load_mapping",
    "read_plant_export",
    "split_by_factory_day",
]
