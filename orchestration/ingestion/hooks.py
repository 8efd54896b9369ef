"""What Dagster (and anyone else) calls: landed minutes as partitions, near-real-time scores, gaps,
quarantine.

No Dagster import here: ``orchestration/defs`` wraps these in a sensor and an asset.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.ingestion.lander import FILE_RE, GAP_SCHEMA, readings_dir


def landed_minutes_since(lake_dir: Path, cursor: str | None) -> tuple[list[str], str]:
    """Factory days (partition keys) with a minute landed or re-landed since ``cursor``, and the new cursor.

    A minute counts as landed when it is compacted into ``live-<group>-<YYYYMMDDHHMM>.parquet`` (its part
    files are already queryable before that); a late arrival re-compacts its minute, so its day is reported
    again. The cursor is opaque (JSON: the newest file time seen and the files with that time); ``None``
    starts at the beginning.
    """
    state = json.loads(cursor) if cursor else {"mtime_ns": 0, "names": []}
    since, seen_at_since = int(state["mtime_ns"]), set(state["names"])
    newest, names_at_newest = since, set(seen_at_since)
    days: set[str] = set()
    root = readings_dir(lake_dir)
    for folder in root.glob("date=*") if root.exists() else []:
        day = folder.name.removeprefix("date=")
        for path in folder.glob("live-*.parquet"):
            match = FILE_RE.match(path.name)
            if not match or match["part"] is not None:
                continue
            try:
                mtime = path.stat().st_mtime_ns
            except FileNotFoundError:
                continue
            name = f"{day}/{path.name}"
            if mtime < since or (mtime == since and name in seen_at_since):
                continue
            days.add(day)
            if mtime > newest:
                newest, names_at_newest = mtime, {name}
            elif mtime == newest:
                names_at_newest.add(name)
    return sorted(days), json.dumps({"mtime_ns": newest, "names": sorted(names_at_newest)})


def _live_files(lake_dir: Path, since: datetime) -> list[str]:
    root = readings_dir(lake_dir)
    first_day = (since - timedelta(days=2)).date().isoformat()
    files = []
    for folder in root.glob("date=*") if root.exists() else []:
        if folder.name.removeprefix("date=") < first_day:
            continue
        for path in folder.glob("live-*.parquet"):
            match = FILE_RE.match(path.name)
            if match and datetime.strptime(match["minute"], "%Y%m%d%H%M").replace(
                tzinfo=UTC
            ) >= since - timedelta(minutes=1):
                files.append(str(path))
    return files


def _latest_landed(lake_dir: Path) -> datetime | None:
    root = readings_dir(lake_dir)
    newest = None
    for folder in root.glob("date=*") if root.exists() else []:
        for path in folder.glob("live-*.parquet"):
            match = FILE_RE.match(path.name)
            if match and (newest is None or match["minute"] > newest):
                newest = match["minute"]
    if newest is None:
        return None
    return datetime.strptime(newest, "%Y%m%d%H%M").replace(tzinfo=UTC) + timedelta(minutes=1)


def score_latest(
    lake_dir: Path,
    sensor_ids: list[str] | None = None,
    window: timedelta = timedelta(minutes=15),
    now: datetime | None = None,
    threshold: float = 3.5,
) -> list[dict]:
    """Score each sensor's latest landed reading against its own recent past, without the daily run.

    Baseline: the sensor's readings in ``[now - window, latest)`` (the latest reading excluded); score: the
    robust z-score ``0.6745 * (value - median) / MAD`` (Iglewicz and Hoaglin), anomalous when its absolute
    value exceeds ``threshold``. A flat baseline (MAD 0) scores 0 for the same value and infinity otherwise.
    ``now`` defaults to the end of the newest landed minute (so replays of past days score too). Part files
    are read, so a reading is scorable within a second of arrival. Rows are sorted by |score|, largest first.
    """
    import duckdb

    now = now or _latest_landed(lake_dir)
    if now is None:
        return []
    since = now - window
    files = _live_files(lake_dir, since)
    if not files:
        return []
    sensor_filter = ""
    params: list = [since, now]
    if sensor_ids:
        sensor_filter = "and sensor_id in (select unnest(?))"
        params.append(list(sensor_ids))
    sql = f"""
        with readings as (
            select distinct on (sensor_id, reading_ts) sensor_id, machine_id, measure, unit, reading_ts, value
            from read_parquet(?) where reading_ts >= ? and reading_ts <= ? {sensor_filter}
        ), ranked as (
            select *, row_number() over (partition by sensor_id order by reading_ts desc) as recency
            from readings
        ), baseline as (
            select sensor_id, median(value) as baseline_median, mad(value) as baseline_mad,
                   count(*) as n_baseline
            from ranked where recency > 1 group by sensor_id
        )
        select l.sensor_id, l.machine_id, l.measure, l.unit, l.reading_ts, l.value,
               b.baseline_median, b.baseline_mad, coalesce(b.n_baseline, 0) as n_baseline
        from ranked l left join baseline b using (sensor_id) where l.recency = 1
    """
    with duckdb.connect() as con:
        con.execute("set timezone = 'UTC'")
        for attempt in range(3):  # a part file may be compacted away between listing and reading
            try:
                rows = con.execute(sql, [files, *params]).fetchall()
                break
            except duckdb.IOException:
                if attempt == 2:
                    raise
                files = _live_files(lake_dir, since)
        columns = [d[0] for d in con.description]
    scored = []
    for row in rows:
        record = dict(zip(columns, row, strict=True))
        median, mad = record["baseline_median"], record["baseline_mad"]
        if median is None:
            z = None
        elif mad:
            z = 0.6745 * (record["value"] - median) / mad
        else:
            z = 0.0 if record["value"] == median else float("inf")
        record["robust_z"] = z
        record["is_anomaly"] = z is not None and abs(z) > threshold
        scored.append(record)
    scored.sort(key=lambda r: -abs(r["robust_z"]) if r["robust_z"] is not None else 0.0)
    return scored


def read_gaps(lake_dir: Path, day: str | None = None) -> pa.Table:
    """Recorded gap events (one row per silence longer than the sensor's expected interval allows)."""
    root = lake_dir / "ingest" / "gaps"
    pattern = f"date={day}/gaps-*.parquet" if day else "date=*/gaps-*.parquet"
    files = sorted(root.glob(pattern)) if root.exists() else []
    if not files:
        return GAP_SCHEMA.empty_table()
    return pa.concat_tables([pq.read_table(f, schema=GAP_SCHEMA) for f in files]).sort_by(
        [("sensor_id", "ascending"), ("gap_start_ts", "ascending")]
    )


def read_quarantine(lake_dir: Path) -> list[dict]:
    """Quarantined readings with their reason (a redelivered message is listed once)."""
    root = lake_dir / "ingest" / "quarantine"
    rows, seen = [], set()
    for path in sorted(root.glob("quarantine-*.jsonl")) if root.exists() else []:
        for line in path.read_text().splitlines():
            try:
                row = json.loads(line)
            except ValueError:  # a torn last line: it was never acknowledged
                continue
            key = (row["reason"], row["record"], row["source"])
            if key not in seen:
                seen.add(key)
                rows.append(row)
    return rows
