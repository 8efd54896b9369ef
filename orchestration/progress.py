"""One line per stage of a run, as it finishes, instead of Dagster's debug stream.

The command-line backfill (``make demo``) runs the whole asset graph in process. Its console would print
every Dagster event (hundreds of lines a day); instead a logger watches the steps start and finish, and prints
a line when a stage (simulate and land, quality gate, cell genealogy, dbt warehouse, analytics, alerts,
reports, the analysts' copy) is done, with its duration and its steps. Warnings and errors still print, one
line each.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

# Stages in the order a run goes through them, told apart by the step's key (the op of an asset or a check).
STAGES = (
    ("simulate and land", ("simulated_factory", "plant_export")),
    (
        "quality gate",
        ("_meets_expectations", "_reconciles", "_quarantined_rows", "_volume_is_steady", "_gaps"),
    ),
    ("cell genealogy", ("cell_genealogy",)),
    ("dbt warehouse", ("warehouse_models",)),
    ("analytics", ("process_mining", "analytics__", "rca__")),
    ("alerts", ("alerting__",)),
    ("reports", ("reports__", "distribution__")),
    ("analysts' copy", ("analysts__",)),
)

# Notices that say how the platform is built, not what happened: dbt data tests on the ephemeral int_ models
# (their rows checked where the marts inline them) reach Dagster as observations, not asset checks.
EXPECTED_NOTICES = ("Logging an `AssetObservation` instead of an `AssetCheckResult` for dbt test",)


def stage_of(step_key: str) -> str:
    for stage, markers in STAGES:
        if any(marker in step_key for marker in markers):
            return stage
    return "other steps"


class StageProgress(logging.Handler):
    """Turns the step events of a run into one line per stage: ``<stage>: <n> steps in <s> s``."""

    def __init__(self, write: Callable[[str], None] = print, clock: Callable[[], float] = time.monotonic):
        super().__init__(logging.DEBUG)
        self.write, self.clock = write, clock
        self.stage: str | None = None
        self.started = 0.0
        self.steps = 0
        self.failed = 0

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        if event is None:
            said = _first_line(record.getMessage())
            if record.levelno >= logging.WARNING and not said.startswith(EXPECTED_NOTICES):
                self.write(f"  {record.levelname.lower()}: {said}")
            return
        kind, step = event.event_type_value, event.step_key
        if kind == "STEP_START" and step:
            stage = stage_of(step)
            if stage != self.stage:
                self.finish()
                self.stage, self.started, self.steps, self.failed = stage, self.clock(), 0, 0
        elif kind == "STEP_SUCCESS":
            self.steps += 1
        elif kind == "STEP_FAILURE":
            self.steps += 1
            self.failed += 1
            error = getattr(event.event_specific_data, "error", None)
            self.write(f"  {step} failed: {_first_line(error.message) if error else 'see the Dagster UI'}")
        elif kind == "ASSET_CHECK_EVALUATION" and not event.event_specific_data.passed:
            check = event.event_specific_data
            self.write(f"  check {check.check_name} failed ({'blocking' if check.blocking else 'warning'})")

    def finish(self) -> None:
        """Print the stage under way, if any (at a stage change and at the end of the run)."""
        if self.stage is not None:
            failed = f", {self.failed} failed" if self.failed else ""
            self.write(f"  {self.stage}: {self.steps} steps{failed} in {self.clock() - self.started:.0f} s")
            self.stage = None


def _first_line(message: str) -> str:
    # Dagster prefixes its messages with the job, run and step: keep what was said, on one line
    text = message.split(" - ")[-1] if " - " in message else message
    return text.strip().splitlines()[0][:200] if text.strip() else ""
