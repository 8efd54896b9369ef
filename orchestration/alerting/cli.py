"""``alerts``: run the alerting process, and list, acknowledge, shelve and clear alerts.

    alerts serve [--broker-port 1883] [--http-port 8788] [--replay]
    alerts list [--all]              the open alerts (--all: the closed ones too)
    alerts show ID                   an alert's history
    alerts ack ID [--by NAME]
    alerts shelve ID --for 2h [--by NAME]
    alerts clear ID [--by NAME]
    alerts check [RULES]             validate a rules file

An ID may be shortened to any unique prefix. The state file is GIGAFACTORY_STATE (or --state), the rules
GIGAFACTORY_ALERT_RULES (or --rules, default data/alerting/rules.yaml).
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path

from orchestration.alerting.manager import AlertManager, AlertNotFound
from orchestration.alerting.process import (
    AlertingProcess,
    ProcessConfig,
    alert_history,
    list_alerts,
    parse_duration,
)
from orchestration.alerting.rules import RulesError, load_rules
from orchestration.settings import load_settings


def _state(args) -> Path:
    if args.state:
        return Path(args.state)
    return load_settings().state_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="alerts", description=__doc__.split("\n\n")[0])
    parser.add_argument("--state", help="the state file (default: GIGAFACTORY_STATE or beside the warehouse)")
    parser.add_argument(
        "--rules",
        type=Path,
        default=load_settings().alert_rules_path,
        help="the rules file (default: GIGAFACTORY_ALERT_RULES, else data/alerting/rules.yaml)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the alerting process beside the ingestion service")
    serve.add_argument("--broker-host", default="127.0.0.1")
    serve.add_argument("--broker-port", type=int, default=1883)
    serve.add_argument("--http-port", type=int, default=8788, help="the loopback endpoint (0: any free port)")
    serve.add_argument("--replay", action="store_true", help="readings of past days: do not judge their lag")
    listing = commands.add_parser("list", help="the open alerts")
    listing.add_argument("--all", action="store_true")
    listing.add_argument("--json", action="store_true")
    show = commands.add_parser("show", help="an alert's history")
    show.add_argument("alert_id")
    for name in ("ack", "shelve", "clear"):
        command = commands.add_parser(name, help=f"{name} an alert")
        command.add_argument("alert_id")
        command.add_argument("--by", default=None, help="who (default: the user's login)")
        if name == "shelve":
            command.add_argument("--for", dest="duration", required=True, help="e.g. 30m, 2h, 1d")
    check = commands.add_parser("check", help="validate a rules file")
    check.add_argument("path", nargs="?")
    args = parser.parse_args(argv)

    try:
        if args.command == "check":
            rules = load_rules(args.path or args.rules)
            print(f"{rules.source}: {len(rules.rules)} rules for {len(rules.teams)} teams: ok")
            return 0
        state = _state(args)
        if args.command == "serve":
            from orchestration.distribution.config import SmtpSettings
            from orchestration.plant import resolve_plant

            plant = resolve_plant()
            config = ProcessConfig(
                state_path=state,
                broker_host=args.broker_host,
                broker_port=args.broker_port,
                http_port=args.http_port,
                judge_lag=not args.replay,
                lake=plant.paths.lake_dir,
                calendar=plant.calendar,
            )
            AlertingProcess(config, load_rules(args.rules), SmtpSettings.from_environment()).serve_forever()
            return 0
        if args.command == "list":
            alerts = list_alerts(state, include_closed=args.all)
            if args.json:
                print(json.dumps(alerts, indent=1))
            for alert in [] if args.json else alerts:
                flags = ("acknowledged " if alert["acknowledged"] else "") + (
                    f"shelved until {alert['shelved_until']} " if alert["shelved_until"] else ""
                )
                print(
                    f"{alert['alert_id']}  {alert['priority']:<8} {alert['team']:<11} {alert['state']:<8} "
                    f"{flags}{alert['raised_at'][:16]}  {alert['sentence']}"
                )
            if not alerts and not args.json:
                print("no open alerts")
            return 0
        if args.command == "show":
            for event in alert_history(state, args.alert_id):
                print(
                    f"{event['event_ts'][:19]}  {event['event']:<12} {event['actor'] or ''}  "
                    f"{event['detail'] or ''}"
                )
            return 0
        manager = AlertManager(state, load_rules(args.rules), actor=f"cli@{getpass.getuser()}")
        by = args.by or getpass.getuser()
        if args.command == "ack":
            alert = manager.acknowledge(args.alert_id, by)
        elif args.command == "shelve":
            alert = manager.shelve(args.alert_id, parse_duration(args.duration), by)
        else:
            alert = manager.clear(args.alert_id, by)
        shelved = f", shelved until {alert['shelved_until']}" if alert["shelved_until"] else ""
        print(f"{alert['alert_id']}: {alert['state']}, acknowledged={alert['acknowledged']}{shelved}")
        return 0
    except (AlertNotFound, RulesError, ValueError) as error:
        print(f"alerts: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
