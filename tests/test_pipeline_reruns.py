"""Running a day again, while an analyst holds a session, and while a reader holds the warehouse itself.

The whole graph of a day three times: the end-to-end tier."""

from __future__ import annotations

import stat

import dagster as dg
import duckdb
import pytest

from orchestration.analysts_copy import analysts_copy_of
from orchestration.backfill import NotBlocked, backfill
from tests.conftest import day_through_the_graph

pytestmark = pytest.mark.e2e
DAY = "2026-11-13"  # a Friday


@pytest.fixture(scope="module")
def friday(tmp_path_factory):
    with day_through_the_graph(tmp_path_factory.mktemp("friday"), DAY) as built:
        yield built


def test_rematerializing_a_day_leaves_the_same_warehouse_while_an_analyst_holds_a_session(friday):
    platform, result = friday
    assert result.success
    first = platform.table_row_counts()
    copy = analysts_copy_of(platform.settings.warehouse_path)
    oee = "select round(sum(oee), 6) from marts.fct_oee_machine_day"
    # an analyst's session, open on the analysts' copy for the whole run (as `make sql` opens it)
    with duckdb.connect(str(copy), read_only=True) as analyst:
        seen = analyst.execute(oee).fetchone()
        assert platform.materialize_day(DAY).success  # the session keeps no writer out
        assert analyst.execute(oee).fetchone() == seen  # and the run does not pull the data from under it
    second = platform.table_row_counts()
    assert first == second
    assert first["marts.fct_process_events"] > 0
    assert {"raw", "staging", "marts", "process_mining"} <= {name.split(".")[0] for name in first}
    with duckdb.connect(str(copy), read_only=True) as fresh:  # the next session opens the new copy
        assert fresh.execute(oee).fetchone() == platform.query(oee)[0]
    # both hold costs and crew figures: the owner writes, the plant's group reads, nobody else
    for database in (platform.settings.warehouse_path, copy):
        assert stat.S_IMODE(database.stat().st_mode) == 0o640, database


def test_a_reader_holding_the_warehouse_itself_blocks_no_day_and_keeps_the_reports(friday):
    platform, _ = friday
    director = platform.settings.reports_dir / DAY / "daily" / "director.html"
    before = director.read_bytes()

    def run(first: str, last: str) -> dg.ExecuteInProcessResult:
        return platform.materialize_day(first, raise_on_error=False)

    blocked: dict[str, list[str]] = {}
    with duckdb.connect(str(platform.settings.warehouse_path), read_only=True):
        with pytest.raises(NotBlocked) as stopped:
            backfill([DAY], run, blocked, lock_waits_s=())
    assert stopped.value.failure.kind == "warehouse in use"
    assert "Could not set lock on file" in str(stopped.value) and "no day blocked" in str(stopped.value)
    assert blocked == {}
    assert director.read_bytes() == before  # the complete report stays; nothing INCOMPLETE replaced it
