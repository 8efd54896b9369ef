"""Figures of a factory day the report sections share: read-only queries on the marts, the quality gate's
ledger and the process-mining tables.

Whatever is missing (a table not built yet, no row for the day) becomes ``None`` or ``[]`` plus a line in the
caller's ``missing`` list; loading never fails because data are absent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from orchestration.reporting import queries

MACHINE_TABLE = "marts.fct_oee_machine_day"
MODELS_TABLE = "process_mining.discovered_models"
CONFORMANCE_TABLE = "process_mining.conformance"


@dataclass(frozen=True)
class MachineOee:
    machine_id: str
    line_id: str | None
    activity: str | None
    availability: float | None
    effectiveness: float | None
    quality_ratio: float | None
    oee: float | None
    produced_qty: int | None
    good_qty: int | None
    scrap_qty: int | None
    rework_qty: int | None
    breakdown_count: int | None
    mtbf_s: float | None
    mttr_s: float | None


@dataclass(frozen=True)
class ProcessMiningSummary:
    algorithm: str | None = None
    noise_threshold: float | None = None
    places: int | None = None
    transitions: int | None = None
    silent_transitions: int | None = None
    arcs: int | None = None
    picture_svg_path: str | None = None
    picture_png_path: str | None = None
    renderer: str | None = None
    model_note: str | None = None
    model_name: str | None = None
    cases: int | None = None
    events: int | None = None
    variants: int | None = None
    variants_used: int | None = None
    log_fitness: float | None = None
    fitting_traces_share: float | None = None
    precision: float | None = None
    conformance_note: str | None = None
    has_model: bool = False
    has_conformance: bool = False


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def load_machine_oee(conn, day: date, missing: list[str]) -> list[MachineOee]:
    """Each machine's OEE figures of the day, worst OEE first (machines without one last)."""
    if not queries.table_exists(conn, MACHINE_TABLE):
        missing.append(f"machine OEE: table {MACHINE_TABLE} not found")
        return []
    rows = queries.rows(
        conn,
        f"""
        select machine_id, line_id, activity, availability, effectiveness, quality_ratio, oee,
               produced_qty, good_qty, scrap_qty, rework_qty, breakdown_count, mtbf_s, mttr_s
        from {MACHINE_TABLE}
        where production_date = ?::date
        order by oee asc nulls last, machine_id
        """,
        [day],
    )
    if not rows:
        missing.append(f"machine OEE: no rows for {day.isoformat()} in {MACHINE_TABLE}")
    return [
        MachineOee(
            machine_id=str(row["machine_id"]),
            line_id=row["line_id"],
            activity=row["activity"],
            availability=_float(row["availability"]),
            effectiveness=_float(row["effectiveness"]),
            quality_ratio=_float(row["quality_ratio"]),
            oee=_float(row["oee"]),
            produced_qty=_int(row["produced_qty"]),
            good_qty=_int(row["good_qty"]),
            scrap_qty=_int(row["scrap_qty"]),
            rework_qty=_int(row["rework_qty"]),
            breakdown_count=_int(row["breakdown_count"]),
            mtbf_s=_float(row["mtbf_s"]),
            mttr_s=_float(row["mttr_s"]),
        )
        for row in rows
    ]


def _first_row_of_day(
    conn, table: str, what: str, columns: str, order: str, day: date, missing: list[str]
) -> dict[str, Any] | None:
    """The day's first row of ``table`` in ``order``; None, said in ``missing``, when there is none."""
    if not queries.table_exists(conn, table):
        missing.append(f"{what}: table {table} not found")
        return None
    found = queries.rows(
        conn,
        f"select {columns} from {table} where production_date = ?::date order by {order} limit 1",
        [day],
    )
    if not found:
        missing.append(f"{what}: no row for {day.isoformat()} in {table}")
        return None
    return found[0]


def load_process_mining(conn, day: date, missing: list[str]) -> ProcessMiningSummary | None:
    """The day's discovered process model and its conformance; None when neither was recorded."""
    model_row = _first_row_of_day(
        conn,
        MODELS_TABLE,
        "process model",
        "algorithm, noise_threshold, places, transitions, silent_transitions, arcs, picture_svg_path, "
        "picture_png_path, renderer, note",
        "algorithm, noise_threshold",
        day,
        missing,
    )
    conformance_row = _first_row_of_day(
        conn,
        CONFORMANCE_TABLE,
        "conformance",
        "model_name, cases, events, variants, variants_used, log_fitness, fitting_traces_share, precision, "
        "note",
        "model_name",
        day,
        missing,
    )
    if model_row is None and conformance_row is None:
        return None
    model_row = model_row or {}
    conformance_row = conformance_row or {}
    return ProcessMiningSummary(
        algorithm=model_row.get("algorithm"),
        noise_threshold=_float(model_row.get("noise_threshold")),
        places=_int(model_row.get("places")),
        transitions=_int(model_row.get("transitions")),
        silent_transitions=_int(model_row.get("silent_transitions")),
        arcs=_int(model_row.get("arcs")),
        picture_svg_path=model_row.get("picture_svg_path"),
        picture_png_path=model_row.get("picture_png_path"),
        renderer=model_row.get("renderer"),
        model_note=model_row.get("note"),
        model_name=conformance_row.get("model_name"),
        cases=_int(conformance_row.get("cases")),
        events=_int(conformance_row.get("events")),
        variants=_int(conformance_row.get("variants")),
        variants_used=_int(conformance_row.get("variants_used")),
        log_fitness=_float(conformance_row.get("log_fitness")),
        fitting_traces_share=_float(conformance_row.get("fitting_traces_share")),
        precision=_float(conformance_row.get("precision")),
        conformance_note=conformance_row.get("note"),
        has_model=bool(model_row),
        has_conformance=bool(conformance_row),
    )


COVERAGE_TABLE = "marts.fct_kpi_coverage"
LEDGER_TABLE = "quarantine.reconciliation"


def load_held_back(conn, day: date) -> list[dict[str, Any]]:
    """Per raw table with rows quarantined that day: counts from the ledger, reasons from quarantine."""
    if not queries.table_exists(conn, LEDGER_TABLE):
        return []
    ledger = queries.rows(
        conn,
        f"select table_name, rows_in, rows_quarantined from {LEDGER_TABLE} "
        "where date = ? and rows_quarantined > 0 order by table_name",
        [day],
    )
    for row in ledger:
        table = f"quarantine.{row['table_name']}"
        row["reasons"] = (
            queries.rows(
                conn,
                f"select reason, count(*) as rows from {table} where date = ? group by reason "
                "order by rows desc, reason limit 10",
                [day],
            )
            if queries.table_exists(conn, table)
            else []
        )
    return ledger


def load_not_computable(conn, day: date) -> dict[str, str]:
    """KPI -> why the day's data cannot support it (from marts.fct_kpi_coverage)."""
    if not queries.table_exists(conn, COVERAGE_TABLE):
        return {}
    rows = queries.rows(
        conn,
        f"select kpi, reason from {COVERAGE_TABLE} where production_date = ? and not computable order by kpi",
        [day],
    )
    return {row["kpi"]: row["reason"] for row in rows}
