"""The warehouse does not depend on how a range of days was split into runs: the same two days as one range
run, and one day at a time (then the first day again), leave every table of every schema equal. Two days are
enough to tell (before windows were owned by their day, 13 window tables differed); each run costs ~30 s."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.partition_ranges import RANGE_END, RANGE_START
from tests.conftest import Platform, make_platform

pytestmark = pytest.mark.e2e

DAYS = ["2026-11-09", "2026-11-10"]

# Columns that differ between two runs of the same data for a reason other than the split, by table:
# none at present. Only a column holding wall-clock time (a load timestamp) or a run id belongs here.
VOLATILE_COLUMNS: dict[str, set[str]] = {}
# DuckDB sums doubles in parallel, in no fixed order, so a sum can differ in its last bits between two runs
# of the same data (1048.1899999999998 vs 1048.19): doubles are compared to 10 significant digits.
FLOATS = {"DOUBLE", "FLOAT", "REAL"}


def warehouse_assets(platform: Platform) -> list[dg.AssetsDefinition]:
    """Extraction, the warehouse and process mining: everything that writes warehouse tables on a day."""
    return platform.pipeline_assets()[:3]


def materialize(platform: Platform, first: str, last: str) -> None:
    """Days ``first`` .. ``last`` as one run, as a single-run backfill runs them."""
    tags = {RANGE_START: first, RANGE_END: last}
    result = dg.materialize(
        [*warehouse_assets(platform), *platform.raw_checks],
        resources=platform.resources,
        instance=dg.DagsterInstance.ephemeral(),
        tags=tags,
    )
    assert result.success


def table_checksums(warehouse: Path) -> dict[str, tuple[int, dict[str, int]]]:
    """schema.table -> (rows, column -> order-independent hash of its values), volatile columns left out."""
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        tables = conn.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = current_database() order by 1, 2"
        ).fetchall()
        sums = {}
        for schema, name in tables:
            relation = f'"{schema}"."{name}"'
            columns = [
                (column, kind)
                for column, kind, *_ in conn.execute(f"describe {relation}").fetchall()
                if column not in VOLATILE_COLUMNS.get(f"{schema}.{name}", set())
            ]
            hashes = ", ".join(
                f"sum(hash(printf('%.10g', \"{c}\")))" if kind in FLOATS else f'sum(hash("{c}"))'
                for c, kind in columns
            )
            rows, *column_sums = conn.execute(f"select count(*), {hashes} from {relation}").fetchone()
            sums[f"{schema}.{name}"] = (rows, dict(zip([c for c, _ in columns], column_sums, strict=True)))
        return sums


def test_a_range_run_and_day_by_day_runs_leave_every_table_equal(tmp_path, monkeypatch):
    # Both at the same paths, one after the other, so that paths stored in tables (pictures) are equal too.
    root = tmp_path / "plant"
    materialize(make_platform(root, monkeypatch), DAYS[0], DAYS[-1])
    in_one_run = table_checksums(root / "warehouse.duckdb")
    shutil.rmtree(root)

    day_by_day = make_platform(root, monkeypatch)
    for day in [*DAYS, DAYS[0]]:  # and the first day again, after the last
        materialize(day_by_day, day, day)
    one_by_one = table_checksums(root / "warehouse.duckdb")

    assert in_one_run.keys() == one_by_one.keys()
    differing = []
    for table, (rows, hashes) in in_one_run.items():
        other_rows, other_hashes = one_by_one[table]
        columns = [c for c in hashes if hashes[c] != other_hashes.get(c)]
        if rows != other_rows or columns:
            differing.append(
                f"  {table}: rows {rows} vs {other_rows}; columns differing: {', '.join(columns)}"
            )
    assert not differing, "tables differ between a range run and day-by-day runs:\n" + "\n".join(differing)
    assert in_one_run["process_mining.dfg"][0] > 0  # the comparison saw mined rows
