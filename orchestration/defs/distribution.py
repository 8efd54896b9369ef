"""Each factory day's role reports, as the report asset published them, delivered to their recipients (shared
folder, SMTP)."""

from collections import Counter
from pathlib import Path

import dagster as dg

from orchestration.defs.resources import OperationalState, ReportShelf
from orchestration.distribution import SmtpSettings, deliver_reports, load_distribution, shared_folder
from orchestration.plant import Plant
from orchestration.reporting import published_daily_reports


def deliveries(
    context: dg.AssetExecutionContext,
    plant: dg.ResourceParam[Plant],
    reports: ReportShelf,
    state: OperationalState,
):
    distribution, smtp = load_distribution(), SmtpSettings.from_environment()
    summary, failures = {}, Counter()
    for day in context.partition_keys:
        # the files reports/daily_report wrote (not a second rendering): what was published goes out
        rendered = published_daily_reports(reports.reports_dir, day)
        shared = shared_folder(Path(reports.reports_dir))
        logged = deliver_reports(
            rendered, day, distribution, Path(state.path), shared, smtp, file_group=plant.paths.file_group
        )
        summary[day] = {
            status: sum(d.status == status for d in logged) for status in ("delivered", "unchanged", "failed")
        }
        failures.update((d.channel, d.error) for d in logged if d.status == "failed")
    # One line per reason, not one per recipient and day (an unset SMTP host fails every e-mail alike); the
    # delivery log in the state file has every attempt.
    for (channel, error), count in sorted(failures.items()):
        context.log.warning(f"{count} {channel} deliveries failed: {error}")
    return dg.MaterializeResult(metadata={"deliveries": dg.MetadataValue.json(summary)})


def build_distribution(factory_days: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    return dg.asset(
        key=["distribution", "deliveries"],
        group_name="reports",
        kinds={"email"},
        deps=[["reports", "daily_report"]],
        partitions_def=factory_days,
        backfill_policy=dg.BackfillPolicy.single_run(),
        description="Delivers each role's daily report as reports/daily_report published it (shared folder, "
        "SMTP) with retries; every delivery is a row of distribution.delivery_log in the state file. A "
        "rerun does not send a recipient the same report again (logged unchanged); a corrected or "
        "completed one goes out.",
    )(deliveries)
