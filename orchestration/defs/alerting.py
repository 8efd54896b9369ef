"""Alerts from the daily run: the day's SPC alarms, rework and scrap, long breakdowns and new RCA cases raise
alerts when their assets have materialized (the asset ``alerting/batch_alerts``), and a day the quality gate
blocked raises one when its INCOMPLETE report is published (a sensor on ``reports/daily_report``). The live
signals come from the alerting process beside the ingestion service (``alerts serve``)."""

from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg

from orchestration.alerting.batch import blocked_day_signals, day_signals
from orchestration.alerting.dispatch import Dispatcher
from orchestration.alerting.manager import AlertManager
from orchestration.alerting.rules import load_rules
from orchestration.defs.reports import BLOCKED_CHECKS_TAG
from orchestration.defs.resources import OperationalState, Warehouse
from orchestration.distribution.config import SmtpSettings
from orchestration.plant import Plant


def _send(state_path: Path, rules, context) -> dict:
    dispatcher = Dispatcher(state_path, rules, smtp=SmtpSettings.from_environment())
    try:
        dispatcher.deliver_due()
    finally:
        dispatcher.close()
    if dispatcher.counters["failed"] or dispatcher.counters["retrying"]:
        context.log.warning(
            f"alerts: {dispatcher.counters['failed']} messages failed, "
            f"{dispatcher.counters['retrying']} wait "
            "for a retry (alerts.outbox in the state file has the reasons)"
        )
    return dict(dispatcher.counters)


def batch_alerts(
    context: dg.AssetExecutionContext,
    plant: dg.ResourceParam[Plant],
    warehouse: Warehouse,
    state: OperationalState,
):
    rules = load_rules(plant.paths.alert_rules_path)
    manager = AlertManager(Path(state.path), rules, actor="dagster")
    raised = {}
    with warehouse.connect(read_only=True) as conn:
        for day in context.partition_keys:
            raised[day] = manager.observe(day_signals(conn, Path(state.path), date.fromisoformat(day)))
    manager.tick(datetime.now(UTC))
    sent = _send(Path(state.path), rules, context)
    return dg.MaterializeResult(
        metadata={"raised": dg.MetadataValue.json(raised), "messages": dg.MetadataValue.json(sent)}
    )


def build_alerting(factory_days: dg.PartitionsDefinition) -> tuple[dg.AssetsDefinition, dg.SensorDefinition]:
    asset = dg.asset(
        key=["alerting", "batch_alerts"],
        group_name="alerting",
        kinds={"duckdb"},
        deps=[
            ["analytics", "spc_violations"],
            ["marts", "fct_quality_yield"],
            ["marts", "fct_machine_state_intervals"],
            ["rca", "cases"],
        ],
        partitions_def=factory_days,
        backfill_policy=dg.BackfillPolicy.single_run(),
        description="The day's SPC alarms, rework and scrap over their limits, long breakdowns and new RCA "
        "cases, routed by data/alerting/rules.yaml to their team (alerts.alerts in the state file, one "
        "alert per problem: a rerun raises nothing again) and sent by e-mail, webhook and MQTT.",
    )(batch_alerts)

    @dg.asset_sensor(
        asset_key=dg.AssetKey(["reports", "daily_report"]),
        name="blocked_day_alerts",
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="A factory day the quality gate blocked: its INCOMPLETE report is published with the "
        "blocked checks; the director's alert goes out then (rule signal blocked_day).",
    )
    def blocked_day_alerts(
        context: dg.SensorEvaluationContext,
        asset_event: dg.EventLogEntry,
        plant: dg.ResourceParam[Plant],
        state: OperationalState,
    ):
        run = context.instance.get_run_by_id(asset_event.run_id)
        tag = (run.tags if run else {}).get(BLOCKED_CHECKS_TAG, "")
        blocked = tuple(name for name in tag.split(",") if name)
        day = asset_event.dagster_event.partition if asset_event.dagster_event else None
        if not blocked or not day:
            return dg.SkipReason("the report's day was not blocked")
        rules = load_rules(plant.paths.alert_rules_path)
        at = datetime.fromtimestamp(asset_event.timestamp, UTC)
        raised = AlertManager(Path(state.path), rules, actor="dagster").observe(
            blocked_day_signals(date.fromisoformat(day), blocked, at)
        )
        _send(Path(state.path), rules, context)
        return dg.SkipReason(f"blocked day {day}: {len(raised)} alert(s) raised")

    return asset, blocked_day_alerts
