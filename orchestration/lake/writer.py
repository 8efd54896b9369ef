"""Landing tables as Parquet, one file per table and factory day, written atomically.

A run killed halfway leaves at most a ``.tmp`` file that the next write of the partition replaces;
readers only ever see a complete file. Large tables (1 Hz telemetry) arrive as an iterable of record
batches and are streamed to the file one row group at a time, so memory stays bounded by one batch.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.atomic_files import replacing
from orchestration.lake.tables import LAYERS


def partition_dir(lake_dir: Path, table: str, day: str, layer: str = "raw") -> Path:
    return lake_dir / layer / table / f"date={day}"


def partition_file(lake_dir: Path, table: str, day: str, layer: str = "raw") -> Path:
    return partition_dir(lake_dir, table, day, layer) / "part-0.parquet"


def conform(table: str, data: pa.Table | pa.RecordBatch, layer: str = "raw") -> pa.Table:
    """Cast to the contract schema, column order included; raises naming the table on a mismatch."""
    schema = LAYERS[layer][table]
    missing = [name for name in schema.names if name not in data.column_names]
    if missing:
        raise ValueError(f"{layer} table {table!r} lacks columns {missing}")
    if isinstance(data, pa.RecordBatch):
        data = pa.Table.from_batches([data])
    return data.select(schema.names).cast(schema)


def write_partition(
    lake_dir: Path, table: str, day: str, data: pa.Table | Iterable[pa.RecordBatch], layer: str = "raw"
) -> int:
    """Replace the table's partition for ``day`` with ``data``; returns the number of rows written."""
    parts = (conform(table, part, layer) for part in ([data] if isinstance(data, pa.Table) else data))
    return _write_atomically(partition_file(lake_dir, table, day, layer), LAYERS[layer][table], parts)


def write_quarantine(lake_dir: Path, quarantine: pa.Table) -> Path:
    """Replace a plant export's own quarantine (rows its connector could not read: file, line, reason)."""
    target = lake_dir / "source_quarantine" / "production_events.parquet"
    _write_atomically(target, quarantine.schema, [quarantine])
    return target


def _write_atomically(target: Path, schema: pa.Schema, parts: Iterable[pa.Table]) -> int:
    """Stream ``parts`` into ``target`` through a temporary file renamed at the end; returns rows written."""
    rows = 0
    with replacing(target) as tmp, pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
        for part in parts:
            writer.write_table(part)
            rows += part.num_rows
    return rows


def read_partition(lake_dir: Path, table: str, day: str, layer: str = "raw") -> pa.Table:
    return pq.read_table(partition_file(lake_dir, table, day, layer))
