"""The Plant: everything that differs from one plant to another, resolved once from the settings.

Where the data come from (the simulated factory or the plant's own export), the factory calendar (timezone,
first-shift hour, shift pattern), where the files live, and the source-dependent policies of the quality gate.
The Dagster definitions, the command lines and the tests build from one ``Plant`` and pass it (or the part
they need) down; nothing below looks the settings up again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import time
from pathlib import Path
from typing import Literal

from orchestration.factory_calendar import FactoryCalendar, ShiftSlot
from orchestration.settings import Settings, load_settings

# Tables the simulated factory delivers every day: empty means a broken feed.
SIMULATED_DAILY_TABLES = frozenset({"production_events", "machines", "products", "sensors", "shifts"})
# A plant export may well have a quiet day, and carries no products or shifts unless its master data says
# so: only its machines are always known.
EXPORT_DAILY_TABLES = frozenset({"machines"})


@dataclass(frozen=True)
class Plant:
    source: Literal["simulated", "plant_export"]
    calendar: FactoryCalendar
    paths: Settings  # warehouse, lake, reports, state, scenario, source mapping, machines CSV
    # Tables that must not land empty on any day (the row gate's "always delivered").
    always_delivered: frozenset[str]
    # A day whose rows in collapse to under half their usual volume blocks (a plant running around the clock
    # cannot lose half its day quietly) or, for a job shop's export with quiet days, only warns.
    volume_collapse_blocks: bool

    @property
    def simulated(self) -> bool:
        return self.source == "simulated"

    @property
    def engine(self) -> str:
        """The warehouse engine (settings.ENGINES): dbt's target, and on Spark the Warehouse resource's views
        of Spark's marts and the mining's Spark statistics (defs/resources.py)."""
        return self.paths.engine

    @property
    def partitions_start(self) -> str:
        return self.paths.partitions_start


def resolve_plant(settings: Settings | None = None) -> Plant:
    """The plant the settings describe (the environment's, by default): reads the scenario or the mapping."""
    settings = settings or load_settings()
    if settings.source_mapping is not None:
        from orchestration.connectors import load_mapping

        mapping = load_mapping(settings.source_mapping)
        # An export names no shift pattern: its factory day is one 24-hour shift.
        day = ShiftSlot("day", time(mapping.day_start_hour), 24.0)
        return Plant(
            source="plant_export",
            calendar=FactoryCalendar(mapping.factory_timezone, mapping.day_start_hour, (day,)),
            paths=settings,
            always_delivered=EXPORT_DAILY_TABLES,
            volume_collapse_blocks=False,
        )
    from orchestration.simulator import load_scenario
    from orchestration.simulator.shifts import scenario_calendar

    scenario = load_scenario(Path(settings.scenario_path))
    # The simulated plant has no day before its first: its partitions start there at the earliest.
    first_day = scenario.release.first_day.isoformat()
    return Plant(
        source="simulated",
        calendar=scenario_calendar(scenario),
        paths=replace(settings, partitions_start=max(settings.partitions_start, first_day)),
        always_delivered=SIMULATED_DAILY_TABLES,
        volume_collapse_blocks=True,
    )
