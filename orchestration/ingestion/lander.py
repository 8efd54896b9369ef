"""Landing: accepted readings become Parquet files per sensor group and minute, exactly once.

Within ``flush_interval`` of arrival a reading is written to a *part* file beside the minute's file,
``live-<group>-<YYYYMMDDHHMM>-p<n>.parquet`` (so it is queryable in well under a second). When the minute is
closed (the group's event-time watermark is ``lateness`` past its end, or no reading came for it for
``idle_close`` seconds), its parts are compacted into ``live-<group>-<YYYYMMDDHHMM>.parquet``. A reading that
arrives after its minute closed (a late arrival, a replay) is written as a part again and the minute is
compacted anew, so it lands in its own minute and factory day, and the day shows up as touched again.

Exactly once: every reading is checked against the (sensor_id, reading_ts) keys already landed for its
group and minute (kept in memory, read back from the minute's files after a restart) before it is written.
Compaction is crash-safe: the merged file is written and fsynced, an intent naming the parts is written, the
merged file replaces the old one, the parts are deleted, the intent is removed; a restart finishes or undoes
an interrupted compaction.

Gaps: at compaction each sensor's readings (with its previous reading, from memory or the earlier minutes'
files) are checked for a silence longer than ``gap_factor`` times its expected interval (learned as the
median spacing, else ``default_interval_s``). Each gap is a row in ``<lake>/ingest/gaps``; nothing is
filled in.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections import deque
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from orchestration.atomic_files import fsync_folder, replacing, write_atomically
from orchestration.factory_calendar import FactoryCalendar
from orchestration.ingestion.payload import Reading, group_of
from orchestration.lake.tables import RAW_TABLES

SCHEMA = RAW_TABLES["sensor_readings"]
MINUTE_US = 60_000_000
FILE_RE = re.compile(r"^live-(?P<group>[A-Za-z0-9_]+)-(?P<minute>\d{12})(?:-p(?P<part>\d+))?\.parquet$")
GAP_SCHEMA = pa.schema(
    [
        ("sensor_id", pa.string()),
        ("machine_id", pa.string()),
        ("gap_start_ts", pa.timestamp("us", tz="UTC")),  # the last reading before the silence
        ("gap_end_ts", pa.timestamp("us", tz="UTC")),  # the first reading after it
        ("gap_s", pa.float64()),
        ("expected_interval_s", pa.float64()),
    ]
)
LOOKBACK_MINUTES = 60  # how far back a restarted lander looks for a sensor's previous reading


def minute_label(minute_us: int) -> str:
    return datetime.fromtimestamp(minute_us / 1e6, UTC).strftime("%Y%m%d%H%M")


def minute_of_label(label: str) -> int:
    stamp = datetime.strptime(label, "%Y%m%d%H%M").replace(tzinfo=UTC)
    return int(stamp.timestamp()) * 1_000_000


def readings_dir(lake_dir: Path) -> Path:
    return lake_dir / "raw" / "sensor_readings"


class Lander:
    def __init__(
        self,
        lake_dir: Path,
        calendar: FactoryCalendar,  # the plant's: readings land in its factory days
        lateness_s: float = 5.0,
        idle_close_s: float = 10.0,
        default_interval_s: float = 1.0,
        gap_factor: float = 3.0,
    ):
        self.lake_dir = lake_dir
        self.root = readings_dir(lake_dir)
        self.gaps_dir = lake_dir / "ingest" / "gaps"
        self.intents_dir = lake_dir / "ingest" / "compaction"
        self._calendar = calendar
        self.lateness_us = int(lateness_s * 1e6)
        self.idle_close_s = idle_close_s
        self.default_interval_s = default_interval_s
        self.gap_factor = gap_factor
        self._keys: dict[tuple[str, int], dict[str, set[int]]] = {}
        self._keys_touched: dict[tuple[str, int], float] = {}
        self._open: dict[tuple[str, int], list[Path]] = {}  # parts not yet compacted
        self._last_write: dict[tuple[str, int], float] = {}
        self._watermark: dict[str, int] = {}
        self._previous: dict[str, tuple[int, int, float]] = {}  # sensor -> (minute, last ts, interval s)
        self._group_of: dict[str, str] = {}
        self._day_of: dict[int, str] = {}
        self._unsynced: list[Path] = []
        self._part_seq = time.time_ns()
        self.latencies_us: deque[np.ndarray] = deque()
        self._latency_count = 0
        self.counters = {"landed": 0, "duplicates": 0, "late": 0, "parts": 0, "compactions": 0, "gaps": 0}
        self._recover()

    # ---- paths
    def day_of(self, minute_us: int) -> str:
        day = self._day_of.get(minute_us)
        if day is None:
            instant = datetime.fromtimestamp(minute_us / 1e6, UTC)
            day = self._day_of[minute_us] = self._calendar.day_of(instant).isoformat()
        return day

    def minute_file(self, group: str, minute_us: int) -> Path:
        return (
            self.root / f"date={self.day_of(minute_us)}" / f"live-{group}-{minute_label(minute_us)}.parquet"
        )

    def _parts_on_disk(self, group: str, minute_us: int) -> list[Path]:
        folder = self.root / f"date={self.day_of(minute_us)}"
        return sorted(folder.glob(f"live-{group}-{minute_label(minute_us)}-p*.parquet"))

    # ---- start-up
    def _recover(self) -> None:
        """Finish or undo interrupted compactions; pick up parts left open by the last run."""
        if self.intents_dir.exists():
            for intent_path in self.intents_dir.glob("*.json"):
                intent = json.loads(intent_path.read_text())
                tmp = Path(intent["tmp"])
                if tmp.exists():  # the merged file never replaced the old one: undo
                    tmp.unlink()
                else:  # it did: the parts are in it
                    for part in intent["parts"]:
                        Path(part).unlink(missing_ok=True)
                intent_path.unlink()
        if not self.root.exists():
            return
        now = time.monotonic()
        for folder in self.root.glob("date=*"):
            for stray in folder.glob("live-*.tmp"):
                stray.unlink()
            for path in folder.glob("live-*-p*.parquet"):
                match = FILE_RE.match(path.name)
                if match:
                    key = (match["group"], minute_of_label(match["minute"]))
                    self._open.setdefault(key, []).append(path)
                    self._last_write[key] = now

    # ---- landing
    def _keys_for(self, key: tuple[str, int]) -> dict[str, set[int]]:
        keys = self._keys.get(key)
        if keys is None:
            keys = {}
            group, minute_us = key
            files = [self.minute_file(group, minute_us), *self._parts_on_disk(group, minute_us)]
            for path in files:
                if not path.exists():
                    continue
                table = pq.read_table(path, columns=["sensor_id", "reading_ts"])
                sensors = table.column("sensor_id").to_pylist()
                stamps = table.column("reading_ts").cast(pa.int64()).to_pylist()
                for sensor, stamp in zip(sensors, stamps, strict=True):
                    keys.setdefault(sensor, set()).add(stamp)
            self._keys[key] = keys
        self._keys_touched[key] = time.monotonic()
        return keys

    def land(self, readings: list[Reading]) -> int:
        """Write the new readings of ``readings`` as part files; returns how many were new."""
        if not readings:
            return 0
        buckets: dict[tuple[str, int], list[Reading]] = {}
        now_us = time.time_ns() // 1000
        duplicates = 0
        group_cache = self._group_of
        last_key = None
        keys = bucket = None
        for reading in readings:
            machine = reading[1]
            group = group_cache.get(machine)
            if group is None:
                group = group_cache[machine] = group_of(machine)
            ts = reading[4]
            key = (group, ts - ts % MINUTE_US)
            if key != last_key:
                keys = self._keys_for(key)
                bucket = buckets.setdefault(key, [])
                last_key = key
            stamps = keys.get(reading[0])
            if stamps is None:
                stamps = keys[reading[0]] = set()
            elif ts in stamps:
                duplicates += 1
                continue
            stamps.add(ts)
            bucket.append(reading)
            mark = ts if ts < now_us else now_us  # a fast clock must not close others' minutes
            if mark > self._watermark.get(group, 0):
                self._watermark[group] = mark
        self.counters["duplicates"] += duplicates
        landed = 0
        written_ts = []
        for key, rows in buckets.items():
            if not rows:
                continue
            path = self._write_part(key, rows)
            self._open.setdefault(key, []).append(path)
            self._last_write[key] = time.monotonic()
            if self.minute_file(*key).exists():
                self.counters["late"] += len(rows)
            landed += len(rows)
            written_ts.append(np.fromiter((r[4] for r in rows), dtype=np.int64, count=len(rows)))
        if written_ts:
            visible_us = time.time_ns() // 1000
            latencies = visible_us - np.concatenate(written_ts)
            self.latencies_us.append(latencies)
            self._latency_count += len(latencies)
            while self._latency_count > 2_000_000:
                self._latency_count -= len(self.latencies_us.popleft())
        self.counters["landed"] += landed
        return landed

    def _write_part(self, key: tuple[str, int], rows: list[Reading]) -> Path:
        group, minute_us = key
        self._part_seq += 1
        folder = self.root / f"date={self.day_of(minute_us)}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"live-{group}-{minute_label(minute_us)}-p{self._part_seq}.parquet"
        columns = list(zip(*rows, strict=True))
        table = pa.Table.from_arrays(
            [
                pa.array(columns[0], pa.string()),
                pa.array(columns[1], pa.string()),
                pa.array(columns[2], pa.string()),
                pa.array(columns[3], pa.string()),
                pa.array(columns[4], pa.int64()).cast(SCHEMA.field("reading_ts").type),
                pa.array(columns[5], pa.float64()),
            ],
            schema=SCHEMA,
        )
        with replacing(path) as tmp:
            pq.write_table(table, tmp, compression="zstd")
        self._unsynced.append(path)
        self.counters["parts"] += 1
        return path

    def sync(self) -> None:
        """Make the parts written since the last call durable (before the WAL checkpoint moves past them)."""
        folders = set()
        for path in self._unsynced:
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:  # compacted meanwhile; the merged file was fsynced
                continue
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            folders.add(path.parent)
        for folder in folders:
            fsync_folder(folder)
        self._unsynced.clear()

    # ---- compaction
    def compact_due(self, force: bool = False) -> int:
        now = time.monotonic()
        due = [
            key
            for key in self._open
            if force
            or self._watermark.get(key[0], 0) >= key[1] + MINUTE_US + self.lateness_us
            or now - self._last_write.get(key, 0.0) >= self.idle_close_s
        ]
        for key in sorted(due, key=lambda k: (k[1], k[0])):
            self.compact(key)
        # forget dedup keys of minutes closed long ago (read back from disk if a straggler comes)
        for key, touched in list(self._keys_touched.items()):
            if key not in self._open and now - touched > 120:
                self._keys.pop(key, None)
                self._keys_touched.pop(key, None)
        return len(due)

    def compact(self, key: tuple[str, int]) -> None:
        group, minute_us = key
        parts = self._open.pop(key, [])
        self._last_write.pop(key, None)
        target = self.minute_file(group, minute_us)
        sources = ([target] if target.exists() else []) + [p for p in parts if p.exists()]
        if not parts or not sources:
            return
        table = pa.concat_tables([pq.read_table(p, schema=SCHEMA) for p in sources])
        table = table.sort_by([("sensor_id", "ascending"), ("reading_ts", "ascending")])
        table = _drop_repeated_keys(table)
        gaps = self._find_gaps(group, minute_us, table)
        tmp = target.with_name(target.name + ".tmp")
        pq.write_table(table, tmp, compression="zstd")
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        self.intents_dir.mkdir(parents=True, exist_ok=True)
        intent = self.intents_dir / f"{group}-{minute_label(minute_us)}.json"
        write_atomically(
            intent, json.dumps({"tmp": str(tmp), "parts": [str(p) for p in parts]}), durable=True
        )
        os.replace(tmp, target)
        fsync_folder(target.parent)
        for part in parts:
            part.unlink(missing_ok=True)
        intent.unlink()
        self._write_gaps(group, minute_us, gaps)
        self.counters["compactions"] += 1

    def _previous_from_disk(self, group: str, minute_us: int, wanted: set[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for back in range(1, LOOKBACK_MINUTES + 1):
            if not wanted:
                break
            earlier = minute_us - back * MINUTE_US
            path = self.minute_file(group, earlier)
            if not path.exists():
                continue
            table = pq.read_table(path, columns=["sensor_id", "reading_ts"])
            last = table.group_by("sensor_id").aggregate([("reading_ts", "max")])
            for sensor, stamp in zip(
                last.column("sensor_id").to_pylist(),
                last.column("reading_ts_max").cast(pa.int64()).to_pylist(),
                strict=True,
            ):
                if sensor in wanted:
                    found[sensor] = stamp
                    wanted.discard(sensor)
        return found

    def _find_gaps(self, group: str, minute_us: int, table: pa.Table) -> list[dict]:
        sensors = table.column("sensor_id").to_numpy(zero_copy_only=False)
        machines = table.column("machine_id").to_numpy(zero_copy_only=False)
        stamps = table.column("reading_ts").cast(pa.int64()).to_numpy()
        if len(stamps) == 0:
            return []
        starts = np.flatnonzero(np.r_[True, sensors[1:] != sensors[:-1]])
        ends = np.r_[starts[1:], len(stamps)]
        from_cache, missing = {}, set()
        for first in starts:
            sensor = sensors[first]
            cached = self._previous.get(sensor)
            if cached is not None and cached[0] < minute_us:
                from_cache[sensor] = cached
            else:
                missing.add(sensor)
        from_disk = self._previous_from_disk(group, minute_us, set(missing)) if missing else {}
        gaps = []
        for first, end in zip(starts, ends, strict=True):
            sensor = sensors[first]
            cached = from_cache.get(sensor)
            previous = cached[1] if cached else from_disk.get(sensor)
            series = stamps[first:end] if previous is None else np.r_[previous, stamps[first:end]]
            spacing = np.diff(series)
            if len(spacing) >= 2:
                interval_s = float(np.median(spacing)) / 1e6
            elif cached:
                interval_s = cached[2]
            else:
                interval_s = self.default_interval_s
            interval_s = max(interval_s, 1e-6)
            for index in np.flatnonzero(spacing > self.gap_factor * interval_s * 1e6):
                gaps.append(
                    {
                        "sensor_id": sensor,
                        "machine_id": machines[first],
                        "gap_start_ts": int(series[index]),
                        "gap_end_ts": int(series[index + 1]),
                        "gap_s": float(spacing[index]) / 1e6,
                        "expected_interval_s": interval_s,
                    }
                )
            if cached is None or cached[0] <= minute_us:
                self._previous[sensor] = (minute_us, int(stamps[end - 1]), interval_s)
        return gaps

    def _write_gaps(self, group: str, minute_us: int, gaps: list[dict]) -> None:
        path = (
            self.gaps_dir
            / f"date={self.day_of(minute_us)}"
            / f"gaps-{group}-{minute_label(minute_us)}.parquet"
        )
        if not gaps:
            path.unlink(missing_ok=True)  # a late reading may have filled an earlier-recorded gap
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        columns = {name: [g[name] for g in gaps] for name in GAP_SCHEMA.names}
        table = pa.Table.from_pydict(
            {
                **columns,
                "gap_start_ts": pa.array(columns["gap_start_ts"], pa.int64()).cast(GAP_SCHEMA.field(2).type),
                "gap_end_ts": pa.array(columns["gap_end_ts"], pa.int64()).cast(GAP_SCHEMA.field(3).type),
            },
            schema=GAP_SCHEMA,
        )
        with replacing(path) as tmp:
            pq.write_table(table, tmp)
        self.counters["gaps"] += len(gaps)

    # ---- stats
    def latency_percentiles(self) -> dict[str, float | int]:
        if not self.latencies_us:
            return {"count": 0}
        values = np.concatenate(list(self.latencies_us)) / 1e3
        p50, p99, p999 = np.percentile(values, [50, 99, 99.9])
        return {
            "count": int(len(values)),
            "p50_ms": float(p50),
            "p99_ms": float(p99),
            "p999_ms": float(p999),
            "max_ms": float(values.max()),
        }

    def reset_latencies(self) -> None:
        self.latencies_us.clear()
        self._latency_count = 0


def _drop_repeated_keys(table: pa.Table) -> pa.Table:
    """Rows sorted by (sensor_id, reading_ts): keep the first of each key."""
    if table.num_rows < 2:
        return table
    sensors, stamps = table.column("sensor_id"), table.column("reading_ts")
    same = pc.and_(
        pc.equal(sensors.slice(1), sensors.slice(0, table.num_rows - 1)),
        pc.equal(stamps.slice(1), stamps.slice(0, table.num_rows - 1)),
    )
    keep = pa.concat_arrays([pa.array([True]), pc.invert(same.combine_chunks())])
    return table.filter(keep)
