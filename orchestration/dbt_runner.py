"""Running dbt beside the platform: which dbt, whether its manifest is current, the paths its profile reads.

The Dagster wiring, the checks driver and the docs command share this; no Dagster here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from orchestration.settings import DBT_PROJECT_DIR, Settings

MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"
PARTIAL_PARSE = DBT_PROJECT_DIR / "target" / "partial_parse.msgpack"


def dbt_executable() -> str:
    """The dbt installed beside this Python (the project's .venv), even when the venv is not on PATH."""
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")


# The dbt target (dbt_project/profiles.yml) of each warehouse engine (settings.ENGINES).
DBT_TARGETS = {"duckdb": "dev", "spark": "spark"}


def dbt_target(engine: str) -> str:
    """The profile's target that builds the warehouse on ``engine``."""
    try:
        return DBT_TARGETS[engine]
    except KeyError:
        raise ValueError(f"no dbt target for the engine {engine!r}: one of {sorted(DBT_TARGETS)}") from None


def export_dbt_environment(settings: Settings) -> None:
    """dbt reads the warehouse and lake paths, its target (the engine's: GIGAFACTORY_DBT_TARGET; on Spark
    the folder of Spark's tables, GIGAFACTORY_SPARK_WAREHOUSE) from the environment (see
    dbt_project/profiles.yml), and how it picks the data tests of a partial run: "buildable" runs a test
    when all its parents are built or upstream. dbt's default ("eager") runs it when any one is selected,
    so materializing one mart and its upstream from the UI ran the relationship tests of marts it does not
    build, which fail on a warehouse that lacks them. dagster-dbt passes the variable on (and sets "empty"
    itself when it selects tests one by one); a value the user set wins."""
    os.environ["GIGAFACTORY_WAREHOUSE"] = str(settings.warehouse_path)
    os.environ["GIGAFACTORY_LAKE"] = str(settings.lake_dir)
    os.environ["GIGAFACTORY_DBT_TARGET"] = dbt_target(settings.engine)
    if settings.engine == "spark":  # the Spark tables and their metastore (profiles.yml, target spark)
        os.environ["GIGAFACTORY_SPARK_WAREHOUSE"] = str(settings.spark_warehouse_dir)
    os.environ.setdefault("DBT_INDIRECT_SELECTION", "buildable")


def manifest_is_stale(manifest: Path = MANIFEST) -> bool:
    """No manifest yet (a fresh clone), or a model, macro or project file changed since it was parsed."""
    if not manifest.exists():
        return True
    parsed = manifest.stat().st_mtime
    sources = [DBT_PROJECT_DIR / "dbt_project.yml"]
    for folder in ("models", "macros", "tests"):
        sources.extend(p for p in (DBT_PROJECT_DIR / folder).rglob("*") if p.is_file())
    return any(p.stat().st_mtime > parsed for p in sources)


def parse_project(force: bool = False) -> Path:
    """``dbt parse`` when the manifest is stale (or ``force``); returns the manifest's path.

    dbt writes its manifest in place, and another process (a run, ``dagster dev`` parsing on start) may be
    reading it: dbt parses into a folder of its own and the manifest and parse state are moved in whole."""
    if force or manifest_is_stale():
        MANIFEST.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=MANIFEST.parent, prefix="parse-") as folder:
            command = [dbt_executable(), "parse", "--quiet", "--target-path", folder]
            subprocess.run(command, cwd=DBT_PROJECT_DIR, check=True)
            for parsed in (PARTIAL_PARSE, MANIFEST):  # the manifest last: its time says the parse is done
                os.replace(Path(folder) / parsed.name, parsed)
    return MANIFEST


def window_environment(first: str, last: str) -> dict[str, str]:
    """The factory days ``first``..``last`` a dbt run rebuilds, as the environment its window macro reads
    (dbt_project/macros/production_date_window.sql says why not ``--vars``)."""
    return {"GIGAFACTORY_MIN_DATE": first, "GIGAFACTORY_MAX_DATE": last}


@contextmanager
def dbt_window(first: str, last: str) -> Iterator[None]:
    """The window in this process's environment while a dbt process is started (dagster-dbt hands the
    process a copy of ``os.environ``), the previous values back afterwards."""
    previous = {name: os.environ.get(name) for name in ("GIGAFACTORY_MIN_DATE", "GIGAFACTORY_MAX_DATE")}
    os.environ.update(window_environment(first, last))
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def keep_partial_parse(run_target: Path) -> None:
    """Make the state dbt parsed in a run's own target folder the project's, so that the next run (which
    dagster-dbt starts from the project's target/partial_parse.msgpack) parses only what changed: ~6 s of a
    run's ~13 s of parsing. Replaced atomically: another run may be copying it at the same moment."""
    parsed = run_target / PARTIAL_PARSE.name
    if not parsed.exists():  # dbt stopped before it had parsed
        return
    PARTIAL_PARSE.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=PARTIAL_PARSE.parent, suffix=".tmp", delete=False) as temporary:
        temporary.write(parsed.read_bytes())
    os.replace(temporary.name, PARTIAL_PARSE)


def run_dbt_tests(first: str, last: str) -> int:
    """``dbt test`` over the factory days ``first``..``last``; returns dbt's exit status."""
    command = [dbt_executable(), "test", "--quiet"]
    environment = {**os.environ, **window_environment(first, last)}
    return subprocess.run(command, cwd=DBT_PROJECT_DIR, env=environment).returncode


def window_row_counts(conn, tables: list[str], first_day: str, last_day: str) -> dict[str, tuple[int, int]]:
    """``schema.table`` -> (rows of the factory days first_day..last_day, rows in all) for the tables of a dbt
    run that exist; the window's count is the table's own count when it has no production_date."""
    dated = {
        f"{schema}.{table}"
        for schema, table in conn.execute(
            "select table_schema, table_name from information_schema.columns "
            "where column_name = 'production_date'"
        ).fetchall()
    }
    existing = {
        f"{schema}.{table}"
        for schema, table in conn.execute(
            "select table_schema, table_name from information_schema.tables"
        ).fetchall()
    }
    counts = {}
    for table in tables:
        if table not in existing:
            continue
        in_window = (
            "count(*) filter (where production_date between ?::date and ?::date)"
            if table in dated
            else "count(*)"
        )
        parameters = [first_day, last_day] if table in dated else []
        window, total = conn.execute(f"select {in_window}, count(*) from {table}", parameters).fetchone()
        counts[table] = (int(window), int(total))
    return counts
