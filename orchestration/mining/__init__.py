"""Process mining of the factory's batch routes with pm4py: pure domain code, no Dagster.

pm4py is imported lazily (on first discovery, replay or drawing), so importing this package stays cheap.
"""

from orchestration.mining.conformance import DEFAULT_MAX_VARIANTS, ConformanceResult, check_conformance
from orchestration.mining.discovery import DiscoveredModel, discover_process_model
from orchestration.mining.event_log import EVENT_LOG_COLUMNS, load_event_log, variant_counts
from orchestration.mining.model_picture import ModelPicture, find_renderers, render_model_picture
from orchestration.mining.results import (
    CONFORMANCE_TABLE,
    MODELS_TABLE,
    TABLE_COLUMNS,
    ensure_tables,
    to_rows,
    write_results,
)
from orchestration.mining.run import MiningRun, mine_event_log

__all__ = [
    "CONFORMANCE_TABLE",
    "DEFAULT_MAX_VARIANTS",
    "EVENT_LOG_COLUMNS",
    "MODELS_TABLE",
    "TABLE_COLUMNS",
    "ConformanceResult",
    "DiscoveredModel",
    "MiningRun",
    "ModelPicture",
    "check_conformance",
    "discover_process_model",
    "ensure_tables",
    "find_renderers",
    "load_event_log",
    "mine_event_log",
    "render_model_picture",
    "to_rows",
    "variant_counts",
    "write_results",
]
