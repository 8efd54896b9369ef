"""Live alerts to the team that owns a problem, managed as ISA-18.2 teaches (docs/alerting.md).

rules.py reads data/alerting/rules.yaml (who hears of what, how); live.py scores arriving readings; batch.py
turns the daily run's results (SPC alarms, rework and scrap, breakdowns, blocked days, RCA cases) into
signals; manager.py keeps one alert per open problem and team with its history in the state file (schema
``alerts``); dispatch.py sends the outbox by e-mail, webhook and MQTT; process.py runs the alerting process
beside the ingestion service; cli.py is ``alerts list | ack | shelve | clear``. No Dagster import here.
"""

from orchestration.alerting.manager import AlertManager, Signal
from orchestration.alerting.rules import AlertRules, RulesError, load_rules

__all__ = ["AlertManager", "AlertRules", "RulesError", "Signal", "load_rules"]
