"""Per-cell traceability (issue 21): the cell factory's objects in OCEL 2.0 terms, from a simulated day.

Pure domain code, no Dagster: ``expand_day`` resolves the day's batch events into slurry batches, coils and
their segments, daughter rolls, cells, formation channels, trays, machines and crews; ``trace`` follows them
backward and forward; ``mining`` computes the object-centric DFG; ``export`` writes OCEL 2.0 JSON and SQLite;
``cli`` puts the traces and exports on the command line (``python -m orchestration.genealogy``).
"""

from orchestration.genealogy.expand import OCEL_SCHEMAS, expand_day
from orchestration.genealogy.export import to_json, to_sqlite
from orchestration.genealogy.mining import oc_dfg
from orchestration.genealogy.trace import backward, forward

__all__ = ["OCEL_SCHEMAS", "backward", "expand_day", "forward", "oc_dfg", "to_json", "to_sqlite"]
