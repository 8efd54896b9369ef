"""Render a factory day's role reports and deliver them.

    python -m orchestration.distribution --day 2026-11-13 [--role quality] [--dry-run] [--resend]

Paths from the environment (GIGAFACTORY_WAREHOUSE, GIGAFACTORY_REPORTS, GIGAFACTORY_STATE,
GIGAFACTORY_SHARED_FOLDER), SMTP settings too (see data/reporting/distribution.yaml).
"""

from __future__ import annotations

import duckdb

from orchestration.command_line import Parser, factory_day, fail, known
from orchestration.distribution.config import SmtpSettings, load_distribution, shared_folder
from orchestration.distribution.deliver import deliver_reports
from orchestration.plant import resolve_plant


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="python -m orchestration.distribution", description=__doc__.splitlines()[0])
    parser.add_argument("--day", type=factory_day, required=True, help="factory day, YYYY-MM-DD")
    parser.add_argument("--role", action="append", help="only this role (repeatable); default: every role")
    parser.add_argument("--dry-run", action="store_true", help="render and log, send nothing")
    parser.add_argument(
        "--resend", action="store_true", help="send even to recipients who already have this very report"
    )
    args = parser.parse_args(argv)
    distribution = load_distribution()
    known(parser, "role", args.role, distribution.roles)
    from orchestration.reporting import render_daily_reports  # the reporting package's per-role renderer

    plant = resolve_plant()
    settings = plant.paths
    if not settings.warehouse_path.exists():
        return fail(
            parser.prog, f"warehouse {settings.warehouse_path} does not exist: run make demo first", 1
        )
    day = args.day.isoformat()
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        reports = render_daily_reports(
            conn,
            day,
            settings.reports_dir,
            roles=args.role,
            calendar=plant.calendar,
            rca_state=settings.state_path,
        )
    deliveries = deliver_reports(
        reports,
        day,
        distribution,
        settings.state_path,
        shared_folder(settings.reports_dir),
        SmtpSettings.from_environment(),
        roles=args.role,
        dry_run=args.dry_run,
        resend=args.resend,
    )
    for d in deliveries:
        print(
            f"{d.role:<12} {d.channel:<14} {d.recipient:<50} {d.status} ({d.attempts} attempts)",
            d.error or "",
        )
    return 0 if all(d.status != "failed" for d in deliveries) else 1
