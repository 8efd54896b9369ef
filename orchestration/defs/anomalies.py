"""Anomaly detection on each factory day's sensor readings, and SPC on its quality measurements."""

import dagster as dg

from orchestration.anomalies.alarms import write_alarms
from orchestration.anomalies.plant import HISTORY_DAYS, detect_day, sensor_alarms, write_sensor_anomalies
from orchestration.anomalies.quality_control import spc_day, write_spc
from orchestration.defs.resources import Warehouse
from orchestration.plant import Plant


class SensorAnomalyConfig(dg.Config):
    history_days: int = HISTORY_DAYS  # factory days before the judged one that form the sensors' baseline


def sensor_anomalies(
    context: dg.AssetExecutionContext,
    config: SensorAnomalyConfig,
    plant: dg.ResourceParam[Plant],
    warehouse: Warehouse,
):
    by_day: dict[str, dict[str, int]] = {}
    for day in context.partition_keys:
        with warehouse.connect(read_only=True) as conn:
            events = detect_day(conn, day, plant.calendar, config.history_days)
            alarms = sensor_alarms(conn, day, events, plant.calendar)
        with warehouse.connect() as conn:  # one short write per day: DuckDB allows one writer
            write_sensor_anomalies(conn, day, events)
            write_alarms(conn, day, "sensor", alarms)
        counts: dict[str, int] = {"events": len(events)}
        for alarm in alarms:
            counts[f"{alarm.priority}_alarms"] = counts.get(f"{alarm.priority}_alarms", 0) + 1
        by_day[day] = counts
    return dg.MaterializeResult(metadata={"events_and_alarms_by_day": dg.MetadataValue.json(by_day)})


def spc_violations(context: dg.AssetExecutionContext, plant: dg.ResourceParam[Plant], warehouse: Warehouse):
    by_day: dict[str, dict[str, int]] = {}
    for day in context.partition_keys:
        with warehouse.connect() as conn:
            judged = spc_day(conn, day, timezone=plant.calendar.timezone)
            write_spc(conn, day, *judged)
        counts = {"violations": len(judged.violations)}
        for alarm in judged.alarms:
            counts[f"{alarm.priority}_alarms"] = counts.get(f"{alarm.priority}_alarms", 0) + 1
        by_day[day] = counts
    return dg.MaterializeResult(metadata={"violations_and_alarms_by_day": dg.MetadataValue.json(by_day)})


def build_analytics(factory_days: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    sensors = dg.asset(
        key=["analytics", "sensor_anomalies"],
        group_name="analytics",
        kinds={"numpy", "duckdb"},
        deps=[
            ["raw", "sensor_readings"],
            ["marts", "fct_sensor_hourly"],
            ["marts", "fct_machine_state_intervals"],
            ["marts", "fct_process_events"],
        ],
        partitions_def=factory_days,
        backfill_policy=dg.BackfillPolicy.single_run(),
        description="Spikes, level shifts, drifts, stuck values, gaps and multivariate deviations of the "
        "day's sensors, judged in their machine's context against the three days before (changeovers, "
        "planned maintenance and breakdowns excluded); one alarm per machine and problem, repeats folded "
        "(analytics.alarms, source sensor).",
    )(sensor_anomalies)
    spc = dg.asset(
        key=["analytics", "spc_violations"],
        group_name="analytics",
        kinds={"duckdb"},
        deps=[["marts", "fct_quality_measurements"], ["marts", "fct_process_events"]],
        partitions_def=factory_days,
        backfill_policy=dg.BackfillPolicy.single_run(),
        description="Individuals / moving-range charts per characteristic, machine and product with limits "
        "from the batches before the day; Western Electric and Nelson rule firings "
        "(analytics.spc_violations), Cp/Cpk per chart (analytics.spc_charts) and one alarm per chart out of "
        "control (analytics.alarms, source spc).",
    )(spc_violations)
    return [sensors, spc]
