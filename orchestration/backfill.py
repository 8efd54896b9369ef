"""Materialize a range of factory days so that a day the quality gate blocks stops only itself.

    python -m orchestration.backfill --from 2026-11-09 --to 2026-11-15

The whole asset graph (with its checks) runs for the range as one run, the fast path: one dbt invocation,
one process-mining pass. If a blocking check fails, the run stops, so the range is split in halves and each
half is run again, down to single days. The days that pass land in the marts and get their reports; a blocked
day still gets its reports, marked INCOMPLETE with the checks that blocked it (as the sensor
report_despite_blocked_day does for scheduled runs). Runs go to the Dagster instance (DAGSTER_HOME), so they
show in the UI like any backfill. Exit status 1 when a day stayed blocked.

A run that fails for any other reason blocks no day and splits nothing (orchestration/run_failures.py): a
warehouse held by another process is waited for (twice), anything else stops the backfill with one line and
exit status 2. One backfill writes a warehouse at a time: a second one on the same file refuses at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import dagster as dg

from orchestration.command_line import Parser, add_day_range, day_range
from orchestration.partition_ranges import RANGE_END, RANGE_START, days_between, halves
from orchestration.progress import StageProgress
from orchestration.run_failures import RunFailure, classify

LOCK_WAITS_S = (20.0, 60.0)  # a held warehouse: an analyst's query or a run finishing, worth two waits


class NotBlocked(Exception):
    """A run failed for a reason that is not the quality gate's: no day is blocked."""

    def __init__(self, days: list[str], failure: RunFailure):
        super().__init__(f"{days[0]}..{days[-1]} not materialized, no day blocked: {failure.sentence()}")
        self.failure = failure


def backfill(
    days: list[str],
    run: Callable[[str, str], dg.ExecuteInProcessResult],
    blocked: dict[str, list[str]],
    lock_waits_s: Sequence[float] = LOCK_WAITS_S,
    sleep: Callable[[float], None] = time.sleep,
) -> list[str]:
    """The days of ``days`` that materialized; ``blocked`` collects day -> failed blocking checks. Raises
    NotBlocked when a run fails for another reason (after waiting out a held warehouse)."""
    waits = iter(lock_waits_s)
    result = run(days[0], days[-1])
    while not result.success and not failed_blocking_checks(result):
        failure = first_failure(result)
        pause = next(waits, None) if failure.retryable else None
        if pause is None:
            raise NotBlocked(days, failure)
        print(f"{failure.sentence()}; trying again in {pause:.0f} s", flush=True)
        sleep(pause)
        result = run(days[0], days[-1])
    if result.success:
        return list(days)
    if len(days) == 1:
        blocked[days[0]] = failed_blocking_checks(result)
        return []
    first_half, second_half = halves(days)
    return backfill(first_half, run, blocked, lock_waits_s, sleep) + backfill(
        second_half, run, blocked, lock_waits_s, sleep
    )


def failed_blocking_checks(result: dg.ExecuteInProcessResult) -> list[str]:
    return [e.check_name for e in result.get_asset_check_evaluations() if not e.passed and e.blocking]


def first_failure(result: dg.ExecuteInProcessResult) -> RunFailure:
    for event in result.get_step_failure_events():
        error, texts = event.step_failure_data.error, []
        cause = error
        while cause is not None:
            texts.append(f"{cause.cls_name}: {cause.message}")
            cause = cause.cause
        return classify(event.step_key or "?", error.cls_name if error else "", "\n".join(texts))
    return RunFailure("error", "the run", "it failed before any step (see its logs in the Dagster UI)")


@contextlib.contextmanager
def sole_writer(warehouse: Path) -> Iterator[None]:
    """Hold ``<warehouse>.backfill.lock`` for the backfill's life; a second backfill refuses at once."""
    lock_path = warehouse.with_name(warehouse.name + ".backfill.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "another process"
            raise SystemExit(
                f"another backfill is writing {warehouse} ({holder}): wait for it to end"
            ) from None
        lock.seek(0)
        lock.truncate()
        lock.write(f"pid {os.getpid()} since {time.strftime('%Y-%m-%d %H:%M:%S')}")
        lock.flush()
        yield


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
    plant = resolve_plant()
    progress = StageProgress(write=lambda line: print(line, file=console, flush=True))
    # The console shows one line per stage (orchestration/progress.py), not Dagster's debug stream; the UI
    # (make dev) keeps every event of these runs.
    defs = dg.Definitions.merge(
        build_definitions(plant),
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
    with sole_writer(plant.paths.warehouse_path):  # the blocked days' report runs write too (the copy)
        try:
            done = backfill(days_between(args.first, args.last), run, blocked)
        except NotBlocked as stopped:
            print(f"STOPPED {stopped}", flush=True)
            return 2
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
