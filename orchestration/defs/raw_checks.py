"""The data-quality gate: one blocking Great Expectations check per raw table and factory day.

A failed check stops the warehouse models of that run, so a bad day never reaches the marts.
"""

import dagster as dg

from orchestration.defs.factory_days import day_window, factory_days
from orchestration.defs.resources import Lake
from orchestration.lake.tables import RAW_TABLES
from orchestration.lake.writer import read_partition
from orchestration.quality.raw_suites import validate_raw_table
from orchestration.settings import load_settings

# Tables the source delivers every day: empty means a broken feed. A plant export may well have a quiet day
# and carries no products or shifts unless its master data says so; only its machines are always known.
ALWAYS_DELIVERED = (
    {"machines"}
    if load_settings().source_mapping is not None
    else {"production_events", "machines", "products", "shifts"}
)


def _raw_table_check(table: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=["raw", table],
        name=f"{table}_meets_expectations",
        description=f"Great Expectations suite `raw_{table}`: columns, keys, value ranges, time order.",
        blocking=True,
        partitions_def=factory_days,
    )
    def _check(context: dg.AssetCheckExecutionContext, lake: Lake) -> dg.AssetCheckResult:
        outcomes = []
        for day in context.partition_keys:
            frame = read_partition(lake.path, table, day).to_pandas()
            start, end = day_window(day)
            outcomes.append(validate_raw_table(table, day, frame, start, end, table in ALWAYS_DELIVERED))
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
                "failed_expectations": dg.MetadataValue.json(
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


raw_table_checks = [_raw_table_check(table) for table in RAW_TABLES]
