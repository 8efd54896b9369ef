"""The section registry: one builder per section name used in data/reporting/roles.yaml."""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from orchestration.reporting import (
    sections_alarms,
    sections_alerting,
    sections_data_quality,
    sections_finance,
    sections_maintenance,
    sections_production,
    sections_quality,
)
from orchestration.reporting.section import DaySource, Section

SECTION_BUILDERS: dict[str, Callable[[DaySource], Section]] = {
    "data_quality": sections_data_quality.data_quality,
    "oee_losses": sections_production.oee_losses,
    "throughput": sections_production.throughput,
    "machines": sections_production.machines,
    "bottlenecks": sections_production.bottlenecks,
    "crews": sections_production.crews,
    "process_model": sections_production.process_model,
    "quality_yield": sections_quality.quality_yield,
    "capability": sections_quality.capability,
    "spc": sections_alarms.spc_alarms,
    "defect_pareto": sections_quality.defect_pareto,
    "rca_cases": sections_quality.rca_cases,
    "cell_flow": sections_quality.cell_flow,
    "breakdowns": sections_maintenance.breakdowns,
    "sensor_anomalies": sections_alarms.sensor_alarms,
    "economics": sections_finance.economics,
    "alarm_management": sections_alerting.alarm_management,
}
# Sections of a sensitive figure class: checked before the builder runs, so the figures are never even read.
SECTION_CLASSES: dict[str, str] = {"economics": "cost", "crews": "per_operator"}


def build_section(name: str, source: DaySource) -> Section:
    """The section, built once per day and shared by every role that shows it."""
    key = f"section:{name}"
    if key not in source.cache:
        try:
            source.cache[key] = SECTION_BUILDERS[name](source)
        except duckdb.Error as exc:  # e.g. a mart of an older shape: the report still goes out, saying so
            section = Section(
                name, name.replace("_", " ").capitalize(), "Could not be read from the warehouse."
            )
            section.figure_class = SECTION_CLASSES.get(name)
            section.missing.append(f"{name}: could not be read ({exc.__class__.__name__}: {str(exc)[:160]})")
            source.cache[key] = section
    return source.cache[key]
