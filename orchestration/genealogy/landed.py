"""A landed factory day's genealogy: its production events from the lake, each batch continued from its
earlier days' events there."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa

from orchestration.genealogy.expand import expand_events
from orchestration.lake.tables import RAW_TABLES
from orchestration.lake.writer import partition_dir, read_partition
from orchestration.simulator.config import FactoryConfig


def expand_landed_day(config: FactoryConfig, lake_dir: Path, day: str) -> dict[str, pa.Table]:
    """The OCEL tables of factory day ``day`` as landed in the lake at ``lake_dir``.

    Only days before ``day`` are read besides it, so the result does not depend on days landed after it,
    nor on how a range of days was split into runs.
    """
    date.fromisoformat(day)  # a day is YYYY-MM-DD: it is put into a path and a query
    events = read_partition(lake_dir, "production_events", day)
    machines = read_partition(lake_dir, "machines", day)
    return expand_events(config, events, machines, earlier_events(lake_dir, day, events))


def earlier_events(lake_dir: Path, day: str, events: pa.Table) -> pa.Table:
    """The production events landed before ``day`` of the batches that have events on ``day``."""
    folder = partition_dir(lake_dir, "production_events", day).parent
    columns = ", ".join(f'"{name}"' for name in RAW_TABLES["production_events"].names)
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        con.register("cases", events.select(["case_id"]))
        earlier = con.sql(
            f"""SELECT {columns} FROM read_parquet($files, hive_partitioning = true)
                WHERE "date" < $day::DATE AND case_id IN (SELECT case_id FROM cases)""",
            params={"files": str(folder / "date=*" / "*.parquet"), "day": day},
        ).to_arrow_table()
    return earlier.cast(RAW_TABLES["production_events"])
