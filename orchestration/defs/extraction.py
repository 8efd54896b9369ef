"""Extraction: land each factory day's raw MES tables as Parquet in the lake.

Two sources, one contract: the simulated factory (with the day's ground truth), or the plant's own export
through a source mapping (``GIGAFACTORY_SOURCE``). The code location loads the one the plant names.
"""

import dagster as dg
import pyarrow as pa

from orchestration.defs.resources import Lake, PlantExportSource, SimulatedFactory
from orchestration.lake.tables import RAW_TABLES, TRUTH_TABLES
from orchestration.lake.writer import write_partition, write_quarantine
from orchestration.plant import Plant
from orchestration.quality.landing import land_day


def lake_specs(layer: str, tables, description: str) -> list[dg.AssetSpec]:
    """One asset per lake table of ``layer``; ``description`` names the table as ``{table}``."""
    return [
        dg.AssetSpec(
            [layer, table],
            group_name="extraction",
            kinds={"parquet"},
            description=description.format(table=table),
        )
        for table in tables
    ]


def simulated_factory(
    context: dg.AssetExecutionContext, plant: dg.ResourceParam[Plant], factory: SimulatedFactory, lake: Lake
):
    ledgers = []
    truth_rows = dict.fromkeys(TRUTH_TABLES, 0)
    for day in context.partition_keys:
        simulated = factory.simulate(day)
        # Telemetry is streamed to its file in record batches: memory stays bounded at 1,000 sensors at 1 Hz.
        tables = {**simulated.tables, "sensor_readings": simulated.telemetry.batches()}
        ledgers.append(_land(context, plant, lake, day, tables))
        for table, data in simulated.truth.items():
            truth_rows[table] += write_partition(lake.path, table, day, data, layer="truth")
    yield from landed_results(context, ledgers)
    for table, count in truth_rows.items():
        yield dg.MaterializeResult(
            asset_key=["truth", table], metadata={"rows": count, "factory_days": len(context.partition_keys)}
        )


def plant_export(
    context: dg.AssetExecutionContext,
    plant: dg.ResourceParam[Plant],
    plant_export: PlantExportSource,
    lake: Lake,
):
    export = plant_export.read(plant.calendar)
    loaded = export.loaded
    context.log.info(f"{export.mapping.origin}: {loaded.summary()}")
    for row in loaded.quarantine.slice(0, 20).to_pylist():
        context.log.warning(f"quarantined {row['source_file']} line {row['source_line']}: {row['reason']}")
    write_quarantine(lake.path, loaded.quarantine)
    ledgers = [
        _land(context, plant, lake, day, export.raw_tables(day), check_activities=export.master_data_given)
        for day in context.partition_keys
    ]
    source = {
        "source_rows_in": loaded.rows_in,
        "source_rows_accepted": loaded.events.num_rows,
        "source_rows_quarantined": loaded.quarantine.num_rows,
        "source_lifecycle_folded": loaded.lifecycle_folded,  # XES transitions within a step: in rows_in
        "source_duplicates": loaded.duplicates,  # kept or quarantined as the mapping says
        "source_quarantine_sample": dg.MetadataValue.json(loaded.quarantine.slice(0, 10).to_pylist()),
    }
    yield from landed_results(context, ledgers, {"production_events": source})


def _land(
    context, plant: Plant, lake: Lake, day: str, tables: dict, check_activities: bool = True
) -> pa.Table:
    landed = land_day(lake.path, day, plant.calendar.day_window(day), tables, check_activities)
    for sample in landed.quarantined_samples:
        context.log.warning(sample)
    context.log.info(f"factory day {day} landed: {landed.summary}")
    return landed.ledger


def landed_results(context, ledgers: list[pa.Table], extra: dict | None = None):
    """One materialization per raw table: rows accepted and quarantined over the run's days."""
    totals = (
        pa.concat_tables(ledgers)
        .group_by("table_name")
        .aggregate([("rows_in", "sum"), ("rows_accepted", "sum"), ("rows_quarantined", "sum")])
    )
    for row in totals.to_pylist():
        table = row["table_name"]
        metadata = {
            "rows": row["rows_accepted_sum"],
            "rows_in": row["rows_in_sum"],
            "rows_quarantined": row["rows_quarantined_sum"],
            "factory_days": len(context.partition_keys),
            **(extra or {}).get(table, {}),
        }
        yield dg.MaterializeResult(asset_key=["raw", table], metadata=metadata)


def build_extraction(plant: Plant, factory_days: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    """The source the plant names: the simulated factory (with its ground truth) or the plant's export."""
    if plant.simulated:
        specs = lake_specs(
            "raw", RAW_TABLES, "Raw MES table `{table}` of one factory day, landed as Parquet."
        )
        specs += lake_specs(
            "truth",
            TRUTH_TABLES,
            "Ground truth `{table}` of one simulated factory day: what was planted, for tests and "
            "evaluations (reports never read it).",
        )
        body = simulated_factory
    else:
        specs = lake_specs(
            "raw",
            RAW_TABLES,
            "Raw MES table `{table}` of one factory day, landed from the plant's export "
            "(tables the export does not carry land empty).",
        )
        body = plant_export
    return dg.multi_asset(
        name=body.__name__,
        specs=specs,
        partitions_def=factory_days,
        backfill_policy=dg.BackfillPolicy.single_run(),
    )(body)
