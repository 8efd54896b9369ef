"""Quality sections: first-pass yield per step, per cell with the containment list, process capability, SPC
rule violations, the defect Pareto, and the open root-cause-analysis cases."""

from __future__ import annotations

from pathlib import Path

import duckdb

from orchestration.reporting.mart_reading import NoRows, read_mart, row_bars
from orchestration.reporting.queries import rows, table_columns, table_exists
from orchestration.reporting.section import Column, DaySource, Section, characteristic_name
from orchestration.state_file import state_file

CPK_CAPABLE = 1.33


def quality_yield(source: DaySource) -> Section:
    """First-pass yield per route step against its trailing 30 days, with the shift slot that did worst."""
    section = Section("quality_yield", "First-pass yield per step", "")
    table = "marts.fct_quality_yield"
    # Shift slot (early/late/night), never the crew: crew figures belong to the per_operator class.
    if not read_mart(
        section,
        source,
        table,
        f"""
        with per_step_day as (
            select production_date, activity,
                   sum(first_pass_good_cells) / nullif(sum(first_pass_decided_cells), 0) as fpy,
                   sum(scrap_cells) as scrap_cells, sum(rework_cells) as rework_cells,
                   sum(produced_cells) as produced_cells
            from {table} where production_date between ?::date - 30 and ?::date group by all
        ),
        per_slot as (
            select activity, shift_name,
                   sum(first_pass_good_cells) / nullif(sum(first_pass_decided_cells), 0) as fpy
            from {table} where production_date = ? group by all
        ),
        -- no worst shift when all did equally well; a tie for the lowest goes to the first by name, so
        -- the same day always reads the same
        worst_slot as (select activity, min(fpy) as worst_shift_fpy,
                              case when min(fpy) < max(fpy) then arg_min(shift_name, (fpy, shift_name)) end
                                  as worst_shift
                       from per_slot where fpy is not null group by activity)
        select d.activity, d.fpy, t.trailing_fpy, t.trailing_days, d.fpy - t.trailing_fpy as change,
               d.produced_cells,
               d.scrap_cells, d.rework_cells, w.worst_shift, w.worst_shift_fpy
        from per_step_day d
        left join (select activity, avg(fpy) as trailing_fpy, count(fpy) as trailing_days from per_step_day
                   where production_date < ?::date group by activity) t using (activity)
        left join worst_slot w using (activity)
        where d.production_date = ?::date
        order by d.fpy asc nulls last, d.activity
        """,
        [source.day] * 5,
        NoRows("No yield figures for this day.", f"first-pass yield: no rows for {source.day} in {table}"),
    ):
        return section
    days = max((r["trailing_days"] or 0 for r in section.rows), default=0)
    section.columns = [
        Column("activity", "Step"),
        Column("fpy", "First-pass yield", "pct"),
        Column("trailing_fpy", f"Mean of {days} days before", "pct"),
        Column("change", "Change", "pts"),
        Column("produced_cells", "Produced", "num", "cells"),
        Column("scrap_cells", "Scrap", "num", "cells"),
        Column("rework_cells", "Rework", "num", "cells"),
        Column("worst_shift", "Worst shift"),
        Column("worst_shift_fpy", "Its yield", "pct"),
    ]
    worst = section.rows[0]
    section.headline = f"Lowest first-pass yield at {worst['activity']}: {(worst['fpy'] or 0) * 100:.1f}%" + (
        f", worst in the {worst['worst_shift']} shift." if worst["worst_shift"] else "."
    )
    section.attention = max([0.0, *(-r["change"] for r in section.rows if r["change"] is not None)])
    section.chart = row_bars(
        section.rows,
        "activity",
        "fpy",
        "quality-yield",
        "First-pass yield per step",
        "First-pass yield",
        percent=True,
    )
    return section


def capability(source: DaySource) -> Section:
    """Cpk per characteristic and machine (lowest first), pooled over products with the mart's sums."""
    section = Section("capability", "Process capability (Cpk, lowest first)", "")
    table = "marts.fct_process_capability"
    if not read_mart(
        section,
        source,
        table,
        f"""
        select characteristic, machine_id, activity, sum(sample_count) as samples,
               sum(out_of_spec_count) as out_of_spec, min(cpk) as cpk, min(cp) as cp
        from {table} where production_date = ? and cpk is not null
        group by all order by cpk asc, characteristic, machine_id limit 15
        """,
        [source.day],
        NoRows("No capability figures for this day.", f"capability: no rows for {source.day} in {table}"),
    ):
        return section
    section.columns = [
        Column("characteristic", "Characteristic"),
        Column("machine_id", "Machine"),
        Column("cpk", "Cpk", "num3"),
        Column("cp", "Cp", "num3"),
        Column("samples", "Measured", "num", "samples"),
        Column("out_of_spec", "Out of spec", "num", "samples"),
    ]
    for row in section.rows:
        row["characteristic"] = characteristic_name(row["characteristic"])
    incapable = [r for r in section.rows if r["cpk"] < CPK_CAPABLE]
    worst = section.rows[0]
    section.headline = (
        f"{len(incapable)} of the {len(section.rows)} lowest charts below Cpk {CPK_CAPABLE}; lowest: "
        f"{worst['characteristic']} on {worst['machine_id']} (Cpk {worst['cpk']:.2f})."
    )
    section.attention = max(0.0, CPK_CAPABLE - worst["cpk"]) / CPK_CAPABLE
    section.chart = row_bars(
        section.rows,
        lambda r: f"{characteristic_name(r['characteristic'])} / {r['machine_id']}",
        "cpk",
        "capability",
        "Cpk per characteristic and machine",
        f"Cpk (capable from {CPK_CAPABLE})",
    )
    return section


def defect_pareto(source: DaySource) -> Section:
    section = Section("defect_pareto", "Defect Pareto", "")
    table = "marts.fct_defect_pareto"
    if not read_mart(
        section,
        source,
        table,
        f"""
        select pareto_rank, activity, characteristic, batches_affected, out_of_spec_samples,
               share_of_defects, cumulative_share
        from {table} where production_date = ? order by pareto_rank limit 10
        """,
        [source.day],
        NoRows("No out-of-spec measurement this day."),
    ):
        return section
    section.columns = [
        Column("pareto_rank", "Rank"),
        Column("characteristic", "Characteristic"),
        Column("activity", "Step"),
        Column("batches_affected", "Affected", "num", "batches"),
        Column("share_of_defects", "Share", "pct"),
        Column("cumulative_share", "Cumulative", "pct"),
    ]
    top = section.rows[0]
    section.headline = (
        f"{top['characteristic']} ({top['activity']}) accounts for {top['share_of_defects'] * 100:.0f}% "
        "of the day's defects."
    )
    section.chart = row_bars(
        section.rows,
        "characteristic",
        "batches_affected",
        "defect-pareto",
        "Defect Pareto",
        "Batches affected",
    )
    return section


RCA_STATUSES_OPEN = ("open", "investigating", "action_defined", "verified")


def read_rca_cases(state_path: Path | None, missing: list[str]) -> list[dict] | None:
    """Every case not closed, newest first, from the RCA state file (opened read-only); None without it."""
    if state_path is None or not Path(state_path).exists():
        return None
    try:
        with state_file(state_path, read_only=True, wait_s=5.0) as conn:
            if not table_exists(conn, "rca.cases"):
                return None
            # a state file of an older shape has no characteristic column
            characteristic = (
                "characteristic" if "characteristic" in table_columns(conn, "rca.cases") else "null"
            )
            return rows(
                conn,
                "select case_id, opened_at, production_date, signal_kind, signal, activity, machine_id, "
                f"{characteristic} as characteristic, status, top_factor, top_factor_effect, "
                f"top_factor_p_value, recurring_of from rca.cases where status in {RCA_STATUSES_OPEN} "
                "order by opened_at desc, case_id",
            )
    except duckdb.Error as exc:  # e.g. the RCA command holds the file for writing right now
        missing.append(f"RCA cases: state file {state_path} could not be read ({exc.__class__.__name__})")
        return None


def rca_cases(source: DaySource) -> Section:
    section = Section("rca_cases", "Open root-cause analysis cases", "")
    cases = read_rca_cases(source.rca_state, section.missing)
    if cases is None:
        section.headline = "No RCA data."
        return section
    section.rows = cases
    section.columns = [
        Column("case_id", "Case"),
        Column("production_date", "Factory day"),  # its day, not when the RCA run recorded it
        Column("signal", "Signal"),
        Column("activity", "Step"),
        Column("machine_id", "Machine"),
        Column("status", "Status"),
        Column("top_factor", "Top factor"),
        Column("top_factor_effect", "Effect", "num3"),
        Column("top_factor_p_value", "p-value", "p"),
        Column("recurring_of", "Recurs"),
    ]
    new = [c for c in cases if str(c["production_date"]) == source.day.isoformat()]
    section.headline = (
        f"{len(cases)} open cases, {len(new)} opened for this day." if cases else "No open case."
    )
    section.attention = 0.5 * len(new)
    return section


def cell_flow(source: DaySource) -> Section:
    """Per cell: first-pass yield and lead time from slurry to grading per product, against the trailing 30
    days; the containment list (cells made from an out-of-spec segment or slurry batch) in the headline."""
    section = Section("cell_flow", "Cells: first-pass yield and lead time, containment", "")
    table = "marts.fct_cell_flow_day"
    if not read_mart(
        section,
        source,
        table,
        f"""
        with per_day as (
            select production_date, product_id, sum(cells_ended) as cells_ended,
                   sum(cells_good) as cells_good, sum(cells_scrapped) as cells_scrapped,
                   sum(cells_scrapped_before_grading) as cells_scrapped_before_grading,
                   sum(first_pass_good_cells) / nullif(sum(cells_ended), 0) as fpy,
                   max(slurry_to_grading_p50_h) as lead_p50_h, max(slurry_to_grading_p95_h) as lead_p95_h
            from {table} where production_date between ?::date - 30 and ?::date group by all
        )
        select d.product_id, d.cells_ended, d.cells_good, d.cells_scrapped, d.cells_scrapped_before_grading,
               d.fpy, t.trailing_fpy, d.fpy - t.trailing_fpy as change, d.lead_p50_h, d.lead_p95_h,
               t.trailing_lead_p95_h
        from per_day d
        left join (select product_id, avg(fpy) as trailing_fpy, avg(lead_p95_h) as trailing_lead_p95_h
                   from per_day where production_date < ?::date group by product_id) t using (product_id)
        where d.production_date = ?::date
        order by d.fpy asc nulls last, d.product_id
        """,
        [source.day] * 4,
        NoRows("No cell ended its route this day (or the plant tracks batches, not cells)."),
    ):
        return section
    section.columns = [
        Column("product_id", "Product"),
        Column("fpy", "Cell first-pass yield", "pct"),
        Column("trailing_fpy", "Mean of the 30 days before", "pct"),
        Column("change", "Change", "pts"),
        Column("cells_good", "Good", "num", "cells"),
        Column("cells_scrapped", "Scrapped", "num", "cells"),
        Column("lead_p50_h", "Slurry to grading, median", "num1", "h"),
        Column("lead_p95_h", "95th percentile", "num1", "h"),
    ]
    worst = section.rows[0]
    held = _containment(source.conn)
    section.headline = (
        f"Lowest cell first-pass yield: {worst['product_id']} {(worst['fpy'] or 0) * 100:.1f}%; "
        f"slurry to grading {worst['lead_p95_h'] or 0:.1f} h at the 95th percentile."
    )
    if held:
        cells = sum(r["cells"] for r in held)
        to_hold = sum(r["cells"] - r["scrapped"] for r in held)
        section.headline += (
            f" Containment: {cells} cells made from {len(held)} out-of-spec "
            f"{'material' if len(held) == 1 else 'materials'}, {to_hold} of them not scrapped "
            f"({held[0]['material_id']}: {held[0]['finding_attribute']})."
        )
    section.extra["containment"] = held
    section.attention = max([0.0, *(-r["change"] for r in section.rows if r["change"] is not None)]) + (
        0.05 if any(r["cells"] > r["scrapped"] for r in held) else 0.0
    )
    return section


def _containment(conn: duckdb.DuckDBPyConnection) -> list[dict]:
    """Per out-of-spec material: its cells and how many are scrapped (ocel.containment; none without it)."""
    if not table_exists(conn, "ocel.containment"):
        return []
    return rows(
        conn,
        """select material_id, material_type, finding_attribute, any_value(finding_value) as finding_value,
                  count(*) as cells, count(*) filter (where cell_status = 'scrapped') as scrapped,
                  count(*) filter (where cell_status in ('graded', 'packed')) as shippable
           from ocel.containment group by all
           order by shippable desc, cells desc, material_id limit 20""",
        [],
    )
