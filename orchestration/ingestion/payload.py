"""The wire format of a sensor reading, and the rules a reading must pass to be landed.

A message (MQTT payload or HTTP body) is UTF-8 JSON, one of:

- one reading: ``{"sensor_id", "machine_id", "measure", "unit", "reading_ts", "value"}``;
- a list of readings;
- an envelope ``{"source": "gw-7", "batch": 42, "readings": [...]}``: ``source`` names the publisher (its
  clock's skew is tracked) and ``batch`` is its sequence number, echoed back in a receipt once the readings
  are in the write-ahead log (``gigafactory/receipts/<source>``).

``reading_ts`` is the source timestamp: ISO 8601 with a UTC offset (``2026-11-09T05:00:01.5Z``) or epoch
seconds. A reading that breaks a rule goes to the quarantine with the reason; the others of the message land.
A message that cannot be read at all (not JSON, nested too deep, over the size limit, a ``source`` that is not
an identifier) goes to the quarantine whole. Nothing a publisher sends can raise here: the service's committer
must outlive any input.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

READING_FIELDS = ("sensor_id", "machine_id", "measure", "unit", "reading_ts", "value")
TEXT_FIELDS = ("sensor_id", "machine_id", "measure", "unit")
EARLIEST_US = 946_684_800_000_000  # 2000-01-01: older stamps are a source whose clock was never set
MAX_TEXT = 200  # characters of an identifier field: a name, not a document
# a publisher's name goes into an MQTT topic (its receipts): no wildcard (# +), no level separator (/)
SOURCE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")

# A reading inside the service: (sensor_id, machine_id, measure, unit, reading_ts in epoch us, value)
Reading = tuple[str, str, str, str, int, float]


@dataclass
class Rejection:
    reason: str
    field: str
    record: str  # the reading (or the whole payload) as received, as JSON


@dataclass(frozen=True)
class ReadingRules:
    """What a message and its readings must meet to land. ``earliest_us``: the plant's first factory day
    (older stamps are a clock that was never set, or a replay from another system); ``max_future_skew_us``:
    how far a stamp may run ahead of the receiving clock."""

    earliest_us: int = EARLIEST_US
    max_future_skew_us: int = 300_000_000
    max_message_bytes: int = 4 << 20


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
        try:
            return round(float(raw) * 1_000_000)
        except (OverflowError, ValueError):  # inf, nan, or an integer beyond a float's range
            raise ValueError("reading_ts is not a finite number of epoch seconds") from None
    if isinstance(raw, str):
        try:
            stamp = datetime.fromisoformat(raw)
        except ValueError:
            raise ValueError(f"reading_ts {raw!r} is not an ISO 8601 timestamp") from None
        if stamp.tzinfo is None:
            raise ValueError(f"reading_ts {raw!r} has no UTC offset: the source's timezone is unknown")
        return round(stamp.timestamp() * 1_000_000)
    raise ValueError("reading_ts must be an ISO 8601 timestamp or epoch seconds")


def _as_float(value: object) -> float | None:
    """The reading's value as a finite float; None for anything else (a bool, a string, an integer of 400
    digits that no float holds, inf, nan)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def validate_reading(item: object, received_us: int, rules: ReadingRules) -> Reading | Rejection:
    record = _record(item)
    if not isinstance(item, dict):
        return Rejection("a reading must be a JSON object", "", record)
    for name in TEXT_FIELDS:
        text = item.get(name)
        if not isinstance(text, str) or not text.strip():
            return Rejection(f"{name} must be a non-empty string", name, record)
        if len(text) > MAX_TEXT or "\x00" in text:
            return Rejection(f"{name} must be a name of at most {MAX_TEXT} characters", name, record)
    value = _as_float(item.get("value"))
    if value is None:
        return Rejection("value must be a finite number", "value", record)
    try:
        ts_us = _timestamp_us(item.get("reading_ts"))
    except ValueError as error:
        return Rejection(str(error), "reading_ts", record)
    if ts_us < rules.earliest_us:
        first = datetime.fromtimestamp(rules.earliest_us / 1e6, UTC).date()
        return Rejection(
            f"reading_ts is before {first.isoformat()}, the plant's first factory day: a source clock that "
            "was never set, or old data",
            "reading_ts",
            record,
        )
    if ts_us - received_us > rules.max_future_skew_us:
        ahead = (ts_us - received_us) / 1e6
        return Rejection(
            f"reading_ts is {ahead:.1f} s ahead of the receiving clock (more than the allowed skew)",
            "reading_ts",
            record,
        )
    return (item["sensor_id"], item["machine_id"], item["measure"], item["unit"], ts_us, value)


def _record(item: object) -> str:
    """What the quarantine keeps of a rejected item: its JSON, cut to 2,000 characters (the whole of a 50 MB
    field would make the quarantine the next problem)."""
    try:
        text = json.dumps(item, default=str)
    except (ValueError, RecursionError):
        text = json.dumps(repr(item)[:2000])
    return text if len(text) <= 2000 else json.dumps(text[:2000] + "...")


def _whole(parsed: Parsed, reason: str, field_name: str, payload: bytes) -> Parsed:
    text = payload[:2000].decode("utf-8", "replace")
    parsed.rejections.append(Rejection(reason, field_name, json.dumps(text)))
    return parsed


def parse_message(payload: bytes, received_us: int, rules: ReadingRules) -> Parsed:
    """Split a message into valid readings and rejections; never raises on bad input."""
    parsed = Parsed()
    if len(payload) > rules.max_message_bytes:
        reason = f"message of {len(payload)} bytes is over the limit of {rules.max_message_bytes}"
        return _whole(parsed, reason, "", payload)
    try:
        body = json.loads(payload)
    except (UnicodeDecodeError, ValueError) as error:
        return _whole(parsed, f"payload is not valid JSON: {error}", "", payload)
    except RecursionError:  # the decoder's own limit on nesting
        return _whole(parsed, "payload is nested too deep to be a reading", "", payload)
    if isinstance(body, dict) and "readings" in body:
        source, batch = body.get("source"), body.get("batch")
        if source in ("", None):  # no name given: no receipts, no clock tracking
            source = None
        elif not (isinstance(source, str) and SOURCE_RE.fullmatch(source)):
            shown = _record(source)[:200]
            reason = f"source must be an identifier (letters, digits, _ . : -; at most 64), not {shown}"
            return _whole(parsed, reason, "source", payload)
        parsed.source = source
        if isinstance(batch, int) and not isinstance(batch, bool) and 0 <= batch < 2**63:
            parsed.batch = batch
        items = body["readings"]
        if not isinstance(items, list):
            parsed.rejections.append(Rejection("readings must be a list", "readings", _record(body)))
            return parsed
    elif isinstance(body, list):
        items = body
    else:
        items = [body]
    for item in items:
        outcome = validate_reading(item, received_us, rules)
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
