"""The wire format of a sensor reading, and the rules a reading must pass to be landed.

A message (MQTT payload or HTTP body) is UTF-8 JSON, one of:

- one reading: ``{"sensor_id", "machine_id", "measure", "unit", "reading_ts", "value"}``;
- a list of readings;
- an envelope ``{"source": "gw-7", "batch": 42, "readings": [...]}``: ``source`` names the publisher (its
  clock's skew is tracked) and ``batch`` is its sequence number, echoed back in a receipt once the readings
  are in the write-ahead log (``gigafactory/receipts/<source>``).

``reading_ts`` is the source timestamp: ISO 8601 with a UTC offset (``2026-11-09T05:00:01.5Z``) or epoch
seconds. A reading that breaks a rule goes to the quarantine with the reason; the others of the message land.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime

READING_FIELDS = ("sensor_id", "machine_id", "measure", "unit", "reading_ts", "value")
TEXT_FIELDS = ("sensor_id", "machine_id", "measure", "unit")
EARLIEST_US = 946_684_800_000_000  # 2000-01-01: older stamps are a source whose clock was never set

# A reading inside the service: (sensor_id, machine_id, measure, unit, reading_ts in epoch us, value)
Reading = tuple[str, str, str, str, int, float]


@dataclass
class Rejection:
    reason: str
    field: str
    record: str  # the reading (or the whole payload) as received, as JSON


@dataclass
class Parsed:
    readings: list[Reading] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    source: str | None = None
    batch: int | None = None


def _timestamp_us(raw: object) -> int:
    if isinstance(raw, bool):
        raise ValueError("reading_ts must be an ISO 8601 timestamp or epoch seconds, not a boolean")
    if isinstance(raw, int | float):
        if not math.isfinite(raw):
            raise ValueError("reading_ts is not a finite number")
        return round(raw * 1_000_000)
    if isinstance(raw, str):
        try:
            stamp = datetime.fromisoformat(raw)
        except ValueError:
            raise ValueError(f"reading_ts {raw!r} is not an ISO 8601 timestamp") from None
        if stamp.tzinfo is None:
            raise ValueError(f"reading_ts {raw!r} has no UTC offset: the source's timezone is unknown")
        return round(stamp.timestamp() * 1_000_000)
    raise ValueError("reading_ts must be an ISO 8601 timestamp or epoch seconds")


def validate_reading(item: object, received_us: int, max_future_skew_us: int) -> Reading | Rejection:
    if not isinstance(item, dict):
        return Rejection("a reading must be a JSON object", "", json.dumps(item, default=str))
    for name in TEXT_FIELDS:
        text = item.get(name)
        if not isinstance(text, str) or not text.strip():
            return Rejection(f"{name} must be a non-empty string", name, json.dumps(item, default=str))
    value = item.get("value")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return Rejection("value must be a finite number", "value", json.dumps(item, default=str))
    try:
        ts_us = _timestamp_us(item.get("reading_ts"))
    except ValueError as error:
        return Rejection(str(error), "reading_ts", json.dumps(item, default=str))
    if ts_us < EARLIEST_US:
        return Rejection(
            "reading_ts is before 2000-01-01: the source clock is unset", "reading_ts", json.dumps(item)
        )
    if ts_us - received_us > max_future_skew_us:
        ahead = (ts_us - received_us) / 1e6
        return Rejection(
            f"reading_ts is {ahead:.1f} s ahead of the receiving clock (more than the allowed skew)",
            "reading_ts",
            json.dumps(item),
        )
    return (item["sensor_id"], item["machine_id"], item["measure"], item["unit"], ts_us, float(value))


def parse_message(payload: bytes, received_us: int, max_future_skew_us: int) -> Parsed:
    """Split a message into valid readings and rejections; never raises on bad input."""
    parsed = Parsed()
    try:
        body = json.loads(payload)
    except (UnicodeDecodeError, ValueError) as error:
        text = payload[:2000].decode("utf-8", "replace")
        parsed.rejections.append(Rejection(f"payload is not valid JSON: {error}", "", json.dumps(text)))
        return parsed
    if isinstance(body, dict) and "readings" in body:
        source, batch = body.get("source"), body.get("batch")
        parsed.source = source if isinstance(source, str) and source else None
        parsed.batch = batch if isinstance(batch, int) and not isinstance(batch, bool) else None
        items = body["readings"]
        if not isinstance(items, list):
            parsed.rejections.append(Rejection("readings must be a list", "readings", json.dumps(body)))
            return parsed
    elif isinstance(body, list):
        items = body
    else:
        items = [body]
    for item in items:
        outcome = validate_reading(item, received_us, max_future_skew_us)
        if isinstance(outcome, Rejection):
            parsed.rejections.append(outcome)
        else:
            parsed.readings.append(outcome)
    return parsed


def group_of(machine_id: str) -> str:
    """The sensor group a machine's readings land in: its family, e.g. ``COAT`` for ``COAT-01``."""
    head = machine_id.split("-", 1)[0].split(".", 1)[0]
    cleaned = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in head)
    return cleaned or "other"
