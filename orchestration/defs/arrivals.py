"""Late files: a sensor that watches the plant export and lands the factory days whose events changed.

A plant drops MES exports into a folder whenever it likes; a file may add a new day or late rows for days
already landed. The sensor reads the export through its mapping (only when a file changed), fingerprints
each factory day's events and requests a run of the full daily job for every day whose fingerprint is new.
The cursor keeps the fingerprints, so an unchanged export requests nothing.
"""

import json

import dagster as dg

from orchestration.defs.resources import PlantExportSource
from orchestration.plant import Plant


def plant_export_arrivals(
    context: dg.SensorEvaluationContext, plant: dg.ResourceParam[Plant], plant_export: PlantExportSource
):
    try:
        export = plant_export.read(plant.calendar)
    except ValueError as problem:  # no file yet, or a mapped column missing: say so, request nothing
        return dg.SkipReason(str(problem))
    landed = json.loads(context.cursor) if context.cursor else {}
    current = export.day_fingerprints()
    changed = sorted(day for day, digest in current.items() if landed.get(day) != digest)
    context.update_cursor(json.dumps(current, sort_keys=True))
    if not changed:
        return dg.SkipReason(f"no new or changed factory days ({len(current)} days landed)")
    return [dg.RunRequest(run_key=f"{day}:{current[day]}", partition_key=day) for day in changed]


def build_arrivals(daily_job) -> dg.SensorDefinition:
    return dg.sensor(
        name="plant_export_arrivals",
        job=daily_job,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Lands the factory days whose events a new or changed export file brought.",
    )(plant_export_arrivals)
