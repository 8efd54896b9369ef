"""`detect`: score any CSV export with the platform's detectors; write the scored rows and the alarms.

    detect data.csv --time-col datetime --value-cols a,b,c [--label-col anomaly] [--sep ';']
        [--train normal.csv | --train-rows 400] [--protocol skab|nab] [--out scored]

Rows are taken in time order, one reading per row and column. The baseline is learnt from ``--train`` (a
file of normal operation), or from the first ``--train-rows`` rows of the file itself (which are then not
judged; a file longer than a day is then judged a day at a time, each day against the ``--train-rows`` rows
just before it, as the plant judges each day against the days before it), or else from the judged rows
themselves with the wider warm-up limits. Events are grouped into alarms
as the platform's reports show them (one per problem, with a priority and a sentence); a row is flagged when
a sensor's own deviation inside an alarm covers it (a broken relation between sensors is the alarm's
evidence, not flagged rows of its own: see ``AlarmRules.relation_alone``). Times are the file's own
timestamps, whatever gaps or repeated instants they hold.

With a label column, the judged rows are scored: ``--protocol skab`` (the default) prints precision,
recall, F1, the false-alarm rate (FAR) and the missed-alarm rate (MAR) as SKAB's leaderboard;
``--protocol nab`` reads the label column's runs of 1 as NAB's anomaly windows and prints the NAB
standard-profile score of one detection per alarm, at its first row.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from orchestration.anomalies import nab
from orchestration.anomalies.alarms import Alarm
from orchestration.anomalies.detectors import Event, SensorGrid
from orchestration.anomalies.evaluation import point_scores
from orchestration.anomalies.scoring import Detectors, detect, fit_detectors
from orchestration.anomalies.sensor_alarms import deviation_spans, group_events
from orchestration.command_line import Parser


@dataclasses.dataclass
class ScoredExport:
    rows: pd.DataFrame  # the input rows in time order, with <column>__z, judged and anomaly_flag
    events: list[Event]  # on the file's own timestamps
    alarms: list[Alarm]  # on the file's own timestamps
    detectors: Detectors


def grid_of(frame: pd.DataFrame, time_col: str, value_cols: list[str], group: str = "file") -> SensorGrid:
    """One grid column per row. The step is the median step between rows: durations in the detectors'
    settings (the longest open time, the alarm rules) are read in it; times go back to the rows' own."""
    times = pd.to_datetime(frame[time_col], utc=True)
    step = times.diff().median()
    interval_us = int(step / pd.Timedelta(microseconds=1)) if pd.notna(step) and step > pd.Timedelta(0) else 1
    return SensorGrid(
        sensor_ids=list(value_cols),
        machine_ids=[group] * len(value_cols),
        start_us=int(times.iloc[0].value // 1000),
        interval_us=interval_us,
        values=frame[value_cols].to_numpy(dtype=np.float64).T.copy(),
        # The file's own clock time of day: a daily swing is learnt when the baseline spans a day.
        hour=(times.dt.hour + times.dt.minute / 60.0 + times.dt.second / 3600.0).to_numpy(),
    )


def score_frame(
    frame: pd.DataFrame,
    time_col: str,
    value_cols: list[str],
    train: pd.DataFrame | None = None,
    train_rows: int = 0,
) -> tuple[pd.DataFrame, list[Event], Detectors]:
    """(scored rows, events on the rows' own timestamps, detectors): see ``score_export``."""
    scored = score_export(frame, time_col, value_cols, train, train_rows)
    return scored.rows, scored.events, scored.detectors


def score_export(
    frame: pd.DataFrame,
    time_col: str,
    value_cols: list[str],
    train: pd.DataFrame | None = None,
    train_rows: int = 0,
) -> ScoredExport:
    frame = frame.sort_values(time_col, kind="stable").reset_index(drop=True)
    grid = grid_of(frame, time_col, value_cols)
    epoch = pd.Timestamp(0, tz="UTC")
    timestamps_us = (
        (pd.to_datetime(frame[time_col], utc=True) - epoch) // pd.Timedelta(microseconds=1)
    ).to_numpy()
    if train is not None:
        train = train.sort_values(time_col, kind="stable").reset_index(drop=True)
        segments = [(0, len(frame), fit_detectors(grid_of(train, time_col, value_cols)))]
    elif train_rows:
        segments = _rolling_segments(frame, time_col, value_cols, timestamps_us, train_rows)
    else:
        segments = [(0, len(frame), fit_detectors(grid, from_judged_data=True))]
    z = np.full(grid.values.shape, np.nan)
    events: list[Event] = []
    for first, stop, detectors in segments:
        # Each day is judged with its reference in front of it (the level baseline warms up on it), and
        # keeps the events that reach into the day, from the day's first row on.
        since = max(0, first - train_rows) if train is None and train_rows else first
        part = frame.iloc[since:stop]
        part_grid = grid_of(part, time_col, value_cols)
        scored = detect(part_grid, detectors)
        z[:, since if since == 0 else first : stop] = scored.z[:, (0 if since == 0 else first - since) :]
        day_start = int(timestamps_us[first])
        for event in scored.events:
            event = _on_rows(event, part_grid, timestamps_us[since:stop])
            if event.end_us <= day_start and since < first:
                continue  # inside the reference: the day before reported it, judged on its own reference
            if event.start_us < day_start and since < first:
                event = dataclasses.replace(event, start_us=day_start)
            events.append(event)
    alarms = group_events(events, interval_s=grid.interval_us / 1e6)
    out = frame.copy()
    for row, column in enumerate(value_cols):
        out[f"{column}__z"] = z[row]
    out["judged"] = np.arange(len(out)) >= train_rows
    out["anomaly_flag"] = _covered(timestamps_us, alarms).astype(int)
    return ScoredExport(out, events, alarms, segments[-1][2])


def _rolling_segments(frame, time_col, value_cols, timestamps_us, train_rows: int) -> list:
    """(first row, stop row, detectors) per day of judged rows, each day learnt on the ``train_rows`` rows
    just before it: the plant's design (a day judged against the days before it), so that a file of months
    is judged against its recent normal (a winter's calm, a machine's new normal after maintenance), not
    the first weeks' only. A file whose judged rows fit in one day (a test rig's run) is judged once.
    Days are counted from the first judged row, in the file's own time."""
    day_us = 86_400 * 1_000_000
    day_of_row = (timestamps_us[train_rows:] - timestamps_us[train_rows]) // day_us
    starts = train_rows + np.flatnonzero(np.diff(day_of_row, prepend=-1) != 0)
    stops = np.append(starts[1:], len(frame))
    return [
        (
            int(first),
            int(stop),
            fit_detectors(grid_of(frame.iloc[first - train_rows : first], time_col, value_cols)),
        )
        for first, stop in zip(starts, stops, strict=True)
    ]


def _on_rows(event: Event, grid: SensorGrid, timestamps_us: np.ndarray) -> Event:
    """The event with the times of the rows it spans (end: the instant of the row after its last, or the last
    row's own instant plus one step at the end of the file)."""
    first = int((event.start_us - grid.start_us) // grid.interval_us)
    stop = int(-(-(event.end_us - grid.start_us) // grid.interval_us))
    n = len(timestamps_us)
    first, stop = min(max(first, 0), n - 1), min(max(stop, first + 1), n)
    end = timestamps_us[stop] if stop < n else timestamps_us[-1] + grid.interval_us
    evidence = dict(event.evidence)
    if "alarm_ts_us" in evidence:
        at = int((evidence["alarm_ts_us"] - grid.start_us) // grid.interval_us)
        evidence["alarm_ts_us"] = int(timestamps_us[min(max(at, 0), n - 1)])
    return dataclasses.replace(event, start_us=int(timestamps_us[first]), end_us=int(end), evidence=evidence)


def _covered(timestamps_us: np.ndarray, alarms: list[Alarm]) -> np.ndarray:
    flags = np.zeros(len(timestamps_us), dtype=bool)
    for alarm in alarms:
        for start_us, end_us in deviation_spans(alarm):
            flags |= (timestamps_us >= start_us) & (timestamps_us < end_us)
    return flags


def alarm_table(alarms: list[Alarm]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "start": pd.Timestamp(a.start_us, unit="us", tz="UTC"),
                "end": pd.Timestamp(a.end_us, unit="us", tz="UTC"),
                "sensors": ";".join(sorted({m["sensor_id"] for m in a.members})),
                "priority": a.priority,
                "kinds": ";".join(sorted({m["kind"] for m in a.members})),
                "score": a.score,
                "sentence": a.sentence,
            }
            for a in sorted(alarms, key=lambda a: a.start_us)
        ],
        columns=["start", "end", "sensors", "priority", "kinds", "score", "sentence"],
    )


def _parser() -> Parser:
    parser = Parser(prog="detect", description=__doc__.split("\n\n")[0])
    parser.add_argument("csv", type=Path)
    parser.add_argument("--time-col", required=True)
    parser.add_argument("--value-cols", required=True, help="comma-separated numeric columns to score")
    parser.add_argument("--label-col", help="0/1 column of known anomalies, to score the judged rows")
    training = parser.add_mutually_exclusive_group()
    training.add_argument("--train", type=Path, help="a CSV of normal operation to learn the baseline from")
    training.add_argument(
        "--train-rows", type=int, default=0, help="learn from the first N rows of the file (not judged)"
    )
    parser.add_argument("--protocol", choices=["skab", "nab"], default="skab")
    parser.add_argument("--sep", default=",")
    parser.add_argument("--out", type=Path, default=Path("scored"), help="output directory")
    return parser


def _read(parser, path: Path, sep: str) -> pd.DataFrame:
    try:
        return pd.read_csv(path, sep=sep)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        parser.error(f"{path}: cannot be read as CSV with separator {sep!r}: {exc}")


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    columns = [c.strip() for c in args.value_cols.split(",") if c.strip()]
    frame = _read(parser, args.csv, args.sep)
    wanted = [args.time_col, *columns, *([args.label_col] if args.label_col else [])]
    missing = [c for c in wanted if c not in frame]
    if missing:
        parser.error(
            f"columns not in {args.csv}: {', '.join(missing)} (have: {', '.join(map(str, frame.columns))})"
        )
    times = pd.to_datetime(frame[args.time_col], utc=True, errors="coerce")
    if times.isna().any():
        row = int(np.flatnonzero(times.isna().to_numpy())[0])
        parser.error(
            f"{args.csv}: row {row + 2}: {args.time_col}={frame[args.time_col].iloc[row]!r} is not a time"
        )
    if not 0 <= args.train_rows < len(frame):
        parser.error(f"--train-rows {args.train_rows}: the file has {len(frame)} rows")
    train = _read(parser, args.train, args.sep) if args.train else None
    scored = score_export(frame, args.time_col, columns, train, args.train_rows)
    args.out.mkdir(parents=True, exist_ok=True)
    scored.rows.to_csv(args.out / "scored_rows.csv", index=False)
    alarm_table(scored.alarms).to_csv(args.out / "events.csv", index=False)
    judged = scored.rows["judged"].to_numpy()
    print(
        f"{int(judged.sum())} rows judged, {int(scored.rows['anomaly_flag'][judged].sum())} flagged, "
        f"{len(scored.alarms)} alarms ({len(scored.events)} detector events) -> {args.out}/"
    )
    if args.label_col:
        labels = scored.rows[args.label_col].fillna(0).astype(float).to_numpy() > 0.5
        print(_protocol_line(args.protocol, scored, labels, judged, args.time_col))
    return 0


def _protocol_line(protocol: str, scored: ScoredExport, labels, judged, time_col: str) -> str:
    flags = scored.rows["anomaly_flag"].to_numpy() > 0
    if protocol == "skab":
        s = point_scores(labels[judged], flags[judged])
        missed = 1.0 - s.recall
        return f"SKAB (judged rows): {s.line('rows')}  MAR {missed:.3f}"
    timestamps = pd.to_datetime(scored.rows[time_col], utc=True)
    _, first, stop = _runs(labels)
    windows = [(timestamps.iloc[a], timestamps.iloc[b - 1]) for a, b in zip(first, stop, strict=True)]
    detections = nab.detections_from_events(timestamps, sorted(scored.alarms, key=lambda a: a.start_us))
    result = nab.score_detections(timestamps, detections, windows, nab.STANDARD_PROFILE)
    return (
        f"NAB standard profile: score {result.normalized:.1f} (raw {result.raw:.3f}; "
        f"tp {result.tp}, fp {result.fp}, fn {result.fn} of {result.windows} windows)"
    )


def _runs(labels: np.ndarray):
    from orchestration.anomalies.runs import runs

    return runs(np.asarray(labels, dtype=bool)[None, :])


if __name__ == "__main__":
    sys.exit(main())
