"""Run every asset check of a factory-day window against the current lake and warehouse, as CI would.

    python -m orchestration.checks --from 2026-11-09 --to 2026-11-15

Two kinds, as in the Dagster UI: the quality gate's checks on the raw tables (Great Expectations suites,
reconciliation, volume, quarantine, sensor gaps), executed in process on the window's partitions; and the dbt
data tests on staging, marts and ocel (`dbt test` over the same window). Then the window's daily reports,
as their readers get them: every KPI with its unit, every change in words that agree with its direction
(reporting/readability.py). Prints one line per check and exits 1 when an error-severity check fails or a
report reads wrong (warnings are printed, not fatal).
"""

from __future__ import annotations

import sys
import warnings

import dagster as dg

from orchestration.command_line import Parser, add_day_range, day_range
from orchestration.dbt_runner import run_dbt_tests
from orchestration.partition_ranges import RANGE_END, RANGE_START, days_between


def run_gate_checks(first: str, last: str) -> list[dg.AssetCheckEvaluation]:
    from orchestration.definitions import build_definitions
    from orchestration.plant import resolve_plant

    with warnings.catch_warnings():  # Dagster's notices about its own beta and preview parameters
        warnings.simplefilter("ignore", dg.BetaWarning)
        warnings.simplefilter("ignore", dg.PreviewWarning)
        defs = build_definitions(resolve_plant())
    job = defs.resolve_implicit_global_asset_job_def()
    checks = {key for key in defs.resolve_asset_graph().asset_check_keys if key.asset_key.path[0] == "raw"}
    subset = job.get_subset(asset_check_selection=checks, asset_selection=set())
    result = subset.execute_in_process(
        # one line per check is printed below: Dagster's console says only what went wrong
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
        instance=dg.DagsterInstance.ephemeral(),
        tags={RANGE_START: first, RANGE_END: last},
        raise_on_error=False,
    )
    return result.get_asset_check_evaluations()


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="python -m orchestration.checks", description=__doc__.splitlines()[0])
    add_day_range(parser)
    args = parser.parse_args(argv)
    day_range(parser, args.first, args.last)
    failed_errors = 0
    for evaluation in sorted(run_gate_checks(args.first, args.last), key=lambda e: e.check_name):
        status = "passed" if evaluation.passed else evaluation.severity.value.lower()
        failed_errors += not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
        line = f"{status:7} {evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
        print(line if evaluation.passed else f"{line}: {evaluation.description}")
    dbt_status = run_dbt_tests(args.first, args.last)
    status = "passed" if dbt_status == 0 else "error"
    print(f"{status:7} dbt data tests on staging, marts and ocel ({args.first}..{args.last})")
    readable = reports_read_right(args.first, args.last)
    return 1 if failed_errors or dbt_status or not readable else 0


def reports_read_right(first: str, last: str) -> bool:
    from orchestration.reporting.readability import check_reports, daily_pages
    from orchestration.settings import load_settings

    pages = daily_pages(load_settings().reports_dir, days_between(first, last))
    checked = check_reports(pages)
    status = "passed" if pages and not checked.problems else "error"
    print(
        f"{status:7} daily reports read right ({first}..{last}): {len(pages)} reports, "
        f"{len(checked.kpis_with_value)} KPIs with their unit, "
        f"{checked.changes_checked} changes said as they moved"
    )
    for problem in checked.problems[:20]:
        print(f"        {problem}")
    return status == "passed"


if __name__ == "__main__":
    sys.exit(main())
