"""`mine`: process mining of any event log, as the pipeline mines a factory window, without Dagster.

    mine LOG_OR_MAPPING [--window FIRST..LAST] [--json OUT] [--html OUT] [--tables DIR]
        [--noise-threshold 0.0] [--min-end-share SHARE] [--top-variants N] [--max-variants N]
        [--align-variants 50] [--align-time 10] [--case-type TYPE] [--lifecycle single|pair]
        [--classifier concept:name,lifecycle:transition]

LOG_OR_MAPPING is a CSV, XES, OCEL 2.0 or Parquet log (read as pm4py reads it: see mining.log_file) or a
source mapping (docs/plant-data.md). With no option the whole log is mined with pm4py's defaults: no
completeness filter, every variant discovered and replayed, the inductive miner's noise threshold 0.0
(pm4py's). Every filter is an option; the summary, the JSON and the HTML list each one with what it removed.
The statistics, discovery and conformance are those of the pipeline's windows
(mining.window_run.mine_window).
"""

from __future__ import annotations

import argparse
import html
import json
import math
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from orchestration.command_line import Parser, factory_day, fail
from orchestration.mining.log_file import read_log, register_events
from orchestration.mining.window_run import ANALYST, MiningSettings, WindowMining, mine_window

PROG = "mine"


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text} is not within 0 .. 1")
    return value


def _count(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative")
    return value


def _window(text: str) -> tuple[date, date]:
    first, separator, last = text.partition("..")
    if not separator:
        raise argparse.ArgumentTypeError(f"{text!r} is not FIRST..LAST, e.g. 2012-01-01..2012-01-31")
    window = (factory_day(first), factory_day(last))
    if window[0] > window[1]:
        raise argparse.ArgumentTypeError(f"{text}: the window ends before it starts")
    return window


def _parser() -> Parser:
    parser = Parser(prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("log", type=Path, help="a CSV, XES, OCEL 2.0 or Parquet log, or a mapping YAML")
    parser.add_argument("--window", type=_window, help="FIRST..LAST: only events ending on these days (UTC)")
    parser.add_argument("--json", type=Path, help="write the figures, filters and tables as JSON here")
    parser.add_argument("--html", type=Path, help="write them as one HTML page here")
    parser.add_argument("--tables", type=Path, help="write every table as CSV into this folder")
    parser.add_argument("--noise-threshold", type=_share, default=ANALYST.noise_threshold)
    parser.add_argument(
        "--min-end-share", type=_share, default=None, help="completeness filter (factory windows: 0.1); off"
    )
    parser.add_argument("--top-variants", type=_count, help="discover and check on the N most frequent only")
    parser.add_argument("--max-variants", type=_count, help="replay the N most frequent variants only")
    parser.add_argument("--align-variants", type=int, default=ANALYST.align_variants)
    parser.add_argument("--align-time", type=_seconds, default=ANALYST.align_time_s, help="seconds per model")
    parser.add_argument("--case-type", help="OCEL: the object type whose objects are the cases")
    parser.add_argument("--lifecycle", choices=["single", "pair"], default="single", help="XES lifecycle")
    parser.add_argument(
        "--classifier", help="activity from several attributes, e.g. concept:name,lifecycle:transition"
    )
    return parser


def settings_of(args: argparse.Namespace) -> MiningSettings:
    return MiningSettings(
        noise_threshold=args.noise_threshold,
        max_variants=args.max_variants,
        align_variants=args.align_variants,
        align_time_s=args.align_time,
        min_end_share=args.min_end_share,
        top_variants=args.top_variants,
        variants_listed=None,
        pictures=False,
    )


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    classifier = [c.strip() for c in args.classifier.split(",")] if args.classifier else None
    started = time.perf_counter()
    try:
        read = read_log(args.log, args.case_type, args.lifecycle, classifier)
    except ValueError as error:
        return fail(PROG, str(error))
    settings = settings_of(args)
    with duckdb.connect() as conn:
        conn.execute("set TimeZone = 'UTC'")
        all_cases = len(set(read.loaded.events["case_id"].to_pylist()))
        events = register_events(conn, read.loaded.events, window=args.window)
        in_window, window_cases = conn.execute(
            f"select count(*), count(distinct case_id) from {events}"
        ).fetchone()
        mined = mine_window(conn, events, None, "log", settings=settings)
    read_summary = {**read.summary(), "cases": all_cases}
    result = report(
        args, read_summary, settings, mined, (in_window, window_cases), time.perf_counter() - started
    )
    print(summary_text(result))
    try:
        _write(args, result, mined)
    except OSError as error:
        return fail(PROG, f"cannot write the results ({error})")
    return 0


def report(args, read: dict, settings: MiningSettings, mined: WindowMining, window: tuple, seconds: float):
    """Everything the command found, as plain data for JSON; ``window``: its events and cases."""
    in_window, window_cases = window
    quality = mined.quality.get("inductive")
    filters = _records(mined.filters)
    if args.window is not None:
        removed = read["events"] - in_window
        filters.insert(
            0,
            {
                "filter": "window (--window)",
                "setting": f"{args.window[0]}..{args.window[1]}",
                "cases_removed": read["cases"] - window_cases,
                "events_removed": removed,
                "cases_share": (read["cases"] - window_cases) / read["cases"] if read["cases"] else None,
                "events_share": removed / read["events"] if read["events"] else None,
                "note": "events ending outside the window are left out (a case loses only those), "
                "cases with none inside it are removed; the figures below are the window's",
            },
        )
    variants = mined.tables["variants"]
    return {
        "log": str(args.log),
        "read": read,
        "settings": {k: v for k, v in vars(settings).items() if k not in ("pictures", "variants_listed")},
        "filters": filters,
        "figures": {
            "cases": int(variants["cases"].sum()) if len(variants) else 0,
            "events": in_window,
            "variants": len(variants),
            "dfg_edges": len(mined.tables["dfg"]),
            "token_fitness": None if quality is None else quality.token_fitness,
            "precision": None if quality is None else quality.precision,
            "alignment_fitness": None if quality is None else quality.alignment_fitness,
            "generalization": None if quality is None else quality.generalization,
            "simplicity": None if quality is None else quality.simplicity,
            "conformance_note": None if quality is None else quality.note,
            "seconds": round(seconds, 3),
        },
        "tables": {name: _records(frame) for name, frame in mined.tables.items()},
    }


def _records(frame: pd.DataFrame) -> list[dict]:
    return json.loads(frame.to_json(orient="records", date_format="iso", default_handler=str))


def _figure(value: float | None) -> str:
    return (
        "not computed"
        if value is None or (isinstance(value, float) and math.isnan(value))
        else f"{value:.4f}"
    )


def summary_text(result: dict) -> str:
    read, figures = result["read"], result["figures"]
    lines = [
        f"{result['log']}: {read['records_in']} records read, {read['events']} events, "
        f"{read['quarantined']} quarantined, {read['duplicates']} duplicates ({read['duplicates_policy']})"
        + (f", {read['lifecycle_folded']} lifecycle transitions folded" if read["lifecycle_folded"] else ""),
        f"mined: {figures['cases']} cases, {figures['events']} events, {figures['variants']} variants, "
        f"{figures['dfg_edges']} directly-follows edges ({figures['seconds']:.1f} s)",
        f"inductive miner: token fitness {_figure(figures['token_fitness'])}, "
        f"precision {_figure(figures['precision'])}, "
        f"alignment fitness {_figure(figures['alignment_fitness'])}",
        "filters:",
    ]
    for f in result["filters"]:
        removed = (
            "removes no case"
            if f["cases_removed"] is None and f["events_removed"] is None
            else f"removed {f['cases_removed'] if f['cases_removed'] is not None else '?'} cases, "
            f"{f['events_removed'] if f['events_removed'] is not None else '?'} events"
        )
        lines.append(f"  {f['filter']} = {f['setting']}: {removed} ({f['note']})")
    return "\n".join(lines)


def _write(args, result: dict, mined: WindowMining) -> None:
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1, default=str), encoding="utf-8")
    if args.tables:
        args.tables.mkdir(parents=True, exist_ok=True)
        mined.filters.to_csv(args.tables / "filters.csv", index=False)
        for name, frame in mined.tables.items():
            frame.to_csv(args.tables / f"{name}.csv", index=False)
    if args.html:
        args.html.parent.mkdir(parents=True, exist_ok=True)
        parts = [
            f"<h1>Process mining of {html.escape(result['log'])}</h1>",
            f"<pre>{html.escape(summary_text(result))}</pre>",
            "<h2>filters</h2>",
            pd.DataFrame(result["filters"]).to_html(index=False, na_rep="not computed"),
        ]
        for name, frame in mined.tables.items():
            parts += [f"<h2>{html.escape(name)}</h2>", frame.to_html(index=False, na_rep="", max_rows=200)]
        page = "<!doctype html><meta charset='utf-8'><title>mine</title>" + "\n".join(parts)
        args.html.write_text(page, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
