"""On-demand reports for any factory day, from the warehouse (opened read-only):

    python -m orchestration.reporting --day 2026-11-14                  # every role's daily report
    python -m orchestration.reporting --day 2026-11-14 --role quality   # one role (repeatable)
    python -m orchestration.reporting --day 2026-11-14 --handover late  # one shift's handover (repeatable)

Writes under GIGAFACTORY_REPORTS (or --reports) and prints each file; exit status 2 when a report is
incomplete.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb

from orchestration.command_line import Parser, factory_day_text, known
from orchestration.plant import resolve_plant
from orchestration.reporting.publish import render_daily_reports, render_shift_handover
from orchestration.reporting.roles import load_reporting_config


def main(argv: list[str] | None = None) -> int:
    plant = resolve_plant()
    settings = plant.paths
    parser = Parser(prog="python -m orchestration.reporting", description=__doc__.splitlines()[0])
    parser.add_argument("--day", type=factory_day_text, required=True, help="factory day, YYYY-MM-DD")
    parser.add_argument("--role", action="append", help="a role of data/reporting/roles.yaml (default: all)")
    parser.add_argument("--handover", action="append", metavar="SHIFT", help="render this shift's handover")
    parser.add_argument("--warehouse", type=Path, default=settings.warehouse_path)
    parser.add_argument("--reports", type=Path, default=settings.reports_dir)
    args = parser.parse_args(argv)
    known(parser, "role", args.role, load_reporting_config().roles)
    known(parser, "shift", args.handover, [slot.name for slot in plant.calendar.shifts])
    if not args.warehouse.exists():
        print(f"warehouse {args.warehouse} does not exist: materialize the marts first", file=sys.stderr)
        return 1
    with duckdb.connect(str(args.warehouse), read_only=True) as conn:
        conn.execute("set TimeZone = 'UTC'")
        rendered = {}
        if args.handover:
            for shift in args.handover:
                rendered[f"handover {shift}"] = render_shift_handover(
                    conn,
                    args.day,
                    shift,
                    args.reports,
                    calendar=plant.calendar,
                    file_group=settings.file_group,
                )
        if args.role or not args.handover:
            daily = render_daily_reports(
                conn,
                args.day,
                args.reports,
                roles=args.role,
                calendar=plant.calendar,
                rca_state=settings.state_path,
                file_group=settings.file_group,
            )
            for role, report in daily.items():
                rendered[f"daily {role}"] = report
    for name, report in rendered.items():
        state = "complete" if report.complete else "INCOMPLETE: " + "; ".join(report.missing)
        print(f"{name:<20} {report.html}  ({state})")
    return 0 if all(report.complete for report in rendered.values()) else 2


if __name__ == "__main__":
    sys.exit(main())
