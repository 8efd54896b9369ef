"""The data-quality gate, per raw table and factory day, on what the row gate (quality/gate.py) landed.

Blocking checks stop the warehouse models of the run, so a bad day never reaches the marts:
- `<table>_meets_expectations`: the Great Expectations suite (columns, keys, ranges, time order);
- `<table>_reconciles`: rows in = rows accepted + rows quarantined, and the raw file holds the accepted rows;
- `production_events_volume_is_steady`, `sensor_readings_volume_is_steady`: no sudden collapse of the rows in.
Warning checks say what is notable without stopping anything:
- `<table>_has_no_quarantined_rows`: rows held back, counted by reason, with samples;
- `sensor_readings_have_no_gaps`: sensors that fell silent, and when.
"""

import json

import dagster as dg
import pyarrow.parquet as pq

from orchestration.defs.resources import Lake, ReportShelf
from orchestration.lake.tables import RAW_TABLES
from orchestration.lake.writer import partition_file, read_partition
from orchestration.plant import Plant
from orchestration.quality.ledger import (
    HISTORY_DAYS,
    day_volume,
    reconciliation_problems,
    sensor_gaps,
    volume_collapse,
)
from orchestration.quality.raw_suites import validate_raw_table
from orchestration.quality.validation_report import write_outcome


def _raw_table_check(table: str, factory_days, always_delivered: frozenset[str]) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=["raw", table],
        name=f"{table}_meets_expectations",
        description=f"Great Expectations suite `raw_{table}`: columns, keys, value ranges, time order.",
        blocking=True,
        partitions_def=factory_days,
    )
    def _check(
        context: dg.AssetCheckExecutionContext,
        plant: dg.ResourceParam[Plant],
        lake: Lake,
        reports: ReportShelf,
    ) -> dg.AssetCheckResult:
        outcomes = []
        for day in context.partition_keys:
            frame = read_partition(lake.path, table, day).to_pandas()
            start, end = plant.calendar.day_window(day)
            outcome = validate_raw_table(table, day, frame, start, end, table in always_delivered)
            write_outcome(reports.day_dir(day), outcome)  # for the day's data-quality page
            outcomes.append(outcome)
        failed = [o for o in outcomes if not o.success]
        for outcome in failed:
            context.log.error(outcome.summary())
        return dg.AssetCheckResult(
            passed=not failed,
            severity=dg.AssetCheckSeverity.ERROR,
            description="; ".join(o.summary() for o in failed) or f"{len(outcomes)} factory day(s) passed",
            metadata={
                "rows": sum(o.rows for o in outcomes),
                "expectations_evaluated": sum(o.evaluated for o in outcomes),
                "failed_days": [o.day for o in failed],
                "failed_expectations": _json(
                    [
                        {
                            "day": o.day,
                            "expectation": f.expectation,
                            "kwargs": f.kwargs,
                            "unexpected_count": f.unexpected_count,
                            "sample": f.sample,
                        }
                        for o in failed
                        for f in o.failed
                    ]
                ),
            },
        )

    return _check


def _json(value) -> dg.JsonMetadataValue:
    """Metadata as JSON; timestamps as ISO text."""
    return dg.MetadataValue.json(json.loads(json.dumps(value, default=str)))


def _result(context, problems: dict[str, list[str]], severity, metadata: dict) -> dg.AssetCheckResult:
    """One result for the run's days: failed when any day has a problem, saying which days and why."""
    failing = {day: found for day, found in problems.items() if found}
    for day, found in failing.items():
        context.log.log(40 if severity == dg.AssetCheckSeverity.ERROR else 30, f"{day}: {'; '.join(found)}")
    return dg.AssetCheckResult(
        passed=not failing,
        severity=severity,
        description="; ".join(f"{day}: {'; '.join(found)}" for day, found in failing.items())
        or f"{len(problems)} factory day(s) passed",
        metadata={"failed_days": sorted(failing), **metadata},
    )


def _reconciles_check(table: str, factory_days) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=["raw", table],
        name=f"{table}_reconciles",
        description="Rows in = rows accepted + rows quarantined, and the raw file holds the accepted rows.",
        blocking=True,
        partitions_def=factory_days,
    )
    def _check(context: dg.AssetCheckExecutionContext, lake: Lake) -> dg.AssetCheckResult:
        problems, ledger_rows = {}, []
        for day in context.partition_keys:
            ledger = read_partition(lake.path, "reconciliation", day, layer="quarantine")
            landed = pq.ParquetFile(partition_file(lake.path, table, day)).metadata.num_rows
            problems[day] = reconciliation_problems(ledger, table, landed)
            ledger_rows += [{"day": day, **r} for r in ledger.to_pylist() if r["table_name"] == table]
        return _result(context, problems, dg.AssetCheckSeverity.ERROR, {"ledger": _json(ledger_rows)})

    return _check


def _quarantine_check(table: str, factory_days) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=["raw", table],
        name=f"{table}_has_no_quarantined_rows",
        description="Rows the gate held back, by reason, with samples (a warning: the good rows went on).",
        blocking=False,
        partitions_def=factory_days,
    )
    def _check(context: dg.AssetCheckExecutionContext, lake: Lake) -> dg.AssetCheckResult:
        problems, samples = {}, []
        for day in context.partition_keys:
            held = read_partition(lake.path, table, day, layer="quarantine")
            reasons: dict[str, int] = {}
            for row in held.to_pylist():
                reasons[row["reason"]] = reasons.get(row["reason"], 0) + 1
            problems[day] = [
                f"{n} row(s): {reason}" for reason, n in sorted(reasons.items(), key=lambda i: -i[1])
            ]
            samples += [{"day": day, **row} for row in held.slice(0, 5).to_pylist()]
        return _result(context, problems, dg.AssetCheckSeverity.WARN, {"sample": _json(samples)})

    return _check


def _volume_check(table: str, factory_days, severity: dg.AssetCheckSeverity) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=["raw", table],
        name=f"{table}_volume_is_steady",
        description=f"The day's rows in are at least half the median of the {HISTORY_DAYS} days before.",
        blocking=True,
        partitions_def=factory_days,
    )
    def _check(context: dg.AssetCheckExecutionContext, lake: Lake) -> dg.AssetCheckResult:
        problems = {}
        for day in context.partition_keys:
            collapse = volume_collapse(*day_volume(lake.path, table, day))
            problems[day] = [collapse] if collapse else []
        return _result(context, problems, severity, {})

    return _check


def sensor_gap_check(context: dg.AssetCheckExecutionContext, lake: Lake) -> dg.AssetCheckResult:
    problems, gaps = {}, []
    for day in context.partition_keys:
        found = sensor_gaps(
            pq.read_table(
                partition_file(lake.path, "sensor_readings", day), columns=["sensor_id", "reading_ts"]
            )
        )
        problems[day] = [
            f"{g['sensor_id']} silent {g['silent_min']:.0f} min after {g['last_reading_ts']}" for g in found
        ]
        gaps += [{"day": day, **g} for g in found[:50]]
    return _result(context, problems, dg.AssetCheckSeverity.WARN, {"gaps": _json(gaps)})


def build_raw_checks(plant: Plant, factory_days: dg.PartitionsDefinition) -> list[dg.AssetChecksDefinition]:
    # A plant running around the clock (the simulated factory) cannot lose half its day quietly: that blocks.
    # A plant export may come from a job shop with quiet weekends and bursty days, where a low day is not a
    # broken feed: there it is a warning.
    volume = dg.AssetCheckSeverity.ERROR if plant.volume_collapse_blocks else dg.AssetCheckSeverity.WARN
    gaps = dg.asset_check(
        asset=["raw", "sensor_readings"],
        name="sensor_readings_have_no_gaps",
        description="Sensors silent for longer than 2.5 of their usual reading intervals (a warning, "
        "listed).",
        blocking=False,
        partitions_def=factory_days,
    )(sensor_gap_check)
    return (
        [_raw_table_check(table, factory_days, plant.always_delivered) for table in RAW_TABLES]
        + [_reconciles_check(table, factory_days) for table in RAW_TABLES]
        + [_quarantine_check(table, factory_days) for table in RAW_TABLES]
        + [_volume_check(table, factory_days, volume) for table in ("production_events", "sensor_readings")]
        + [gaps]
    )
