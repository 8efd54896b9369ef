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

import contextlib
import logging
import os
import sys
import warnings
from collections.abc import Callable

import dagster as dg

from orchestration.command_line import Parser, add_day_range, day_range
from orchestration.partition_ranges import RANGE_END, RANGE_START, days_between, halves
from orchestration.progress import StageProgress


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
    parser = Parser(prog="python -m orchestration.backfill", description=__doc__.splitlines()[0])
    add_day_range(parser)
    args = parser.parse_args(argv)
    day_range(parser, args.first, args.last)
    # Dagster's notices about its own beta and preview parameters are not news to a plant's engineer
    warnings.filterwarnings("ignore", category=dg.BetaWarning)
    warnings.filterwarnings("ignore", category=dg.PreviewWarning)
    from orchestration.definitions import build_definitions
    from orchestration.plant import resolve_plant

    console = sys.stdout
    progress = StageProgress(write=lambda line: print(line, file=console, flush=True))
    # The console shows one line per stage (orchestration/progress.py), not Dagster's debug stream; the UI
    # (make dev) keeps every event of these runs.
    defs = dg.Definitions.merge(
        build_definitions(resolve_plant()),
        dg.Definitions(loggers={"stage_progress": stage_logger(progress)}),
    )
    job = defs.resolve_implicit_global_asset_job_def()
    instance = dg.DagsterInstance.get()
    quiet = {"loggers": {"stage_progress": {}}}

    def run(first: str, last: str) -> dg.ExecuteInProcessResult:
        print(f"materializing {first}..{last}", flush=True)
        # dagster-dbt echoes every dbt event to stdout; dbt keeps them in dbt_project/logs/dbt.log anyway
        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
            result = job.execute_in_process(
                run_config=quiet,
                instance=instance,
                tags={RANGE_START: first, RANGE_END: last},
                raise_on_error=False,
            )
        progress.finish()
        return result

    blocked: dict[str, list[str]] = {}
    done = backfill(days_between(args.first, args.last), run, blocked)
    print(f"{len(done)} factory day(s) materialized")
    from orchestration.defs.reports import BLOCKED_CHECKS_TAG

    reports_job = defs.get_job_def("daily_report_job")
    for day, checks in sorted(blocked.items()):
        print(f"BLOCKED {day}: {', '.join(checks)}; its reports go out marked INCOMPLETE", flush=True)
        reports_job.execute_in_process(
            run_config=quiet,
            instance=instance,
            partition_key=day,
            tags={BLOCKED_CHECKS_TAG: ",".join(checks)},
            raise_on_error=False,
        )
    return 1 if blocked else 0


def stage_logger(handler: StageProgress) -> dg.LoggerDefinition:
    """A Dagster logger that feeds every record of a run to ``handler``."""

    @dg.logger(description="One line per stage of the run, with its duration.")
    def stage_progress(_context) -> logging.Logger:
        logger = logging.getLogger("gigafactory.stage_progress")
        logger.handlers = [handler]
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
        return logger

    return stage_progress


if __name__ == "__main__":
    sys.exit(main())
