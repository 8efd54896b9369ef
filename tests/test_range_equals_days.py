"""The warehouse does not depend on how a range of days was split into runs, nor on who reads it meanwhile.

The demo week (on the small test plant) through the whole graph as one range run, and one day at a time
(the two in two processes, in two folders), then the first day again while an analyst holds a session on
the analysts' copy: every table of every schema is equal (before windows were owned by their day, 13 window
tables differed). Then a reader holds the warehouse file itself: the run stops as "warehouse in use", no day
is blocked and the reports stay. And every KPI of their reports reads right (tests/report_readability.py).
The end-to-end tier."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.analysts_copy import analysts_copy_of
from orchestration.backfill import NotBlocked, backfill
from orchestration.partition_ranges import RANGE_END, RANGE_START
from orchestration.reporting.readability import daily_pages
from tests.conftest import Platform, make_platform
from tests.ocel_checks import (
    assert_cells_per_machine_day_are_the_oee_marts_good_and_scrap,
    assert_completed_cells_trace_to_their_material,
)
from tests.report_readability import assert_reports_read_right

pytestmark = [pytest.mark.e2e, pytest.mark.long]  # 9 runs in two processes: CI runs it beside the demo

# The demo week (Makefile's DEMO_START .. DEMO_END), Monday to Sunday: as one range run, then day by day.
DAYS = [f"2026-11-{day:02d}" for day in range(9, 16)]
OEE = "select round(sum(oee), 6) from marts.fct_oee_machine_day"

# Columns that differ between two runs of the same data for a reason other than the split, by table:
# none at present. Only a column holding wall-clock time (a load timestamp) or a run id belongs here.
VOLATILE_COLUMNS: dict[str, set[str]] = {}
# DuckDB sums doubles in parallel, in no fixed order, so a sum can differ in its last bits between two runs
# of the same data (1048.1899999999998 vs 1048.19): doubles are compared to 10 significant digits.
FLOATS = {"DOUBLE", "FLOAT", "REAL"}


def materialize(platform: Platform, first: str, last: str) -> None:
    """Days ``first`` .. ``last`` through the whole graph as one run, as a single-run backfill runs them."""
    result = dg.materialize(
        [*platform.pipeline_assets(), *platform.raw_checks],
        resources=platform.resources,
        instance=dg.DagsterInstance.ephemeral(),
        tags={RANGE_START: first, RANGE_END: last},
    )
    assert result.success


def table_checksums(warehouse: Path, root: Path) -> dict[str, tuple[int, dict[str, int]]]:
    """schema.table -> (rows, column -> order-independent hash of its values), volatile columns left out
    and the plant's folder ``root`` in text (the pictures' paths) read as "<plant>", so that two plants
    built in two folders compare."""
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
            hashes = ", ".join(_column_hash(c, kind) for c, kind in columns)
            rows, *column_sums = conn.execute(
                f"select count(*), {hashes} from {relation}", [str(root)] * _text_columns(columns)
            ).fetchone()
            sums[f"{schema}.{name}"] = (rows, dict(zip([c for c, _ in columns], column_sums, strict=True)))
        return sums


def _column_hash(column: str, kind: str) -> str:
    if kind in FLOATS:
        return f"sum(hash(printf('%.10g', \"{column}\")))"
    if kind == "VARCHAR":
        return f"sum(hash(replace(\"{column}\", ?, '<plant>')))"
    return f'sum(hash("{column}"))'


def _text_columns(columns: list[tuple[str, str]]) -> int:
    return sum(kind == "VARCHAR" for _, kind in columns)


def range_run(root: str) -> None:
    """The week as one range run under ``root``: what the fixture's second process does."""
    with pytest.MonkeyPatch.context() as patch:
        materialize(make_platform(Path(root), patch), DAYS[0], DAYS[-1])


@pytest.fixture(scope="module")
def split_both_ways(tmp_path_factory):
    """The week as one range run (its checksums) in a second process while this one runs it a day at a
    time in another folder: the range run's checksums and the platform with every day built."""
    range_root = tmp_path_factory.mktemp("range") / "plant"
    script = f"from tests.test_range_equals_days import range_run; range_run({str(range_root)!r})"
    command = [sys.executable, "-c", script]
    in_another_process = subprocess.Popen(command, cwd=Path(__file__).parent.parent)
    try:
        with pytest.MonkeyPatch.context() as patch:
            day_by_day = make_platform(tmp_path_factory.mktemp("days") / "plant", patch)
            for day in DAYS:
                materialize(day_by_day, day, day)
            assert in_another_process.wait() == 0, "the range run failed (its output is above)"
            yield table_checksums(range_root / "warehouse.duckdb", range_root), day_by_day
    finally:
        in_another_process.kill()


def test_day_by_day_and_a_rerun_during_an_analysts_session_leave_the_range_runs_tables(split_both_ways):
    in_one_run, platform = split_both_ways
    copy = analysts_copy_of(platform.settings.warehouse_path)
    # an analyst's session, open on the analysts' copy for the whole rerun of the first day (as `make sql`)
    with duckdb.connect(str(copy), read_only=True) as analyst:
        seen = analyst.execute(OEE).fetchone()
        materialize(platform, DAYS[0], DAYS[0])  # the session keeps no writer out
        assert analyst.execute(OEE).fetchone() == seen  # and the run does not pull the data from under it
    one_by_one = table_checksums(platform.settings.warehouse_path, platform.settings.warehouse_path.parent)

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
    assert {"raw", "staging", "marts", "process_mining"} <= {name.split(".")[0] for name in in_one_run}
    with duckdb.connect(str(copy), read_only=True) as fresh:  # the next session opens the new copy
        assert fresh.execute(OEE).fetchone() == platform.query(OEE)[0]
    # both hold costs and crew figures: the owner writes, the plant's group reads, nobody else
    for database in (platform.settings.warehouse_path, copy):
        assert stat.S_IMODE(database.stat().st_mode) == 0o640, database


def test_a_reader_holding_the_warehouse_itself_blocks_no_day_and_keeps_the_reports(split_both_ways):
    _, platform = split_both_ways
    day = DAYS[-1]
    director = platform.settings.reports_dir / day / "daily" / "director.html"
    before = director.read_bytes()

    def run(first: str, last: str) -> dg.ExecuteInProcessResult:
        return platform.materialize_day(first, raise_on_error=False)

    blocked: dict[str, list[str]] = {}
    with duckdb.connect(str(platform.settings.warehouse_path), read_only=True):
        with pytest.raises(NotBlocked) as stopped:
            backfill([day], run, blocked, lock_waits_s=())
    assert stopped.value.failure.kind == "warehouse in use"
    assert "Could not set lock on file" in str(stopped.value) and "no day blocked" in str(stopped.value)
    assert blocked == {}
    assert director.read_bytes() == before  # the complete report stays; nothing INCOMPLETE replaced it


def test_every_kpi_of_the_days_reports_reads_right(split_both_ways):
    _, platform = split_both_ways
    pages = daily_pages(platform.settings.reports_dir, DAYS)
    assert len(pages) == 5 * len(DAYS)  # every role, every day
    checked = assert_reports_read_right(pages)
    assert len(checked.kpis_with_value) >= 10 and checked.changes_checked > 10


def test_the_weeks_cells_trace_to_their_material_and_count_as_the_oee_marts(split_both_ways):
    """The demo week's ocel schema, batches crossing six midnights: every completed cell to its rolls, coils
    and slurry batches; every day's cells per machine = the OEE marts' good + scrap (tests/ocel_checks.py)."""
    _, platform = split_both_ways
    assert assert_completed_cells_trace_to_their_material(platform.query) > 7 * 1000
    assert assert_cells_per_machine_day_are_the_oee_marts_good_and_scrap(platform.query) > 7 * 10_000
