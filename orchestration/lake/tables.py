"""The raw MES tables every source lands, and their Arrow schemas.

This is the contract between sources (the simulated factory today, plant exports later) and everything
downstream: Great Expectations suites, dbt staging views and the marts. Timestamps are UTC, timezone-aware,
microsecond precision (DuckDB reads them as TIMESTAMPTZ, which can be subtracted; nanoseconds cannot).
"""

from __future__ import annotations

import pyarrow as pa

UTC_TS = pa.timestamp("us", tz="UTC")

RAW_TABLES: dict[str, pa.Schema] = {
    # One row per processing step of one batch (the process-mining case) on one machine.
    "production_events": pa.schema(
        [
            ("event_id", pa.string()),  # unique across all days: "<date>-E<seq>"
            ("case_id", pa.string()),  # batch id, e.g. "B20261109-0042"
            ("product_id", pa.string()),
            ("activity", pa.string()),  # route step, e.g. "Coating"
            ("line_id", pa.string()),
            ("machine_id", pa.string()),
            ("crew_id", pa.string()),  # crew on shift when the step started
            ("start_ts", UTC_TS),
            ("end_ts", UTC_TS),
            ("produced_qty", pa.int64()),  # cells (or cell equivalents) processed in this step
            ("good_qty", pa.int64()),
            ("scrap_qty", pa.int64()),  # good_qty + scrap_qty = produced_qty
            ("is_rework", pa.bool_()),  # the step repeats one the batch already went through
        ]
    ),
    # Contiguous, non-overlapping state intervals covering each machine's factory day (ISO 22400 time model).
    "machine_states": pa.schema(
        [
            ("machine_id", pa.string()),
            ("state", pa.string()),  # producing | setup | planned_maintenance | breakdown | micro_stop | idle
            ("start_ts", UTC_TS),
            ("end_ts", UTC_TS),
        ]
    ),
    # One measured characteristic of one batch at one step, with its specification limits.
    "quality_measurements": pa.schema(
        [
            ("measurement_id", pa.string()),
            ("case_id", pa.string()),
            ("activity", pa.string()),
            ("machine_id", pa.string()),
            ("characteristic", pa.string()),  # e.g. "coating_thickness"
            ("unit", pa.string()),  # e.g. "um"
            ("value", pa.float64()),
            ("lsl", pa.float64()),  # lower spec limit
            ("usl", pa.float64()),  # upper spec limit
            ("measured_ts", UTC_TS),
        ]
    ),
    # Telemetry: one reading per sensor per sampling interval.
    "sensor_readings": pa.schema(
        [
            ("sensor_id", pa.string()),  # e.g. "COAT-01.dryer_temperature"
            ("machine_id", pa.string()),  # the machine, or the room for ambient sensors
            ("measure", pa.string()),  # temperature | speed | pressure | vibration | dew_point | ...
            ("unit", pa.string()),
            ("reading_ts", UTC_TS),
            ("value", pa.float64()),
        ]
    ),
    # Master data as in force on the factory day (scenarios may change it).
    "machines": pa.schema(
        [
            ("machine_id", pa.string()),
            ("line_id", pa.string()),
            ("activity", pa.string()),  # the route step the machine performs
            ("room_id", pa.string()),
            ("planned_runtime_per_unit_s", pa.float64()),  # ISO 22400 PRU, seconds per cell
            ("conversion_cost_per_hour", pa.float64()),  # labour, energy, depreciation per machine-hour
            ("material_cost_share", pa.float64()),  # share of a cell's material cost added at this step
        ]
    ),
    # The plant's sensors with the range a reading can physically take (from the equipment configuration):
    # a reading outside it is a faulty reading, not a process deviation, and is quarantined.
    "sensors": pa.schema(
        [
            ("sensor_id", pa.string()),
            ("machine_id", pa.string()),  # the machine, or the room for ambient sensors
            ("measure", pa.string()),
            ("unit", pa.string()),
            ("plausible_min", pa.float64()),
            ("plausible_max", pa.float64()),
        ]
    ),
    # The products (cell types) made, with their economics; costs and prices in `currency` per cell.
    "products": pa.schema(
        [
            ("product_id", pa.string()),
            ("nominal_capacity_ah", pa.float64()),
            ("material_cost_per_cell", pa.float64()),
            ("selling_price_per_cell", pa.float64()),
            ("currency", pa.string()),  # ISO 4217, e.g. "EUR"
        ]
    ),
    # The shifts of the factory day, with the crew and its staffing.
    "shifts": pa.schema(
        [
            ("shift_id", pa.string()),  # "<date>-<shift name>", e.g. "2026-11-09-early"
            ("shift_name", pa.string()),  # early | late | night (from the shift pattern)
            ("crew_id", pa.string()),
            ("staffed_headcount", pa.int64()),
            ("start_ts", UTC_TS),
            ("end_ts", UTC_TS),
        ]
    ),
}

# Keys that identify a row; unique within a table and a factory day.
PRIMARY_KEYS: dict[str, tuple[str, ...]] = {
    "production_events": ("event_id",),
    "machine_states": ("machine_id", "start_ts"),
    "quality_measurements": ("measurement_id",),
    "sensor_readings": ("sensor_id", "reading_ts"),
    "machines": ("machine_id",),
    "products": ("product_id",),
    "sensors": ("sensor_id",),
    "shifts": ("shift_id",),
}

# Ground truth of a simulated day: what was planted for the analytics to find. Real sources have none.
TRUTH_TABLES: dict[str, pa.Schema] = {
    # Planted process effects: a bad shift, the designed bottleneck, a machine wearing out towards a failure.
    "planted_effects": pa.schema(
        [
            (
                "effect_id",
                pa.string(),
            ),  # stable across the days an effect spans, e.g. "degradation:CAL-02:..."
            ("effect", pa.string()),  # bad_shift | bottleneck | degradation | wear_failure | route_deviation
            ("target_kind", pa.string()),  # room | step | machine | case
            ("target_id", pa.string()),
            ("start_ts", UTC_TS),
            ("end_ts", UTC_TS),
            ("magnitude", pa.float64()),  # in `unit`: degC warmer, designed load share, sensor rise, hours
            ("unit", pa.string()),
            ("description", pa.string()),
        ]
    ),
    # Planted sensor anomalies and data gaps, one row per affected sensor.
    "sensor_anomalies": pa.schema(
        [
            ("anomaly_id", pa.string()),
            ("sensor_id", pa.string()),
            ("machine_id", pa.string()),
            ("kind", pa.string()),  # spike | drift | level_shift | stuck | gap
            ("start_ts", UTC_TS),
            ("end_ts", UTC_TS),  # exclusive: the first reading after the anomaly
            (
                "magnitude",
                pa.float64(),
            ),  # offset in the sensor's unit (largest, for a drift); 0 for stuck, gap
            ("unit", pa.string()),
        ]
    ),
}

TRUTH_KEYS: dict[str, tuple[str, ...]] = {
    "planted_effects": ("effect_id",),
    "sensor_anomalies": ("anomaly_id", "sensor_id"),
}

# Rows the row gate held back (orchestration/quality/gate.py), one table per raw table and factory day.
QUARANTINE_SCHEMA = pa.schema(
    [
        ("table_name", pa.string()),
        ("row_number", pa.int64()),  # 1-based position of the row in the day's landed table
        ("field", pa.string()),  # the column the first broken rule is about
        ("reason", pa.string()),  # the broken rule, in a sentence
        ("record", pa.string()),  # the row as JSON: nothing is lost
    ]
)

QUARANTINE_TABLES: dict[str, pa.Schema] = {
    **{table: QUARANTINE_SCHEMA for table in RAW_TABLES},
    # The ledger: per raw table and day, rows in = rows accepted + rows quarantined.
    "reconciliation": pa.schema(
        [
            ("table_name", pa.string()),
            ("rows_in", pa.int64()),
            ("rows_accepted", pa.int64()),
            ("rows_quarantined", pa.int64()),
        ]
    ),
}

# The per-cell genealogy of a simulated factory day (orchestration/genealogy): the OCEL 2.0 relational core,
# one file per table and factory day, derived from the day's landed production events. dbt's `ocel` schema
# reads them.
GENEALOGY_TABLES: dict[str, pa.Schema] = {
    "event": pa.schema(
        [
            ("ocel_id", pa.string()),
            ("ocel_type", pa.string()),  # the activity
            ("ocel_time", UTC_TS),
            ("batch_event_id", pa.string()),  # the production event (batch step) it belongs to
        ]
    ),
    "object": pa.schema([("ocel_id", pa.string()), ("ocel_type", pa.string())]),
    "event_object": pa.schema(
        [("ocel_event_id", pa.string()), ("ocel_object_id", pa.string()), ("ocel_qualifier", pa.string())]
    ),
    "object_object": pa.schema(
        [("ocel_source_id", pa.string()), ("ocel_target_id", pa.string()), ("ocel_qualifier", pa.string())]
    ),
    # One row per attribute value; numbers in value_num, text in value_str (exactly one is set).
    "object_attribute": pa.schema(
        [
            ("ocel_id", pa.string()),
            ("ocel_time", UTC_TS),
            ("name", pa.string()),
            ("value_num", pa.float64()),
            ("value_str", pa.string()),
        ]
    ),
}

# Lake layers: the directory under the lake and the tables it holds.
LAYERS: dict[str, dict[str, pa.Schema]] = {
    "raw": RAW_TABLES,
    "truth": TRUTH_TABLES,
    "quarantine": QUARANTINE_TABLES,
    "genealogy": GENEALOGY_TABLES,
}

SENSOR_ANOMALY_KINDS = ("spike", "drift", "level_shift", "stuck", "gap")

MACHINE_STATES = ("producing", "setup", "planned_maintenance", "breakdown", "micro_stop", "idle")
