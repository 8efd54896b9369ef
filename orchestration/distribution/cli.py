"""Deliver a factory day's role reports as they were rendered (the report asset or ``python -m
orchestration.reporting --day D``).

    python -m orchestration.distribution --day 2026-11-13 [--role quality] [--dry-run] [--resend]

Paths from the environment (GIGAFACTORY_REPORTS, GIGAFACTORY_STATE,
GIGAFACTORY_SHARED_FOLDER), SMTP settings too (see data/reporting/distribution.yaml).
"""

from __future__ import annotations

from orchestration.command_line import Parser, factory_day, fail, known
from orchestration.distribution.config import SmtpSettings, load_distribution, shared_folder
from orchestration.distribution.deliver import deliver_reports
from orchestration.plant import resolve_plant


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="python -m orchestration.distribution", description=__doc__.splitlines()[0])
    parser.add_argument("--day", type=factory_day, required=True, help="factory day, YYYY-MM-DD")
    parser.add_argument("--role", action="append", help="only this role (repeatable); default: every role")
    parser.add_argument("--dry-run", action="store_true", help="log what would be sent, send nothing")
    parser.add_argument(
        "--resend", action="store_true", help="send even to recipients who already have this very report"
    )
    args = parser.parse_args(argv)
    distribution = load_distribution()
    known(parser, "role", args.role, distribution.roles)
    from orchestration.reporting import published_daily_reports

    settings = resolve_plant().paths
    day = args.day.isoformat()
    reports = published_daily_reports(settings.reports_dir, day)
    if not reports:
        return fail(
            parser.prog,
            f"no daily report of {day} in {settings.reports_dir}: render it first "
            f"(python -m orchestration.reporting --day {day}, or materialize reports/daily_report)",
            1,
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
        file_group=settings.file_group,
    )
    for d in deliveries:
        print(
            f"{d.role:<12} {d.channel:<14} {d.recipient:<50} {d.status} ({d.attempts} attempts)",
            d.error or d.note or "",
        )
    return 0 if all(d.status != "failed" for d in deliveries) else 1
