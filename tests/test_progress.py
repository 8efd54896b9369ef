"""make demo's console: one line per stage of a run with its duration; failures and warnings, a line each."""

from __future__ import annotations

import logging
from types import SimpleNamespace

from orchestration.progress import StageProgress, stage_of


def record(kind: str | None = None, step: str | None = None, level=logging.DEBUG, message="", **data):
    event = None
    if kind:
        event = SimpleNamespace(
            event_type_value=kind, step_key=step, event_specific_data=SimpleNamespace(**data)
        )
    entry = logging.LogRecord("dagster", level, __file__, 0, message, None, None)
    entry.dagster_meta = {"dagster_event": event} if event else {}
    return entry


def test_steps_are_told_apart_by_stage():
    assert stage_of("simulated_factory") == "simulate and land"
    assert stage_of("raw_production_events_production_events_meets_expectations") == "quality gate"
    assert stage_of("cell_genealogy") == "cell genealogy"
    assert stage_of("warehouse_models") == "dbt warehouse"
    assert stage_of("analytics__sensor_anomalies") == "analytics"
    assert stage_of("alerting__batch_alerts") == "alerts"
    assert stage_of("distribution__deliveries") == "reports"


def test_a_run_prints_one_line_per_stage_with_its_steps_and_seconds():
    lines, now = [], iter([0.0, 5.0, 5.0, 65.0, 65.0, 70.0])
    progress = StageProgress(write=lines.append, clock=lambda: next(now))
    for step in ("simulated_factory", "warehouse_models", "process_mining"):
        progress.emit(record("STEP_START", step))
        progress.emit(record("STEP_SUCCESS", step))
    progress.emit(
        record(level=logging.WARNING, message="__ASSET_JOB - abc - 12 email deliveries failed: no host")
    )
    progress.emit(record(level=logging.INFO, message="debug chatter"))
    notice = "Logging an `AssetObservation` instead of an `AssetCheckResult` for dbt test `unique_int_x_id`."
    progress.emit(record(level=logging.WARNING, message=f"__ASSET_JOB - abc - warehouse_models - {notice}"))
    progress.finish()
    assert lines == [
        "  simulate and land: 1 steps in 5 s",
        "  dbt warehouse: 1 steps in 60 s",
        "  warning: 12 email deliveries failed: no host",
        "  analytics: 1 steps in 5 s",
    ]


def test_a_failed_step_and_a_failed_check_are_said():
    lines = []
    progress = StageProgress(write=lines.append, clock=lambda: 0.0)
    progress.emit(record("STEP_START", "warehouse_models"))
    progress.emit(
        record("STEP_FAILURE", "warehouse_models", error=SimpleNamespace(message="dbt build failed\n..."))
    )
    progress.emit(record("ASSET_CHECK_EVALUATION", None, passed=False, blocking=True, check_name="volume"))
    progress.finish()
    assert lines == [
        "  warehouse_models failed: dbt build failed",
        "  check volume failed (blocking)",
        "  dbt warehouse: 1 steps, 1 failed in 0 s",
    ]
