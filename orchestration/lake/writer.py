"""Landing raw tables as Parquet, one file per table and factory day, written atomically.

A run killed halfway leaves at most a ``.tmp`` file that the next write of the partition replaces;
readers only ever see a complete file.
"""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.lake.tables import RAW_TABLES


def partition_dir(lake_dir: Path, table: str, day: str) -> Path:
    return lake_dir / "raw" / table / f"date={day}"


def partition_file(lake_dir: Path, table: str, day: str) -> Path:
    return partition_dir(lake_dir, table, day) / "part-0.parquet"


def conform(table: str, data: pa.Table) -> pa.Table:
    """Cast to the contract schema, column order included; raises naming the table on a mismatch."""
    schema = RAW_TABLES[table]
    missing = [name for name in schema.names if name not in data.column_names]
    if missing:
        raise ValueError(f"raw table {table!r} lacks columns {missing}")
    return data.select(schema.names).cast(schema)


def write_partition(lake_dir: Path, table: str, day: str, data: pa.Table) -> Path:
    """Replace the table's partition for ``day`` with ``data``; returns the file written."""
    target = partition_file(lake_dir, table, day)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".parquet.tmp")
    pq.write_table(conform(table, data), tmp, compression="zstd")
    os.replace(tmp, target)
    return target


def read_partition(lake_dir: Path, table: str, day: str) -> pa.Table:
    return pq.read_table(partition_file(lake_dir, table, day))
