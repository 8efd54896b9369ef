"""A daily run with GIGAFACTORY_ENGINE=spark completes end to end and tells the plant what DuckDB's run tells.

One factory day of the tiny test plant through the whole daily job (every asset and check: the quality gate,
dbt with its data tests on Spark, process mining with its statistics in Spark, anomalies, RCA, alerts,
reports, the analysts' copy, delivery) with the engine Spark, in the Spark venv (.venv-spark, a process of its
own: tests/spark_daily_run.py), while the same day runs on DuckDB in this process. Then every mart, every
table the Python assets wrote (mining, analytics, RCA, alerts) and every figure of every report is compared:
equal rows, doubles within a relative 1e-9, in any row order.

The end-to-end tier, marked ``spark``: it runs where the Spark venv is installed (``make spark-env``) and Java
is there (``make java``), and skips otherwise. ``make spark-check`` runs it after its table comparison (CI's
one Spark slot, .ci/run).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from orchestration.dbt_runner import parse_project
from orchestration.engines.spark_check import compare
from tests.spark_daily_run import run_day

pytestmark = [pytest.mark.e2e, pytest.mark.spark]

REPO = Path(__file__).resolve().parent.parent
SPARK_VENV = REPO / ".venv-spark"
DAY = "2026-11-09"  # the Monday of the demo week
# What the engine cannot change but a run's wall clock or folder can: left out of the comparison.
VOLATILE = {"generated_at", "logged_at", "delivered_at", "delivery_id"}  # delivery_id: a fresh UUID
# Lake views and dbt's staging views exist on DuckDB only as dbt builds them; the lake is the same files.
NOT_COMPARED_SCHEMAS = {"raw", "truth", "quarantine", "genealogy", "staging", "main"}
# So do dbt's views over the ocel tables (Spark views on Spark; the assets and traces read the tables).
OCEL_VIEWS = {
    f"ocel.{name}"
    for name in ("object", "object_object", "object_attribute", "event_type", "object_type", "flat_log")
}


def spark_missing() -> str | None:
    """Why the Spark run cannot run here, or None."""
    if not (SPARK_VENV / ".installed").exists():  # the Makefile's stamp: the venv is complete
        return "no Spark venv (make spark-env installs .venv-spark)"
    if shutil.which("java") is None:
        return "no Java (make java installs Debian's)"
    return None


@pytest.fixture(scope="module")
def both_engines(tmp_path_factory) -> dict[str, Path]:
    """The day on Spark (its own process) and on DuckDB (meanwhile, here); the folders of both."""
    reason = spark_missing()
    if reason:
        pytest.skip(reason)
    parse_project()  # once, before two processes would each find the manifest stale
    root = tmp_path_factory.mktemp("engines")
    folders = {"spark": root / "spark", "duckdb": root / "duckdb"}
    log = root / "spark.log"
    environment = {**os.environ, "PATH": f"{SPARK_VENV / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"}
    with log.open("w") as output:
        spark = subprocess.Popen(
            [
                str(SPARK_VENV / "bin" / "python"),
                "-m",
                "tests.spark_daily_run",
                str(folders["spark"]),
                DAY,
                "spark",
            ],
            cwd=REPO,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            with pytest.MonkeyPatch.context() as patch:  # building the definitions exports dbt's paths
                for name in ("GIGAFACTORY_WAREHOUSE", "GIGAFACTORY_LAKE", "GIGAFACTORY_DBT_TARGET"):
                    patch.setenv(name, "")
                on_duckdb = run_day(folders["duckdb"], DAY, "duckdb")
            status = spark.wait(timeout=1200)
        finally:
            if spark.poll() is None:
                spark.kill()
    outcome_file = folders["spark"] / "run.json"
    if not outcome_file.exists():
        sys.stdout.write(log.read_text()[-5000:])
        pytest.fail(f"the Spark run stopped without an outcome (exit status {status})")
    on_spark = json.loads(outcome_file.read_text())
    print(f"daily run of {DAY}: Spark {on_spark['seconds']} s, DuckDB {on_duckdb['seconds']} s")
    assert on_duckdb["success"], on_duckdb["failures"]
    assert on_spark["success"], (on_spark["failures"], log.read_text()[-3000:])
    return {**folders, "outcomes": {"spark": on_spark, "duckdb": on_duckdb}}


def test_the_day_runs_every_step_and_check_on_spark_as_on_duckdb(both_engines):
    on_spark, on_duckdb = both_engines["outcomes"]["spark"], both_engines["outcomes"]["duckdb"]
    # every step ran and succeeded (a step skipped on Spark would be missing here), the same checks ran
    assert on_spark["steps"] == on_duckdb["steps"]
    assert set(on_spark["steps"].values()) == {"success"}
    for step in (
        "warehouse_models",
        "process_mining",
        "analytics__sensor_anomalies",
        "reports__daily_report",
    ):
        assert step in on_spark["steps"]
    assert on_spark["checks"] == on_duckdb["checks"] > 100  # the quality gate's and dbt's data tests
    assert on_spark["failed_checks"] == on_duckdb["failed_checks"]  # the same warnings, none blocking
    # the marts are Spark's: Parquet under the Spark warehouse, views of the DuckDB file the assets read
    marts = both_engines["spark"] / "spark-warehouse" / "marts.db"
    assert len(list(marts.glob("*/production_date=*/*.parquet"))) >= 19
    with duckdb.connect(str(both_engines["spark"] / "warehouse.duckdb"), read_only=True) as conn:
        kinds = dict(
            conn.execute(
                "select table_name, table_type from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        )
    assert len(kinds) == 19 and set(kinds.values()) == {"VIEW"}


# The genealogy's tables (hundreds of thousands of rows a tiny day) are compared by checksums of their values
# as text (UTC), which frames of them took half a minute to do: they hold what both engines read from the same
# lake files.
OCEL_TABLES = {
    f"ocel.{name}"
    for name in ("event", "event_object", "object_by_day", "object_object_by_day", "object_attribute_by_day")
}


def checksums(warehouse: Path) -> dict[str, tuple]:
    """The genealogy's tables: rows and an order-free hash of every column."""
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        conn.execute("set TimeZone = 'UTC'")
        found = {}
        for table in sorted(OCEL_TABLES):
            columns = [row[0] for row in conn.execute(f"describe {table}").fetchall()]
            hashes = ", ".join(f'sum(hash(cast("{column}" as varchar)))' for column in columns)
            found[table] = tuple(conn.execute(f"select count(*), {hashes} from {table}").fetchall()[0])
        return found


def tables(warehouse: Path) -> dict[str, pd.DataFrame]:
    """Every table and view of the warehouse file but the lake's and staging's, as frames (UTC)."""
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        conn.execute("set TimeZone = 'UTC'")
        names = conn.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = current_database() order by 1, 2"
        ).fetchall()
        return {
            f"{schema}.{name}": conn.execute(f'select * from "{schema}"."{name}"').df()
            for schema, name in names
            if schema not in NOT_COMPARED_SCHEMAS and f"{schema}.{name}" not in OCEL_VIEWS | OCEL_TABLES
        }


def without_folder(frame: pd.DataFrame, folder: Path) -> pd.DataFrame:
    """Paths written into tables (pictures, PNML) relative to the run's folder; run clocks left out."""
    frame = frame.drop(columns=[c for c in frame.columns if c in VOLATILE])
    for column in frame.columns:
        if frame[column].dtype == object or pd.api.types.is_string_dtype(frame[column]):
            frame[column] = [
                v.replace(str(folder), "<folder>") if isinstance(v, str) else v for v in frame[column]
            ]
    return frame


def test_every_mart_and_every_table_the_assets_wrote_is_equal_on_both_engines(both_engines):
    on_spark, on_duckdb = {}, {}
    for database in ("warehouse.duckdb", "state.duckdb"):  # the state file: RCA cases, alerts, deliveries
        prefix = "" if database == "warehouse.duckdb" else "state:"
        on_spark.update({prefix + n: t for n, t in tables(both_engines["spark"] / database).items()})
        on_duckdb.update({prefix + n: t for n, t in tables(both_engines["duckdb"] / database).items()})
    assert sorted(on_spark) == sorted(on_duckdb)
    differing = []
    for name in sorted(on_duckdb):
        same, detail = compare(
            without_folder(on_duckdb[name], both_engines["duckdb"]),
            without_folder(on_spark[name], both_engines["spark"]),
        )
        if not same:
            differing.append(f"{name}: {detail}")
    assert not differing, "\n".join(differing)
    schemas = {name.split(".")[0] for name in on_duckdb}
    assert {"marts", "process_mining", "analytics", "state:rca", "state:alerts"} <= schemas
    # every delivery on both, the same report contents (their hashes) to the same recipients
    assert len(on_duckdb["state:distribution.delivery_log"]) > 0
    assert len([n for n in on_duckdb if n.startswith("marts.")]) == 19
    genealogy = checksums(both_engines["duckdb"] / "warehouse.duckdb")
    assert checksums(both_engines["spark"] / "warehouse.duckdb") == genealogy
    assert genealogy["ocel.event_object"][0] > 100_000  # the day's genealogy, cell by cell
    for mined in ("dfg", "variants", "activity_bottlenecks", "rework_rates"):  # the statistics Spark computed
        assert len(on_duckdb[f"process_mining.{mined}"]) > 0


def same_figures(left, right, where: str = "") -> list[str]:
    """Where two reports' JSON differ: numbers within a relative 1e-9, everything else exactly."""
    if isinstance(left, dict) and isinstance(right, dict):
        if set(left) != set(right):
            return [f"{where}: keys {sorted(set(left) ^ set(right))}"]
        return [
            d
            for key in left
            if key not in VOLATILE
            for d in same_figures(left[key], right[key], f"{where}.{key}")
        ]
    if isinstance(left, list) and isinstance(right, list):
        if len(left) != len(right):
            return [f"{where}: {len(left)} vs {len(right)} items"]
        return [
            d
            for i, (a, b) in enumerate(zip(left, right, strict=True))
            for d in same_figures(a, b, f"{where}[{i}]")
        ]
    if isinstance(left, (int, float)) and isinstance(right, (int, float)) and not isinstance(left, bool):
        return (
            [] if math.isclose(left, right, rel_tol=1e-9, abs_tol=1e-9) else [f"{where}: {left} vs {right}"]
        )
    return [] if left == right else [f"{where}: {left!r} vs {right!r}"]


def test_every_report_tells_the_same_figures_on_both_engines(both_engines):
    spark_reports, duckdb_reports = both_engines["spark"] / "reports", both_engines["duckdb"] / "reports"
    figures = sorted(p.relative_to(duckdb_reports) for p in duckdb_reports.rglob("*.json"))
    assert sorted(p.relative_to(spark_reports) for p in spark_reports.rglob("*.json")) == figures
    assert len([p for p in figures if p.parts[1:2] == ("daily",)]) == 5  # every role's daily report
    differing = []
    for page in figures:
        left = json.loads(
            (duckdb_reports / page).read_text().replace(str(both_engines["duckdb"]), "<folder>")
        )
        right = json.loads((spark_reports / page).read_text().replace(str(both_engines["spark"]), "<folder>"))
        differing += [f"{page}{d}" for d in same_figures(left, right)]
    assert not differing, "\n".join(differing[:30])
