"""The genealogy on the command line: trace a cell back to its material, or material forward to its cells;
export a factory day as OCEL 2.0.

    python -m orchestration.genealogy trace --backward B20261110-0003-0180
    python -m orchestration.genealogy trace --forward B20261110-0003-A1-S07 --json
    python -m orchestration.genealogy trace --day 2026-11-10 --forward B20261110-0003-A1-S07
    python -m orchestration.genealogy export --day 2026-11-10 --format sqlite --out /tmp/day.sqlite

Without ``--day`` a trace reads the history the pipeline built: the warehouse's ocel schema, every day it
holds, through the analysts' copy (``--warehouse`` names another file), so that a trace never holds the
pipeline's file. With ``--day`` (and for ``export``) the day is simulated and expanded afresh from the
scenario (default: the platform's, GIGAFACTORY_SCENARIO or data/scenarios/default.yaml): deterministic per
scenario and day, in seconds, but that day alone (a batch's earlier days are not replayed).
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.analysts_copy import analysts_copy_of
from orchestration.command_line import Parser, factory_day, fail
from orchestration.genealogy import model as m
from orchestration.genealogy.expand import expand_day
from orchestration.genealogy.export import to_json, to_sqlite
from orchestration.genealogy.trace import (
    backward,
    backward_in_warehouse,
    forward,
    forward_in_warehouse,
    object_type_in,
)
from orchestration.settings import load_settings
from orchestration.simulator.config import load_scenario
from orchestration.simulator.engine import run_factory_day

PROG = "python -m orchestration.genealogy"
TRACEABLE_FORWARD = (m.SLURRY, m.COIL, m.SEGMENT, m.ROLL)


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "export" and args.day is None:
        parser.error("export needs --day")
    if args.command == "trace" and args.day is None:
        return _trace_history(args)
    try:
        config = load_scenario(args.scenario)
        tables = expand_day(config, run_factory_day(config, args.day))
    except ValueError as exc:  # an unknown or invalid scenario, a planted segment the day cannot have
        return fail(PROG, str(exc))
    if args.command == "export":
        return _export(tables, args)
    return _trace(tables, args)


def _parser() -> Parser:
    parser = Parser(prog=PROG, description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    trace = commands.add_parser("trace", help="backward from a cell, or forward from its material")
    export = commands.add_parser("export", help="the day's OCEL 2.0 log as JSON or SQLite")
    settings = load_settings()
    for command in (trace, export):
        command.add_argument(
            "--day", type=factory_day, help="factory day, YYYY-MM-DD: simulate that day alone"
        )
        command.add_argument("--scenario", type=Path, default=settings.scenario_path, help="scenario YAML")
    trace.add_argument(
        "--warehouse",
        type=Path,
        default=analysts_copy_of(settings.warehouse_path),
        help="the warehouse file to read without --day (default: the analysts' copy)",
    )
    direction = trace.add_mutually_exclusive_group(required=True)
    direction.add_argument("--backward", metavar="CELL", help="a cell id, e.g. B20261110-0003-0180")
    direction.add_argument(
        "--forward", metavar="OBJECT", help="a slurry batch, coil, coil segment or daughter roll id"
    )
    trace.add_argument("--json", action="store_true", help="print JSON instead of a table")
    export.add_argument("--format", choices=("json", "sqlite"), required=True)
    export.add_argument("--out", type=Path, required=True, help="the file to write (replaced)")
    return parser


def _trace(tables: dict[str, pa.Table], args) -> int:
    origin = args.backward or args.forward
    found = _type_of(tables, origin)
    if found is None:
        return fail(
            PROG, f"no object {origin!r} on {args.day} in {args.scenario} (ids like {_example(tables)})"
        )
    if (mistake := _wrong_type(args, found)) is not None:
        return fail(PROG, mistake)
    rows = (backward(tables, origin) if args.backward else forward(tables, origin)).to_pylist()
    return _print(args, found, rows, f"on {args.day}")


def _trace_history(args) -> int:
    """The trace over every day the warehouse holds (read only, and never the pipeline's own file)."""
    origin = args.backward or args.forward
    if not args.warehouse.is_file():
        return fail(
            PROG, f"no warehouse at {args.warehouse}: run the pipeline first (make demo), or give --day"
        )
    try:
        with duckdb.connect(str(args.warehouse), read_only=True) as con:
            con.execute("SET TimeZone = 'UTC'")
            found = object_type_in(con, origin)
            if found is None:
                return fail(PROG, f"no object {origin!r} in {args.warehouse} (schema ocel)")
            if (mistake := _wrong_type(args, found)) is not None:
                return fail(PROG, mistake)
            trace = backward_in_warehouse if args.backward else forward_in_warehouse
            rows = trace(con, origin).to_pylist()
    except duckdb.CatalogException:
        return fail(PROG, f"{args.warehouse} has no ocel schema: it was built before the genealogy")
    except duckdb.IOException as exc:  # another process holds the file
        return fail(PROG, f"cannot read {args.warehouse}: {str(exc).splitlines()[0]}")
    return _print(args, found, rows, f"in {args.warehouse}")


def _wrong_type(args, found: str) -> str | None:
    wanted = (m.CELL,) if args.backward else TRACEABLE_FORWARD
    if found in wanted:
        return None
    flag = "--backward" if args.backward else "--forward"
    return f"{args.backward or args.forward} is a {found}; {flag} takes a {' or '.join(wanted)}"


def _print(args, found: str, rows: list[dict], where: str) -> int:
    origin, direction = args.backward or args.forward, "backward" if args.backward else "forward"
    if args.json:
        source = {"day": args.day.isoformat()} if args.day else {"warehouse": str(args.warehouse)}
        document = {**source, "direction": direction, "origin": origin, "rows": rows}
        print(json.dumps(document, indent=1))
        return 0
    print(f"{direction} from {found} {origin} {where}:")
    print(_table(rows))
    if args.forward:
        statuses = Counter(row["status"] for row in rows)
        print(f"{len(rows)} cells: " + ", ".join(f"{n} {s}" for s, n in sorted(statuses.items())))
    return 0


def _export(tables: dict[str, pa.Table], args) -> int:
    try:
        path = (to_json if args.format == "json" else to_sqlite)(tables, args.out)
    except OSError as exc:
        return fail(PROG, f"cannot write {args.out}: {exc.strerror or exc}")
    counts = ", ".join(f"{name} {table.num_rows}" for name, table in tables.items())
    print(f"{path}: OCEL 2.0 {args.format} of {args.day}; {counts}")
    return 0


def _type_of(tables: dict[str, pa.Table], object_id: str) -> str | None:
    objects = tables["object"]
    hits = objects.filter(pc.equal(objects["ocel_id"], object_id))["ocel_type"].to_pylist()
    return hits[0] if hits else None


def _example(tables: dict[str, pa.Table]) -> str:
    cells = tables["object"].filter(pc.equal(tables["object"]["ocel_type"], m.CELL))
    return f"cell {cells['ocel_id'][0]}" if len(cells) else "none: no cell was made that day"


def _table(rows: list[dict]) -> str:
    """Rows as aligned text columns; numbers to three decimals, a missing value as '-'."""
    if not rows:
        return "(none)"

    def text(value) -> str:
        return "-" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)

    names = list(rows[0])
    cells = [[text(row[name]) for name in names] for row in rows]
    widths = [max(len(name), *(len(line[i]) for line in cells)) for i, name in enumerate(names)]
    lines = [names, ["-" * w for w in widths], *cells]
    return "\n".join(
        "  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip() for line in lines
    )


if __name__ == "__main__":
    sys.exit(main())
