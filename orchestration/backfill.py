"""Materialize a range of factory days so that a day the quality gate blocks stops only itself.

    python -m orchestration.backfill --from 2026-11-09 --to 2026-11-15

The whole asset graph (with its checks) runs for the range as one run, the fast path: one dbt invocation,
one process-mining pass. If a blocking check fails, the run stops, so the range is split in halves and each
half is run again, down to single days. The days that pass land in the marts and get their reports; a blocked
day still gets its reports, marked INCOMPLETE with the checks that blocked it (as the sensor
report_despite_blocked_day does for scheduled runs). Runs go to the Dagster instance (DAGSTER_HOME), so they
show in the UI like any backfill. Exit status 1 when a day stayed blocked.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

import dagster as dg

from orchestration.partition_ranges import RANGE_END, RANGE_START, days_between, halves


def backfill(
    days: list[str], run: Callable[[str, str], dg.ExecuteInProcessResult], blocked: dict[str, list[str]]
) -> list[str]:
    """The days of ``days`` that materialized; ``blocked`` collects day -> failed blocking checks."""
    result = run(days[0], days[-1])
    if result.success:
        return list(days)
    if len(days) == 1:
        failed = [e.check_name for e in result.get_asset_check_evaluations() if not e.passed and e.blocking]
        blocked[days[0]] = failed or ["the run failed (see its logs in the Dagster UI)"]
        return []
    first_half, second_half = halves(days)
    return backfill(first_half, run, blocked) + backfill(second_half, run, blocked)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="backfill", description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="first", required=True, help="first factory day, YYYY-MM-DD")
    parser.add_argument("--to", dest="last", required=True, help="last factory day, YYYY-MM-DD")
    args = parser.parse_args(argv)
    from orchestration.definitions import build_definitions
    from orchestration.plant import resolve_plant

    defs = build_definitions(resolve_plant())

    job = defs.resolve_implicit_global_asset_job_def()
    instance = dg.DagsterInstance.get()

    def run(first: str, last: str) -> dg.ExecuteInProcessResult:
        print(f"materializing {first}..{last}", flush=True)
        return job.execute_in_process(
            instance=instance, tags={RANGE_START: first, RANGE_END: last}, raise_on_error=False
        )

    blocked: dict[str, list[str]] = {}
    done = backfill(days_between(args.first, args.last), run, blocked)
    print(f"{len(done)} factory day(s) materialized")
    from orchestration.defs.reports import BLOCKED_CHECKS_TAG

    reports_job = defs.get_job_def("daily_report_job")
    for day, checks in sorted(blocked.items()):
        print(f"BLOCKED {day}: {', '.join(checks)}; its reports go out marked INCOMPLETE", flush=True)
        reports_job.execute_in_process(
            instance=instance,
            partition_key=day,
            tags={BLOCKED_CHECKS_TAG: ",".join(checks)},
            raise_on_error=False,
        )
    return 1 if blocked else 0


if __name__ == "__main__":
    sys.exit(main())
