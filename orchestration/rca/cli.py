"""Command line of the RCA cases.

    python -m orchestration.rca open --day 2026-11-13          # detect the day's signals, open/refresh cases
    python -m orchestration.rca list [--status open]
    python -m orchestration.rca show RCA-20261113-spc-coating-thickness
    python -m orchestration.rca update RCA-... --status investigating --by "J. Weber" --note "checking HVAC"

Paths from the environment (GIGAFACTORY_WAREHOUSE, GIGAFACTORY_STATE; see orchestration/settings.py).
"""

from __future__ import annotations

import json
import sys

import duckdb

from orchestration.command_line import Parser, factory_day
from orchestration.rca.cases import open_cases
from orchestration.rca.store import (
    STATUSES,
    IllegalTransition,
    list_cases,
    show_case,
    state_connection,
    transition,
)
from orchestration.settings import load_settings


def _parser() -> Parser:
    parser = Parser(prog="python -m orchestration.rca", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    opening = commands.add_parser("open", help="open or refresh the cases of a factory day")
    opening.add_argument("--day", type=factory_day, required=True, help="factory day, YYYY-MM-DD")
    listing = commands.add_parser("list", help="list cases, newest first")
    listing.add_argument("--status", choices=STATUSES)
    showing = commands.add_parser("show", help="a case with its factors, template and history (JSON)")
    showing.add_argument("case_id")
    update = commands.add_parser("update", help="move a case through its lifecycle")
    update.add_argument("case_id")
    update.add_argument("--status", choices=STATUSES, required=True)
    update.add_argument("--by", required=True, help="who makes the change")
    update.add_argument("--note", default=None)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = load_settings()
    try:
        if args.command == "open":
            with duckdb.connect(str(settings.warehouse_path), read_only=True) as warehouse:
                warehouse.execute("SET TimeZone = 'UTC'")
                opened = open_cases(warehouse, settings.state_path, args.day)
            print(f"{args.day}: {len(opened.case_ids)} case(s), {len(opened.new_case_ids)} new")
            for case_id in opened.case_ids:
                print(f"  {case_id}{'  (new)' if case_id in opened.new_case_ids else ''}")
        elif args.command == "list":
            with state_connection(settings.state_path, read_only=True) as state:
                for case in list_cases(state, args.status):
                    p = case["top_factor_p_value"]
                    print(
                        f"{case['case_id']:<48} {case['status']:<15} {case['top_factor'] or '-'}"
                        f"{f' (p = {p:.2g})' if p is not None else ''}"
                        f"{'  recurring of ' + case['recurring_of'] if case['recurring_of'] else ''}"
                    )
        elif args.command == "show":
            with state_connection(settings.state_path, read_only=True) as state:
                print(json.dumps(show_case(state, args.case_id), indent=2, default=str))
        else:
            with state_connection(settings.state_path) as state:
                moved = transition(state, args.case_id, args.status, args.by, args.note)
            print(f"{moved['case_id']}: {moved['from_status']} -> {moved['to_status']}")
    except (IllegalTransition, KeyError, FileNotFoundError) as error:
        print(f"error: {error.args[0] if error.args else error}", file=sys.stderr)
        return 2
    return 0
