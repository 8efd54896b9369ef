"""The reports of each factory day: every role's daily report (with the day's data-quality page) and every
shift's handover, rendered from the marts, analytics and process-mining tables."""

from pathlib import Path

import dagster as dg

from orchestration.defs.resources import OperationalState, ReportShelf, Warehouse
from orchestration.plant import Plant
from orchestration.reporting import (
    load_held_back,
    render_daily_reports,
    render_quality_page,
    render_shift_handover,
)

# Set on a report run launched after a blocking check stopped the day: the failed checks, comma-separated.
BLOCKED_CHECKS_TAG = "gigafactory/blocked_checks"

REPORT_INPUTS = [
    ["marts", "fct_oee_factory_day"],
    ["marts", "fct_oee_line_day"],
    ["marts", "fct_oee_machine_day"],
    ["marts", "fct_oee_machine_shift"],
    ["marts", "fct_kpi_coverage"],
    ["marts", "fct_quality_yield"],
    ["marts", "fct_process_capability"],
    ["marts", "fct_defect_pareto"],
    ["marts", "fct_economics_day"],
    ["marts", "fct_shift_comparison"],
    ["analytics", "sensor_anomalies"],
    ["analytics", "spc_violations"],
    ["process_mining", "discovered_models"],
    ["process_mining", "conformance"],
    ["rca", "cases"],
]
HANDOVER_INPUTS = [
    ["marts", "fct_machine_state_intervals"],
    ["marts", "fct_oee_machine_shift"],
    ["marts", "fct_process_events"],
    ["marts", "dim_batch"],
    ["analytics", "sensor_anomalies"],
    ["analytics", "spc_violations"],
]


def blocked_checks(context) -> tuple[str, ...]:
    tag = context.run.tags.get(BLOCKED_CHECKS_TAG, "")
    return tuple(name for name in tag.split(",") if name)


def daily_report(
    context: dg.AssetExecutionContext,
    plant: dg.ResourceParam[Plant],
    warehouse: Warehouse,
    reports: ReportShelf,
    state: OperationalState,
):
    paths, incomplete = {}, {}
    blocked = blocked_checks(context)
    with warehouse.connect(read_only=True) as conn:
        for day in context.partition_keys:
            # the quality page first: each role's report links to it when it exists
            render_quality_page(reports.day_dir(day), day, load_held_back(conn, day))
            rendered = render_daily_reports(
                conn,
                day,
                reports.reports_dir,
                calendar=plant.calendar,
                blocked_checks=blocked,
                rca_state=Path(state.path),
                file_group=plant.paths.file_group,
            )
            paths[day] = {role: str(r.html) for role, r in rendered.items()}
            missing = sorted({item for r in rendered.values() for item in r.missing})
            if missing:
                incomplete[day] = missing
                context.log.warning(f"{day} reports are INCOMPLETE: {'; '.join(missing)}")
    return dg.MaterializeResult(
        metadata={"reports": dg.MetadataValue.json(paths), "incomplete": dg.MetadataValue.json(incomplete)}
    )


def shift_handovers(
    context: dg.AssetExecutionContext,
    plant: dg.ResourceParam[Plant],
    warehouse: Warehouse,
    reports: ReportShelf,
):
    paths = {}
    with warehouse.connect(read_only=True) as conn:
        for day in context.partition_keys:
            for slot in plant.calendar.shifts:
                rendered = render_shift_handover(
                    conn,
                    day,
                    slot.name,
                    reports.reports_dir,
                    calendar=plant.calendar,
                    file_group=plant.paths.file_group,
                )
                paths[f"{day} {slot.name}"] = str(rendered.html)
    return dg.MaterializeResult(metadata={"handovers": dg.MetadataValue.json(paths)})


class ShiftHandoverConfig(dg.Config):
    day: str  # factory day, YYYY-MM-DD
    shift: str  # a shift of the configured pattern, e.g. early


@dg.op(description="Render one shift's handover from the warehouse as it is at the shift end.")
def render_one_shift_handover(
    context: dg.OpExecutionContext,
    config: ShiftHandoverConfig,
    plant: dg.ResourceParam[Plant],
    warehouse: Warehouse,
    reports: ReportShelf,
) -> str:
    with warehouse.connect(read_only=True) as conn:
        rendered = render_shift_handover(
            conn,
            config.day,
            config.shift,
            reports.reports_dir,
            calendar=plant.calendar,
            file_group=plant.paths.file_group,
        )
    if not rendered.complete:
        context.log.warning(f"handover {config.day} {config.shift} INCOMPLETE: {'; '.join(rendered.missing)}")
    context.add_output_metadata({"html": str(rendered.html), "complete": rendered.complete})
    return str(rendered.html)


@dg.job(description="One shift's handover (config: day, shift), run at each shift end by its schedule.")
def shift_handover_job():
    render_one_shift_handover()


def build_reports(factory_days: dg.PartitionsDefinition) -> tuple[list[dg.AssetsDefinition], list]:
    """The report assets, and the jobs that render them on demand: ``daily_report_job`` (from the UI's
    Launchpad for any partition, and after a blocked day; downstream: whatever consumes the reports, their
    delivery, goes out with them) and ``shift_handover_job`` (one shift, run at each shift end)."""
    daily = dg.asset(
        key=["reports", "daily_report"],
        group_name="reports",
        kinds={"html"},
        deps=REPORT_INPUTS,
        partitions_def=factory_days,
        backfill_policy=dg.BackfillPolicy.single_run(),
        description="Each role's daily report (director, production, quality, maintenance, finance: "
        "<reports>/<day>/daily/<role>.html + JSON) and the day's data-quality page "
        "(<reports>/<day>/quality/).",
    )(daily_report)
    handovers = dg.asset(
        key=["reports", "shift_handovers"],
        group_name="reports",
        kinds={"html"},
        deps=HANDOVER_INPUTS,
        partitions_def=factory_days,
        backfill_policy=dg.BackfillPolicy.single_run(),
        description="Every shift's handover of the day (<reports>/<day>/handover/<shift>.html + JSON): open "
        "issues, machines down or degraded, WIP and queues, what the next shift should watch.",
    )(shift_handovers)
    daily_report_job = dg.define_asset_job(
        name="daily_report_job",
        selection=dg.AssetSelection.assets(daily, handovers).downstream(),
        description="Only the reports of factory days, from whatever the warehouse holds (marked incomplete "
        "when inputs are missing or a blocking check failed).",
    )
    return [daily, handovers], [daily_report_job, shift_handover_job]
