"""Extraction: land each factory day's raw MES tables as Parquet in the lake.

Two sources, one contract: the simulated factory (with the day's ground truth), or the plant's own export
through a source mapping (``GIGAFACTORY_SOURCE``). The code location loads the one the settings choose.
"""

import dagster as dg

from orchestration.defs.factory_days import factory_days
from orchestration.defs.resources import Lake, PlantExportSource, SimulatedFactory
from orchestration.lake.tables import RAW_TABLES, TRUTH_TABLES
from orchestration.lake.writer import write_partition, write_quarantine


@dg.multi_asset(
    name="simulated_factory",
    specs=[
        dg.AssetSpec(
            ["raw", table],
            group_name="extraction",
            kinds={"parquet"},
            description=f"Raw MES table `{table}` of one factory day, landed as Parquet.",
        )
        for table in RAW_TABLES
    ]
    + [
        dg.AssetSpec(
            ["truth", table],
            group_name="extraction",
            kinds={"parquet"},
            description=f"Ground truth `{table}` of one simulated factory day: what was planted, for "
            "tests and evaluations (reports never read it).",
        )
        for table in TRUTH_TABLES
    ],
    partitions_def=factory_days,
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def simulated_factory(context: dg.AssetExecutionContext, factory: SimulatedFactory, lake: Lake):
    rows = {("raw", t): 0 for t in RAW_TABLES} | {("truth", t): 0 for t in TRUTH_TABLES}
    for day in context.partition_keys:
        simulated = factory.simulate(day)
        for table, data in simulated.tables.items():
            rows["raw", table] += write_partition(lake.path, table, day, data)
        # Telemetry is streamed to its file in record batches: memory stays bounded at 1,000 sensors at 1 Hz.
        rows["raw", "sensor_readings"] += write_partition(
            lake.path, "sensor_readings", day, simulated.telemetry.batches()
        )
        for table, data in simulated.truth.items():
            rows["truth", table] += write_partition(lake.path, table, day, data, layer="truth")
        context.log.info(f"factory day {day} landed")
    for (layer, table), count in rows.items():
        yield dg.MaterializeResult(
            asset_key=[layer, table],
            metadata={"rows": count, "factory_days": len(context.partition_keys)},
        )


@dg.multi_asset(
    name="plant_export",
    specs=[
        dg.AssetSpec(
            ["raw", table],
            group_name="extraction",
            kinds={"parquet"},
            description=f"Raw MES table `{table}` of one factory day, landed from the plant's export "
            "(tables the export does not carry land empty).",
        )
        for table in RAW_TABLES
    ],
    partitions_def=factory_days,
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def plant_export(context: dg.AssetExecutionContext, plant_export: PlantExportSource, lake: Lake):
    export = plant_export.read()
    loaded = export.loaded
    context.log.info(f"{export.mapping.origin}: {loaded.summary()}")
    for row in loaded.quarantine.slice(0, 20).to_pylist():
        context.log.warning(f"quarantined {row['source_file']} line {row['source_line']}: {row['reason']}")
    write_quarantine(lake.path, loaded.quarantine)
    rows = dict.fromkeys(RAW_TABLES, 0)
    for day in context.partition_keys:
        for table, data in export.raw_tables(day).items():
            rows[table] += write_partition(lake.path, table, day, data)
    for table in RAW_TABLES:
        metadata = {"rows": rows[table], "factory_days": len(context.partition_keys)}
        if table == "production_events":
            metadata |= {
                "source_rows_in": loaded.rows_in,
                "source_rows_accepted": loaded.events.num_rows,
                "source_rows_quarantined": loaded.quarantine.num_rows,
                "quarantine_sample": dg.MetadataValue.json(loaded.quarantine.slice(0, 10).to_pylist()),
            }
        yield dg.MaterializeResult(asset_key=["raw", table], metadata=metadata)
