"""The analysts' copy of the warehouse: what SQL users, BI tools and notebooks open, not the run's file.

DuckDB takes one writer per file, and a reader holding the file (even read-only) keeps the writer out: an
analyst's open session would stop the night's run. So each run, once it has written, publishes a checkpointed
copy beside the warehouse (``<warehouse>.analysts.duckdb``) by atomic rename. A session open on the previous
copy keeps reading it, undisturbed (the rename leaves its file in place until it closes); the next session
opens the new one. The copy is as fresh as the last run.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from orchestration.atomic_files import RESTRICTED, replacing


def analysts_copy_of(warehouse: Path) -> Path:
    warehouse = Path(warehouse)
    return warehouse.with_name(f"{warehouse.stem}.analysts.duckdb")


def publish_analysts_copy(warehouse: Path, group: str | None = None) -> Path:
    """Checkpoint the warehouse and copy it, whole, over the analysts' copy; returns the copy's path."""
    warehouse = Path(warehouse)
    target = analysts_copy_of(warehouse)
    # Connected as the writer: nothing changes the file while it is copied, and after CHECKPOINT the file
    # holds every committed row (no write-ahead log beside it to carry along).
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("CHECKPOINT")
        # the marts hold costs: the owner and the plant's file group (settings.file_group), nobody else
        with replacing(target, mode=RESTRICTED, group=group) as temporary:
            shutil.copyfile(warehouse, temporary)
    return target
