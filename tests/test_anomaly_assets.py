"""The anomaly and SPC assets on a small pipeline warehouse: rows land, and a rerun of a day is idempotent."""

from __future__ import annotations

import dagster as dg
import pytest

from tests.conftest import Platform, make_platform

DAY = "2026-11-13"  # the first built day: the sensors are their own (warm-up) baseline, SPC too


def _materialize(platform: Platform, assets, day: str, selection=None) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        assets,
        partition_key=day,
        selection=selection,
        resources=platform.resources,
        instance=dg.DagsterInstance.ephemeral(),
    )


def upstream(platform: Platform) -> dg.AssetSelection:
    """Only what the two assets read: the landed day, the raw views (dbt's on-run-start), the quality mart."""
    return (
        dg.AssetSelection.assets(platform.asset("raw", "production_events"))
        | dg.AssetSelection.keys(["marts", "fct_quality_measurements"]).upstream().materializable()
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One factory day through extraction and the warehouse, then both analytics assets on it, twice."""
    with pytest.MonkeyPatch.context() as patch:
        platform = make_platform(tmp_path_factory.mktemp("anomaly_assets"), patch)
        built = [platform.asset("raw", "production_events"), platform.asset("marts", "fct_process_events")]
        assert _materialize(platform, built, DAY, upstream(platform)).success
        analytics = [
            platform.asset("analytics", "sensor_anomalies"),
            platform.asset("analytics", "spc_violations"),
        ]
        first = _materialize(platform, analytics, DAY)
        snapshot = _snapshot(platform)
        second = _materialize(platform, analytics, DAY)
        yield platform, first, snapshot, second


def _snapshot(platform: Platform) -> dict[str, list[tuple]]:
    return {
        table: platform.query(f"select * exclude (production_date) from analytics.{table} order by all")
        for table in ("sensor_anomalies", "spc_violations", "spc_charts")
    }


def test_sensor_anomalies_land_for_the_day(built):
    platform, first, _, _ = built
    assert first.success
    rows = platform.query(
        "select kind, count(*), min(start_ts < end_ts), min(evidence like '{%') "
        "from analytics.sensor_anomalies "
        f"where production_date = '{DAY}' group by kind"
    )
    kinds = {kind: n for kind, n, ordered, json_evidence in rows if ordered and json_evidence}
    assert len(kinds) == len(rows) and kinds.get("gap", 0) > 0  # the simulator silences machines every day
    # Each planted gap of the day is reported on its sensor.
    missed = platform.query(
        f"""select t.anomaly_id from truth.sensor_anomalies t where t.date = '{DAY}' and t.kind = 'gap'
            and not exists (select 1 from analytics.sensor_anomalies a where a.sensor_id = t.sensor_id
                and a.kind = 'gap' and a.start_ts < t.end_ts and a.end_ts > t.start_ts)"""
    )
    assert missed == []


def test_spc_charts_and_violations_land_for_the_day(built):
    platform, _, _, _ = built
    charts = platform.query(
        "select characteristic, machine_id, lcl < center and center < ucl, measurements "
        "from analytics.spc_charts "
        f"where production_date = '{DAY}'"
    )
    measured = platform.query(
        "select count(distinct (characteristic, machine_id, product_id)) from marts.fct_quality_measurements "
        f"where production_date = '{DAY}' and measured_value is not null"
    )[0][0]
    assert len(charts) == measured > 0 and all(row[2] for row in charts)
    rules = platform.query("select distinct rule from analytics.spc_violations")
    assert {r for (r,) in rules} <= {"WE1", "WE2", "WE3", "WE4", "MR"} | {f"N{n}" for n in range(1, 9)}


def test_a_rerun_of_the_day_replaces_its_rows(built):
    platform, _, snapshot, second = built
    assert second.success
    assert _snapshot(platform) == snapshot
    assert sum(len(rows) for rows in snapshot.values()) > 0
