"""Compare two runs of the platform: every warehouse table and every rendered report, one line each.

    python benchmarks/compare_runs.py --before /tmp/baseline/data --after data --window-end 2026-11-15

A refactoring that must not change what users see is checked with it: the demo week materialized on the
commit before the change (a clone with its own DAGSTER_HOME) against the same week after it. A table is equal
when both sides hold the same multiset of rows, doubles to 10 significant digits (a parallel sum's last bits
differ between runs). Wall-clock stamps (anything dated after ``--window-end`` + 2 days: when a report was
rendered or a row loaded) and the run's own folder are set aside in the tables and the report files, so that
only content is compared. The state file (RCA cases, delivery log) is compared the same way. Exit status 1
when anything differs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb

STAMP = re.compile(r"(\d{4}-\d{2}-\d{2})[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2}| UTC)?")
SHORT_STAMP = re.compile(r"\b(\d{2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{2}:\d{2}\b")
OBJECT_ID = re.compile(r"(&#45;|-)?(?<![\d.])\d{10,}(\.\d+)?|[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}")
TEXT_SUFFIXES = {".html", ".json", ".svg", ".pnml", ".txt", ".csv", ".md", ".xml"}


def _tables(conn: duckdb.DuckDBPyConnection, catalog: str) -> dict[str, list[tuple[str, str]]]:
    """schema.table -> [(column, type)] of every table and view of an attached database."""
    rows = conn.execute(
        "select table_schema, table_name, column_name, data_type from information_schema.columns "
        "where table_catalog = ? order by table_schema, table_name, ordinal_position",
        [catalog],
    ).fetchall()
    tables: dict[str, list[tuple[str, str]]] = {}
    for schema, table, column, kind in rows:
        tables.setdefault(f"{schema}.{table}", []).append((column, kind))
    return tables


def _expression(column: str, kind: str, cutoff: date, root: Path) -> str:
    quoted = f'"{column}"'
    if kind in ("DOUBLE", "FLOAT", "REAL"):  # 10 significant digits
        return (
            f"case when {quoted} = 0 or not isfinite({quoted}) then {quoted} "
            f"else round({quoted}, 9 - cast(floor(log10(abs({quoted}))) as int)) end"
        )
    if kind.startswith("TIMESTAMP"):  # a wall-clock stamp of the run itself is not content
        return f"case when {quoted} >= '{cutoff}'::date then null else {quoted} end"
    if column == "content_sha":  # a report's fingerprint: the report files themselves are compared below
        return "null"
    if kind == "VARCHAR":  # a path into the run's own data folder
        return f"replace({quoted}, '{root}', '<data>')"
    return quoted


def compare_warehouses(before: Path, after: Path, cutoff: date) -> list[tuple[str, str]]:
    """(name, verdict) per table of either file; the verdict is 'equal' or says what differs."""
    conn = duckdb.connect()
    conn.execute("SET TimeZone = 'UTC'")
    conn.execute(f"attach '{before}' as before_run (read_only)")
    conn.execute(f"attach '{after}' as after_run (read_only)")
    old, new = _tables(conn, "before_run"), _tables(conn, "after_run")
    verdicts = []
    for name in sorted(old.keys() | new.keys()):
        if name not in new:
            verdicts.append((name, "only before"))
            continue
        if name not in old:
            verdicts.append((name, "only after"))
            continue
        if old[name] != new[name]:
            verdicts.append((name, f"columns differ: {sorted(set(old[name]) ^ set(new[name]))}"))
            continue
        schema, table = name.split(".", 1)
        source = f'"{schema}"."{table}"'
        rows_before, rows_after = (
            conn.execute(f"select count(*) from {side}.{source}").fetchone()[0]
            for side in ("before_run", "after_run")
        )
        selects = {
            side: f"select {', '.join(_expression(c, k, cutoff, root) for c, k in old[name])} "
            f"from {side}.{source}"
            for side, root in (("before_run", before.parent), ("after_run", after.parent))
        }
        missing, extra = (
            conn.execute(f"select count(*) from ({selects[a]} except all {selects[b]})").fetchone()[0]
            for a, b in (("before_run", "after_run"), ("after_run", "before_run"))
        )
        if missing == extra == 0:
            verdicts.append((name, f"equal ({rows_after} rows)"))
        else:
            verdicts.append(
                (name, f"DIFFERS: {rows_before} -> {rows_after} rows, {missing} gone, {extra} new or changed")
            )
    conn.close()
    return verdicts


def _content(path: Path, cutoff: date, root: Path) -> str:
    """What a report file says, without what changes from run to run by construction: wall-clock stamps, the
    run's own folder, object ids that pm4py and graphviz put into model pictures (and the order they sort in),
    the last bits of a float in JSON."""
    if path.suffix not in TEXT_SUFFIXES:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    text = path.read_text(encoding="utf-8", errors="replace").replace(str(root), "<data>")
    text = STAMP.sub(lambda m: "<stamp>" if date.fromisoformat(m.group(1)) >= cutoff else m.group(0), text)
    text = SHORT_STAMP.sub(lambda m: "<stamp>" if _short_date(m, cutoff) >= cutoff else m.group(0), text)
    if path.suffix == ".json":
        return json.dumps(_rounded(json.loads(text)), sort_keys=True)
    text = OBJECT_ID.sub("<id>", text)
    return "\n".join(sorted(re.split(r"(?<=>)(?=<)|\n", text)))


def _rounded(value):
    if isinstance(value, float) and math.isfinite(value) and value:
        return round(value, 9 - math.floor(math.log10(abs(value))))
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_rounded(item) for item in value]
    return value


def _short_date(match: re.Match, cutoff: date) -> date:
    """A "05 Dec 11:52" display stamp, in the cutoff's year."""
    return datetime.strptime(f"{match.group(1)} {match.group(2)} {cutoff.year}", "%d %b %Y").date()


def compare_reports(before: Path, after: Path, cutoff: date) -> list[tuple[str, str]]:
    """(relative path, verdict) per report file of either shelf."""
    files_before = {p.relative_to(before) for p in before.rglob("*") if p.is_file()}
    files_after = {p.relative_to(after) for p in after.rglob("*") if p.is_file()}
    verdicts = []
    for rel in sorted(files_before | files_after):
        if rel not in files_after:
            verdicts.append((str(rel), "only before"))
        elif rel not in files_before:
            verdicts.append((str(rel), "only after"))
        elif _content(before / rel, cutoff, before.parent) == _content(after / rel, cutoff, after.parent):
            verdicts.append((str(rel), "equal"))
        else:
            verdicts.append((str(rel), "DIFFERS"))
    return verdicts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, required=True, help="data folder of the run before the change")
    parser.add_argument("--after", type=Path, required=True, help="data folder of the run after the change")
    parser.add_argument("--window-end", type=date.fromisoformat, required=True, help="last factory day run")
    parser.add_argument("--verbose", action="store_true", help="also list what is equal")
    args = parser.parse_args(argv)
    cutoff = args.window_end + timedelta(days=2)
    args.before, args.after = args.before.resolve(), args.after.resolve()
    sections = [
        (
            "warehouse",
            compare_warehouses(args.before / "warehouse.duckdb", args.after / "warehouse.duckdb", cutoff),
        ),
        ("state", compare_warehouses(args.before / "state.duckdb", args.after / "state.duckdb", cutoff)),
        ("reports", compare_reports(args.before / "reports", args.after / "reports", cutoff)),
    ]
    differing = 0
    for section, verdicts in sections:
        equal = sum(v.startswith("equal") for _, v in verdicts)
        for name, verdict in verdicts:
            if args.verbose or not verdict.startswith("equal"):
                print(f"{section} {name}: {verdict}")
        differing += len(verdicts) - equal
        print(f"{section}: {equal} of {len(verdicts)} equal")
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
