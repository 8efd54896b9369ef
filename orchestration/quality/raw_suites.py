"""Great Expectations 1.x suites for the raw tables, and a validator that explains what failed.

The suites are built per factory day, because some expectations depend on it (timestamps inside the day).
Great Expectations is imported lazily: it takes seconds to import and only the check steps need it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

import pandas as pd

from orchestration.lake.tables import MACHINE_STATES, PRIMARY_KEYS, RAW_TABLES

# Events may end after the factory day (a step that runs past the boundary); they may not start outside it.
_DAY_BOUND_COLUMNS = {
    "production_events": "start_ts",
    "machine_states": "start_ts",
    "quality_measurements": "measured_ts",
    "sensor_readings": "reading_ts",
}


@dataclass
class FailedExpectation:
    expectation: str
    kwargs: dict[str, Any]
    unexpected_count: int | None
    sample: list[Any]


@dataclass
class ValidationOutcome:
    table: str
    day: str
    rows: int
    evaluated: int
    failed: list[FailedExpectation] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        if self.success:
            return f"{self.table} {self.day}: {self.evaluated} expectations met on {self.rows} rows"
        parts = [f"{f.expectation}({_describe(f.kwargs)}): {f.unexpected_count} rows" for f in self.failed]
        return (
            f"{self.table} {self.day}: {len(self.failed)} of {self.evaluated} expectations failed: "
            + "; ".join(parts)
        )


def _describe(kwargs: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in kwargs.items())


def build_suite(table: str, day_start: datetime, day_end: datetime, must_have_rows: bool = False):
    import great_expectations as gx

    e = gx.expectations
    suite = gx.ExpectationSuite(name=f"raw_{table}")
    suite.add_expectation(
        e.ExpectTableColumnsToMatchSet(column_set=RAW_TABLES[table].names, exact_match=False)
    )
    keys = PRIMARY_KEYS[table]
    for key in keys:
        suite.add_expectation(e.ExpectColumnValuesToNotBeNull(column=key))
    if len(keys) == 1:
        suite.add_expectation(e.ExpectColumnValuesToBeUnique(column=keys[0]))
    else:
        suite.add_expectation(e.ExpectCompoundColumnsToBeUnique(column_list=list(keys)))
    if table in _DAY_BOUND_COLUMNS:
        suite.add_expectation(
            e.ExpectColumnValuesToBeBetween(
                column=_DAY_BOUND_COLUMNS[table], min_value=day_start, max_value=day_end, strict_max=True
            )
        )
    if "end_ts" in RAW_TABLES[table].names:
        suite.add_expectation(
            e.ExpectColumnPairValuesAToBeGreaterThanB(column_A="end_ts", column_B="start_ts", or_equal=True)
        )
    if table == "production_events":
        for qty in ("produced_qty", "good_qty", "scrap_qty"):
            suite.add_expectation(e.ExpectColumnValuesToBeBetween(column=qty, min_value=0))
        for column in ("case_id", "activity", "machine_id"):
            suite.add_expectation(e.ExpectColumnValuesToNotBeNull(column=column))
    if table == "machine_states":
        suite.add_expectation(e.ExpectColumnValuesToBeInSet(column="state", value_set=list(MACHINE_STATES)))
    if table == "quality_measurements":
        suite.add_expectation(e.ExpectColumnValuesToNotBeNull(column="value"))
        suite.add_expectation(e.ExpectColumnPairValuesAToBeGreaterThanB(column_A="usl", column_B="lsl"))
    if table == "sensor_readings":
        suite.add_expectation(e.ExpectColumnValuesToNotBeNull(column="value"))
    if table == "machines":
        suite.add_expectation(
            e.ExpectColumnValuesToBeBetween(column="planned_runtime_per_unit_s", min_value=0, strict_min=True)
        )
        suite.add_expectation(e.ExpectColumnValuesToBeBetween(column="conversion_cost_per_hour", min_value=0))
        suite.add_expectation(
            e.ExpectColumnValuesToBeBetween(column="material_cost_share", min_value=0, max_value=1)
        )
    if table == "products":
        for column in ("nominal_capacity_ah", "material_cost_per_cell", "selling_price_per_cell"):
            suite.add_expectation(e.ExpectColumnValuesToBeBetween(column=column, min_value=0))
        suite.add_expectation(e.ExpectColumnValueLengthsToEqual(column="currency", value=3))
    if must_have_rows:
        suite.add_expectation(e.ExpectTableRowCountToBeBetween(min_value=1))
    return suite


@cache
def _batch_definition(table: str):
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = gx.data_context.types.base.ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas(f"raw_{table}")
    return source.add_dataframe_asset(table).add_batch_definition_whole_dataframe("factory_day")


def validate_raw_table(
    table: str,
    day: str,
    frame: pd.DataFrame,
    day_start: datetime,
    day_end: datetime,
    must_have_rows: bool = False,
) -> ValidationOutcome:
    """Validate one factory day of a raw table; the outcome lists every failed expectation with samples.

    ``must_have_rows``: the source always delivers this table (an empty one means the feed broke).
    """
    batch_definition = _batch_definition(table)  # creates the (ephemeral) context that suites need
    suite = build_suite(table, day_start, day_end, must_have_rows)
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
    result = batch.validate(suite, result_format="SUMMARY")
    outcome = ValidationOutcome(table=table, day=day, rows=len(frame), evaluated=len(result.results))
    for item in result.results:
        if item.success:
            continue
        config = item.expectation_config
        details = item.result or {}
        if item.exception_info and item.exception_info.get("raised_exception"):
            details = {"partial_unexpected_list": [item.exception_info.get("exception_message")]}
        outcome.failed.append(
            FailedExpectation(
                expectation=config.type,
                kwargs={k: str(v) for k, v in config.kwargs.items() if k != "batch_id"},
                unexpected_count=details.get("unexpected_count"),
                sample=[str(v) for v in (details.get("partial_unexpected_list") or [])[:5]],
            )
        )
    return outcome
