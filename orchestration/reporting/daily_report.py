"""The daily factory report's data: read-only queries on the warehouse marts and process-mining tables.

Whatever is missing (a table not built yet, no row for the day) becomes ``None`` plus a line in
``DailyReport.missing``; loading never fails because data are absent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from orchestration.factory_calendar import as_date
from orchestration.reporting import queries

TREND_DAYS = 7

FACTORY_TABLE = "marts.fct_oee_factory_day"
MACHINE_TABLE = "marts.fct_oee_machine_day"
MODELS_TABLE = "process_mining.discovered_models"
CONFORMANCE_TABLE = "process_mining.conformance"


@dataclass(frozen=True)
class FactoryKpis:
    availability: float | None
    effectiveness: float | None
    quality_ratio: float | None
    oee: float | None
    produced_qty: int | None
    good_qty: int | None
    scrap_qty: int | None
    rework_qty: int | None
    cells_completed: int | None
    first_pass_yield: float | None
    breakdown_count: int | None
    machine_count: int | None


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
class TrendPoint:
    production_date: date
    oee: float | None  # None: no factory row that day


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


@dataclass(frozen=True)
class DailyReport:
    production_date: date
    factory: FactoryKpis | None
    trend: list[TrendPoint]  # the TREND_DAYS days ending with production_date, oldest first
    machines: list[MachineOee]  # worst OEE first, machines without an OEE last
    process_mining: ProcessMiningSummary | None
    missing: list[str] = field(default_factory=list)  # human-readable: what data were not available
    # KPI -> why the day's data cannot support it (from marts.fct_kpi_coverage): shown instead of a number
    not_computable: dict[str, str] = field(default_factory=dict)
    # Rows the quality gate held back that day: table, rows in, rows quarantined, reasons with counts
    held_back: list[dict[str, Any]] = field(default_factory=list)
    quality_page: str | None = None  # the day's data-quality page, relative to the report's folder

    @property
    def process_mining_available(self) -> bool:
        return self.process_mining is not None


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _factory(conn, day: date, missing: list[str]) -> tuple[FactoryKpis | None, list[TrendPoint]]:
    days = [day - timedelta(days=offset) for offset in range(TREND_DAYS - 1, -1, -1)]
    empty_trend = [TrendPoint(d, None) for d in days]
    if not queries.table_exists(conn, FACTORY_TABLE):
        missing.append(f"factory KPIs: table {FACTORY_TABLE} not found")
        return None, empty_trend
    rows = queries.rows(
        conn,
        f"""
        select production_date, availability, effectiveness, quality_ratio, oee, produced_qty, good_qty,
               scrap_qty, rework_qty, cells_completed, first_pass_yield, breakdown_count, machine_count
        from {FACTORY_TABLE}
        where production_date between ?::date and ?::date
        order by production_date
        """,
        [days[0], day],
    )
    by_day = {as_date(row["production_date"]): row for row in rows}
    trend = [TrendPoint(d, _float(by_day[d]["oee"]) if d in by_day else None) for d in days]
    gaps = [d.isoformat() for d in days[:-1] if d not in by_day]
    if gaps:
        missing.append(f"OEE trend: no factory figures for {', '.join(gaps)}")
    row = by_day.get(day)
    if row is None:
        missing.append(f"factory KPIs: no row for {day.isoformat()} in {FACTORY_TABLE}")
        return None, trend
    kpis = FactoryKpis(
        availability=_float(row["availability"]),
        effectiveness=_float(row["effectiveness"]),
        quality_ratio=_float(row["quality_ratio"]),
        oee=_float(row["oee"]),
        produced_qty=_int(row["produced_qty"]),
        good_qty=_int(row["good_qty"]),
        scrap_qty=_int(row["scrap_qty"]),
        rework_qty=_int(row["rework_qty"]),
        cells_completed=_int(row["cells_completed"]),
        first_pass_yield=_float(row["first_pass_yield"]),
        breakdown_count=_int(row["breakdown_count"]),
        machine_count=_int(row["machine_count"]),
    )
    return kpis, trend


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


def load_process_mining(conn, day: date, missing: list[str]) -> ProcessMiningSummary | None:
    """The day's discovered process model and its conformance; None when neither was recorded."""
    model_row: dict[str, Any] | None = None
    conformance_row: dict[str, Any] | None = None
    if queries.table_exists(conn, MODELS_TABLE):
        found = queries.rows(
            conn,
            f"""
            select algorithm, noise_threshold, places, transitions, silent_transitions, arcs,
                   picture_svg_path, picture_png_path, renderer, note
            from {MODELS_TABLE} where production_date = ?::date order by algorithm, noise_threshold limit 1
            """,
            [day],
        )
        model_row = found[0] if found else None
        if model_row is None:
            missing.append(f"process model: no row for {day.isoformat()} in {MODELS_TABLE}")
    else:
        missing.append(f"process model: table {MODELS_TABLE} not found")
    if queries.table_exists(conn, CONFORMANCE_TABLE):
        found = queries.rows(
            conn,
            f"""
            select model_name, cases, events, variants, variants_used, log_fitness, fitting_traces_share,
                   precision, note
            from {CONFORMANCE_TABLE} where production_date = ?::date order by model_name limit 1
            """,
            [day],
        )
        conformance_row = found[0] if found else None
        if conformance_row is None:
            missing.append(f"conformance: no row for {day.isoformat()} in {CONFORMANCE_TABLE}")
    else:
        missing.append(f"conformance: table {CONFORMANCE_TABLE} not found")
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


def load_daily_report(conn, production_date: date | str) -> DailyReport:
    """Everything the day's report shows, read with SELECTs only (safe on a read-only connection)."""
    day = as_date(production_date)
    missing: list[str] = []
    factory, trend = _factory(conn, day, missing)
    machines = load_machine_oee(conn, day, missing)
    process_mining = load_process_mining(conn, day, missing)
    return DailyReport(
        production_date=day,
        factory=factory,
        trend=trend,
        machines=machines,
        process_mining=process_mining,
        missing=missing,
        not_computable=load_not_computable(conn, day),
        held_back=load_held_back(conn, day),
    )
