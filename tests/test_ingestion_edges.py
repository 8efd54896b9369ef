"""Live ingestion without a network: the wire format's rules, the feed's sources and buffer, the lander's
recovery from a crash mid-compaction, and what the hooks report on an empty, torn or half-landed lake."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration.factory_calendar import FactoryCalendar
from orchestration.ingestion import landed_minutes_since, read_gaps, read_quarantine, score_latest
from orchestration.ingestion.feed import BufferedPublisher, replay, simulated_telemetry, synthetic_plant
from orchestration.ingestion.lander import Lander
from orchestration.ingestion.payload import ReadingRules, group_of, parse_message
from orchestration.settings import DATA_DIR

START = datetime(2026, 11, 9, 5, 0, tzinfo=UTC)  # 06:00 Berlin: the first minute of factory day 2026-11-09
START_US = int(START.timestamp() * 1e6)
RULES = ReadingRules(max_future_skew_us=300_000_000)
GOOD = {
    "sensor_id": "S1",
    "machine_id": "COAT-01",
    "measure": "t",
    "unit": "degC",
    "reading_ts": "2026-11-09T05:00:00Z",
    "value": 1.5,
}

BERLIN = FactoryCalendar("Europe/Berlin", day_start_hour=6)  # factory days from 06:00 local


def reading(sensor: str, ts_us: int, value: float = 1.0, machine: str = "COAT-01") -> tuple:
    return (sensor, machine, "temperature", "degC", ts_us, value)


def keys_on_disk(lake: Path) -> list[tuple[str, int]]:
    files = sorted((lake / "raw" / "sensor_readings").glob("date=*/live-*.parquet"))
    if not files:
        return []
    table = pa.concat_tables([pq.read_table(f) for f in files])
    stamps = table.column("reading_ts").cast(pa.int64()).to_pylist()
    return list(zip(table.column("sensor_id").to_pylist(), stamps, strict=True))


# ---------------------------------------------------------------- the wire format


@pytest.mark.parametrize(
    ("reading_ts", "reason"),
    [
        (True, "not a boolean"),
        (float("inf"), "not a finite number"),
        ("yesterday", "is not an ISO 8601 timestamp"),
        ([2026, 11, 9], "must be an ISO 8601 timestamp or epoch seconds"),
        (0, "before 2000-01-01, the plant's first factory day: a source clock that was never set"),
        ("1970-01-01T00:00:05+00:00", "before 2000-01-01"),
    ],
)
def test_a_reading_with_an_unusable_timestamp_is_quarantined_naming_the_field(reading_ts, reason):
    parsed = parse_message(json.dumps({**GOOD, "reading_ts": reading_ts}).encode(), START_US, RULES)
    assert parsed.readings == []
    (rejection,) = parsed.rejections
    assert rejection.field == "reading_ts" and reason in rejection.reason
    assert json.loads(rejection.record)["sensor_id"] == "S1"  # the reading as received, for the operator


def test_message_shapes_a_bare_reading_a_list_and_a_broken_envelope():
    single = parse_message(json.dumps({**GOOD, "reading_ts": START.timestamp()}).encode(), START_US, RULES)
    assert single.readings == [("S1", "COAT-01", "t", "degC", START_US, 1.5)]
    assert (single.source, single.batch) == (None, None)

    listed = parse_message(json.dumps([GOOD, "a string", {**GOOD, "value": True}]).encode(), START_US, RULES)
    assert len(listed.readings) == 1
    assert [(r.field, r.reason) for r in listed.rejections] == [
        ("", "a reading must be a JSON object"),
        ("value", "value must be a finite number"),  # a boolean is not a measurement
    ]

    envelope = {"source": "", "batch": True, "readings": {"not": "a list"}}
    broken = parse_message(json.dumps(envelope).encode(), START_US, RULES)
    assert (broken.source, broken.batch, broken.readings) == (None, None, [])
    assert [(r.field, r.reason) for r in broken.rejections] == [("readings", "readings must be a list")]

    undecodable = parse_message(b"\xff\xfe\x00", START_US, RULES)
    assert "not valid JSON" in undecodable.rejections[0].reason


@pytest.mark.parametrize(
    ("machine_id", "group"),
    [("COAT-01", "COAT"), ("ROOM.dry-1", "ROOM"), ("L 7-02", "L_7"), ("-03", "other"), ("CAL", "CAL")],
)
def test_a_machines_readings_land_in_its_family_group(machine_id, group):
    assert group_of(machine_id) == group


# ---------------------------------------------------------------- the feed


def test_simulated_telemetry_replays_one_factory_day_instant_by_instant_in_time_order():
    day = date(2026, 11, 9)
    instants = list(simulated_telemetry(DATA_DIR / "scenarios" / "test_small.yaml", day))
    stamps = [ts for ts, _ in instants]
    assert stamps == sorted(set(stamps))  # one entry per instant, ascending
    assert START_US <= stamps[0] and stamps[-1] < START_US + 24 * 3600 * 1_000_000  # 06:00 to 06:00 Berlin
    assert len(instants) == 24 * 3600 // 300  # the tiny plant samples every 5 minutes
    for ts_us, by_group in instants[:5] + instants[-5:]:
        for group, readings in by_group.items():
            assert {group_of(r["machine_id"]) for r in readings} == {group}
            parsed = parse_message(json.dumps(readings).encode(), ts_us, RULES)
            assert parsed.rejections == [] and {r[4] for r in parsed.readings} == {ts_us}


class Recorder:
    """Stands in for the publisher: what ``replay`` submitted, group by group."""

    def __init__(self):
        self.batches: list[tuple[str, list[dict]]] = []

    def submit(self, group: str, readings: list[dict]) -> int:
        self.batches.append((group, readings))
        return len(self.batches)


def test_replay_live_moves_the_stamps_to_now_keeping_their_spacing_and_stops_at_the_limit():
    recorder = Recorder()
    before = datetime.now(UTC)
    plant = synthetic_plant(4, 0.02, start_us=START_US, groups=2)
    submitted = replay(recorder, plant, speed=1.0, live=True, limit=10)
    assert submitted == 12  # whole instants of 4 readings: the third reaches the limit of 10
    stamps = sorted({datetime.fromisoformat(r["reading_ts"]) for _, rows in recorder.batches for r in rows})
    assert len(stamps) == 3 and stamps[0] >= before
    assert [b - a for a, b in zip(stamps, stamps[1:], strict=False)] == [timedelta(milliseconds=20)] * 2
    assert {group for group, _ in recorder.batches} == {"L00", "L01"}

    recorder = Recorder()
    replay(recorder, synthetic_plant(2, 1.0, start_us=START_US, groups=1), speed=0, limit=4)
    stamps = [r["reading_ts"] for _, rows in recorder.batches for r in rows]
    assert stamps == ["2026-11-09T05:00:00Z"] * 2 + ["2026-11-09T05:00:01Z"] * 2  # a backfill keeps them


def test_an_unreachable_broker_fills_the_buffer_and_the_oldest_batches_are_dropped_beyond_its_bound(
    unused_port,
):
    publisher = BufferedPublisher("127.0.0.1", unused_port, source="gw", max_buffered=5)
    try:
        batches = [publisher.submit("COAT", [{"n": i}, {"n": i + 1}]) for i in range(0, 8, 2)]
        assert batches == [1, 2, 3, 4]
        assert publisher.pending_readings() == 4  # 8 submitted, bound 5: the two oldest batches went
        assert publisher.stats["dropped"] == 4 and publisher.stats["published"] == 0
        assert publisher.flush(timeout_s=0.1) is False
    finally:
        publisher.close()


@pytest.fixture
def unused_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------- the lander after a crash


def test_a_compaction_interrupted_before_the_swap_is_undone_and_redone(tmp_path):
    lander = Lander(tmp_path, BERLIN, idle_close_s=60)
    lander.land([reading("COAT-01.t", START_US + s * 1_000_000, float(s)) for s in range(30)])
    lander.land([reading("COAT-01.t", START_US + s * 1_000_000, float(s)) for s in range(30, 60)])
    folder = tmp_path / "raw" / "sensor_readings" / "date=2026-11-09"
    parts = sorted(folder.glob("live-COAT-202611090500-p*.parquet"))
    assert len(parts) == 2
    # the crash: the merged file written beside the parts, the intent recorded, the swap not yet done
    tmp = folder / "live-COAT-202611090500.parquet.tmp"
    pq.write_table(pa.concat_tables([pq.read_table(p) for p in parts]), tmp)
    intents = tmp_path / "ingest" / "compaction"
    intents.mkdir(parents=True)
    (intents / "COAT-202611090500.json").write_text(
        json.dumps({"tmp": str(tmp), "parts": [str(p) for p in parts]})
    )
    (folder / "live-COAT-202611090501.tmp").write_bytes(b"half a file")

    restarted = Lander(tmp_path, BERLIN, idle_close_s=60)
    assert not tmp.exists() and not list(intents.iterdir()) and not list(folder.glob("*.tmp"))
    assert all(p.exists() for p in parts)  # the parts still hold the readings
    assert restarted.land([reading("COAT-01.t", START_US + 10_000_000)]) == 0  # known from the parts
    assert restarted.compact_due(force=True) == 1
    assert [p.name for p in folder.iterdir()] == ["live-COAT-202611090500.parquet"]
    keys = keys_on_disk(tmp_path)
    assert len(keys) == len(set(keys)) == 60


def test_a_compaction_interrupted_after_the_swap_deletes_the_merged_parts(tmp_path):
    lander = Lander(tmp_path, BERLIN, idle_close_s=60)
    lander.land([reading("COAT-01.t", START_US + s * 1_000_000) for s in range(20)])
    folder = tmp_path / "raw" / "sensor_readings" / "date=2026-11-09"
    parts = sorted(folder.glob("live-*-p*.parquet"))
    merged = folder / "live-COAT-202611090500.parquet"
    pq.write_table(pa.concat_tables([pq.read_table(p) for p in parts]), merged)
    intents = tmp_path / "ingest" / "compaction"
    intents.mkdir(parents=True)
    missing_tmp = str(merged) + ".tmp"
    (intents / "COAT-202611090500.json").write_text(
        json.dumps({"tmp": missing_tmp, "parts": [str(p) for p in parts]})
    )

    Lander(tmp_path, BERLIN, idle_close_s=60)
    assert [p.name for p in folder.iterdir()] == [merged.name]
    keys = keys_on_disk(tmp_path)
    assert len(keys) == len(set(keys)) == 20  # each reading once, not once from the file and once from a part


def test_a_restarted_lander_measures_a_gap_from_the_last_reading_of_an_earlier_minute(tmp_path):
    first = Lander(tmp_path, BERLIN, idle_close_s=60)
    first.land([reading("COAT-01.t", START_US + s * 1_000_000) for s in range(0, 50)])
    first.compact_due(force=True)
    first.sync()  # the compacted parts are gone: nothing to fsync, nothing fails
    restarted = Lander(tmp_path, BERLIN, idle_close_s=60)  # knows no previous reading in memory
    restarted.land([reading("COAT-01.t", START_US + s * 1_000_000) for s in range(70, 120)])
    restarted.compact_due(force=True)
    (gap,) = read_gaps(tmp_path, "2026-11-09").to_pylist()
    assert gap["gap_start_ts"] == START + timedelta(seconds=49)
    assert gap["gap_end_ts"] == START + timedelta(seconds=70)
    assert gap["gap_s"] == 21.0 and gap["expected_interval_s"] == 1.0
    assert read_gaps(tmp_path, "2026-11-10").num_rows == 0


# ---------------------------------------------------------------- the hooks


def test_hooks_on_an_empty_lake_report_nothing(tmp_path):
    assert landed_minutes_since(tmp_path, None)[0] == []
    assert score_latest(tmp_path) == []
    assert score_latest(tmp_path, now=START) == []
    assert read_gaps(tmp_path).num_rows == 0
    assert read_quarantine(tmp_path) == []


def test_landed_minutes_count_compacted_minutes_only_and_a_cursor_does_not_repeat_them(tmp_path):
    lander = Lander(tmp_path, BERLIN, idle_close_s=60)
    lander.land([reading("COAT-01.t", START_US + s * 1_000_000) for s in range(10)])
    assert landed_minutes_since(tmp_path, None)[0] == []  # only a part file: queryable, not yet landed
    lander.compact_due(force=True)
    days, cursor = landed_minutes_since(tmp_path, None)
    assert days == ["2026-11-09"]
    assert landed_minutes_since(tmp_path, cursor)[0] == []  # nothing new since
    time.sleep(0.01)
    lander.land([reading("COAT-01.t", START_US - 3_600_000_000)])  # 05:00 Berlin: the day before
    lander.compact_due(force=True)
    assert landed_minutes_since(tmp_path, cursor)[0] == ["2026-11-08"]


def test_a_sensor_with_one_reading_is_listed_without_a_score(tmp_path):
    lander = Lander(tmp_path, BERLIN)
    lander.land([reading("COAT-01.t", START_US)])
    lander.land([reading("COAT-02.t", START_US + s * 1_000_000, 5.0, "COAT-02") for s in range(10)])
    scores = {row["sensor_id"]: row for row in score_latest(tmp_path)}
    assert scores["COAT-01.t"]["robust_z"] is None and scores["COAT-01.t"]["n_baseline"] == 0
    assert not scores["COAT-01.t"]["is_anomaly"]
    assert scores["COAT-02.t"]["robust_z"] == 0.0 and scores["COAT-02.t"]["n_baseline"] == 9
    # a reading two days before the window is not read at all
    assert score_latest(tmp_path, now=START + timedelta(days=3)) == []


def test_the_quarantine_lists_a_redelivered_reading_once_and_skips_a_torn_line(tmp_path):
    folder = tmp_path / "ingest" / "quarantine"
    folder.mkdir(parents=True)
    row = {
        "received_ts": "t",
        "channel": "http",
        "source": "gw",
        "reason": "r",
        "field": "value",
        "record": "{}",
    }
    lines = [json.dumps(row), json.dumps(row), json.dumps({**row, "record": '{"a": 1}'}), '{"torn']
    (folder / "quarantine-2026-11-09.jsonl").write_text("\n".join(lines))
    assert [r["record"] for r in read_quarantine(tmp_path)] == ["{}", '{"a": 1}']
