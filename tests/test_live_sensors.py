"""Live readings reach the daily warehouse: the Dagster sensor finds the factory days whose minutes landed
and the sensor marts of those days are rebuilt with them, without rerunning extraction."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg

from orchestration.defs.live_sensors import build_live_sensors
from orchestration.ingestion.lander import Lander

DAY = "2026-11-09"
LIVE_START_US = int(datetime(2026, 11, 9, 12, 0, tzinfo=UTC).timestamp() * 1e6)  # 13:00 in Berlin


def test_landed_live_minutes_rebuild_the_sensor_marts_of_their_day(platform):
    resources, instance = platform.resources, dg.DagsterInstance.ephemeral()
    # The day's extraction and its sensor marts only (not every mart, nor the raw checks: not what is tested).
    dg.materialize(
        [platform.asset("raw", "production_events"), platform.asset("marts", "fct_sensor_hourly")],
        selection=dg.AssetSelection.assets(platform.asset("raw", "production_events"))
        | dg.AssetSelection.keys(["marts", "fct_sensor_hourly"]).upstream().materializable(),
        partition_key=DAY,
        resources=resources,
        instance=instance,
    )
    hourly = (
        "select coalesce(sum(reading_count), 0) from marts.fct_sensor_hourly where sensor_id = 'GW-1.probe'"
    )
    assert platform.query(hourly) == [(0,)]

    # A gateway's two minutes of 1 Hz readings, landed and compacted by the ingestion service's lander.
    lander = Lander(platform.settings.lake_dir, platform.plant.calendar, lateness_s=0.0, idle_close_s=0.0)
    lander.land(
        [
            ("GW-1.probe", "GW-1", "temperature", "degC", LIVE_START_US + s * 1_000_000, 20.0)
            for s in range(120)
        ]
    )
    lander.compact_due(force=True)

    context = dg.build_sensor_context(instance=instance, resources={"lake": resources["lake"]})
    _, live_sensor_minutes = build_live_sensors()
    requests = live_sensor_minutes(context)
    assert [r.partition_key for r in requests] == [DAY]
    again = live_sensor_minutes(
        dg.build_sensor_context(cursor=context.cursor, resources={"lake": resources["lake"]})
    )
    assert isinstance(again, dg.SkipReason)

    result = dg.materialize(
        [platform.asset("marts", "fct_sensor_hourly")],
        selection=dg.AssetSelection.assets(
            ["staging", "stg_mes__sensor_readings"], ["marts", "fct_sensor_hourly"]
        ),
        partition_key=DAY,
        resources=resources,
        instance=instance,
    )
    assert result.success
    assert platform.query(hourly) == [(120,)]
