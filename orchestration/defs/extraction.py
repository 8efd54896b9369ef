"""Extraction: land each factory day's raw MES tables as Parquet in the lake.

Two sources, one contract: the simulated factory (with the day's ground truth), or the plant's own export
through a source mapping (``GIGAFACTORY_SOURCE``). The code location loads the one the settings choose.
"""

import dagster as dg
import pyarrow as pa

from orchestration.defs.factory_days import day_window, factory_days
from orchestration.defs.resources import Lake, PlantExportSource, SimulatedFactory
from orchestration.lake.tables import RAW_TABLES, TRUTH_TABLES
from orchestration.lake.writer import write_partition, write_quarantine
from orchestration.quality.gate import GateContext, StreamGate, gate_table, reconciliation


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


@dg.multi_asset(
    name="simulated_factory",
    specs=lake_specs("raw", RAW_TABLES, "Raw MES table `{table}` of one factory day, landed as Parquet.")
    + lake_specs(
        "truth",
        TRUTH_TABLES,
        "Ground truth `{table}` of one simulated factory day: what was planted, for tests and evaluations "
        "(reports never read it).",
    ),
    partitions_def=factory_days,
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def simulated_factory(context: dg.AssetExecutionContext, factory: SimulatedFactory, lake: Lake):
    ledgers = []
    truth_rows = dict.fromkeys(TRUTH_TABLES, 0)
    for day in context.partition_keys:
        simulated = factory.simulate(day)
        # Telemetry is streamed to its file in record batches: memory stays bounded at 1,000 sensors at 1 Hz.
        tables = {**simulated.tables, "sensor_readings": simulated.telemetry.batches()}
        ledgers.append(land_day(context, lake, day, tables))
        for table, data in simulated.truth.items():
            truth_rows[table] += write_partition(lake.path, table, day, data, layer="truth")
    yield from landed_results(context, ledgers)
    for table, count in truth_rows.items():
        yield dg.MaterializeResult(
            asset_key=["truth", table], metadata={"rows": count, "factory_days": len(context.partition_keys)}
        )


@dg.multi_asset(
    name="plant_export",
    specs=lake_specs(
        "raw",
        RAW_TABLES,
        "Raw MES table `{table}` of one factory day, landed from the plant's export "
        "(tables the export does not carry land empty).",
    ),
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
    ledgers = [
        land_day(context, lake, day, export.raw_tables(day), check_activities=export.master_data_given)
        for day in context.partition_keys
    ]
    source = {
        "source_rows_in": loaded.rows_in,
        "source_rows_accepted": loaded.events.num_rows,
        "source_rows_quarantined": loaded.quarantine.num_rows,
        "source_quarantine_sample": dg.MetadataValue.json(loaded.quarantine.slice(0, 10).to_pylist()),
    }
    yield from landed_results(context, ledgers, {"production_events": source})


def land_day(context, lake: Lake, day: str, tables: dict, check_activities: bool = True) -> pa.Table:
    """Pass the day's raw tables through the row gate: accepted rows to raw/, the others to quarantine/,
    and the ledger (rows in = accepted + quarantined) to quarantine/reconciliation/. Returns the ledger."""
    start, end = day_window(day)
    machines = tables["machines"]
    known = frozenset(machines["machine_id"].to_pylist())
    rooms = frozenset(r for r in machines["room_id"].to_pylist() if r is not None)
    # Activities are checked against master data only when it is authoritative (the simulated plant's, or a
    # plant's machines CSV); machines derived from the events know only each one's most frequent step.
    steps = (
        frozenset(a for a in machines["activity"].to_pylist() if a is not None) if check_activities else None
    )
    sensors = tables.get("sensors")  # the equipment's plausible sensor ranges, where the source knows them
    gate_context = GateContext(
        day,
        start,
        end,
        known_machines=known,
        known_places=known | rooms,
        known_activities=steps,
        sensor_ranges=sensors if sensors is not None and sensors.num_rows else None,
    )
    outcomes = []
    for table, data in tables.items():
        if isinstance(data, pa.Table):
            outcome = gate_table(table, data, gate_context)
            write_partition(lake.path, table, day, outcome.accepted)
        else:
            stream = StreamGate(table, gate_context)
            write_partition(lake.path, table, day, stream.accepted_batches(data))
            outcome = stream.outcome()
        write_partition(lake.path, table, day, outcome.quarantined, layer="quarantine")
        for row in outcome.quarantined.slice(0, 5).to_pylist():
            context.log.warning(f"{day} {table} row {row['row_number']} quarantined: {row['reason']}")
        outcomes.append(outcome)
    ledger = reconciliation(outcomes)
    write_partition(lake.path, "reconciliation", day, ledger, layer="quarantine")
    context.log.info(
        f"factory day {day} landed: {sum(o.rows_accepted for o in outcomes)} rows accepted, "
        f"{sum(o.quarantined.num_rows for o in outcomes)} quarantined"
    )
    return ledger


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
