"""Production sections: the six big losses, throughput per line, OEE per machine, bottlenecks and rework from
process mining, the crews' shifts (per-operator figures)."""

from __future__ import annotations

from orchestration.reporting import svg_charts as charts
from orchestration.reporting.day_figures import load_machine_oee, load_process_mining
from orchestration.reporting.mart_reading import NoRows, mart_not_built, read_mart, row_bars
from orchestration.reporting.pages import fmt_duration
from orchestration.reporting.queries import rows, table_exists
from orchestration.reporting.section import Column, DaySource, Section

LOSSES = {
    "breakdowns": "Breakdowns",
    "setup_adjustment": "Setup and adjustment",
    "idling_minor_stops": "Idling and minor stops",
    "reduced_speed": "Reduced speed",
    "process_defects": "Process defects",
    "startup_rejects": "Start-up rejects",
}


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def _computed(value: float | None, why: str) -> str:
    return f"not computed{why}" if value is None else f"{value * 100:.1f}%"


def oee_losses(source: DaySource) -> Section:
    """The six big losses of the factory day against their trailing 30-day mean, the largest first, with the
    route step that lost the most time to each."""
    section = Section("oee_losses", "OEE losses (six big losses)", "")
    factory, machines = "marts.fct_oee_factory_day", "marts.fct_oee_machine_day"
    sums = ", ".join(f"loss_{k}_s as {k}" for k in LOSSES)
    if not read_mart(
        section,
        source,
        factory,
        f"""
        with days as (
            select production_date, planned_busy_time_s, {sums} from {factory}
            where production_date between ?::date - 30 and ?::date
        ),
        long as (unpivot days on {", ".join(LOSSES)} into name loss value seconds)
        select loss, max(seconds) filter (where production_date = ?::date) as seconds,
               avg(seconds) filter (where production_date < ?::date) as trailing_mean_s,
               count(seconds) filter (where production_date < ?::date) as trailing_days,
               max(planned_busy_time_s) filter (where production_date = ?::date) as pbt_s
        from long group by loss
        """,
        [source.day] * 6,
    ):
        return section
    # a row per loss of the trailing window: keep the losses the day itself has figures for
    section.rows = [r for r in section.rows if r["seconds"] is not None]
    if section.rows and not any(r["pbt_s"] for r in section.rows):
        # No planned busy time: a source without machines' time (an office or service log, an export of
        # steps only) has no OEE time model, so there are no losses to name, not six losses of zero.
        section.title, section.rows = "OEE losses", []
        section.headline = "This source records no machine time: OEE losses are not computed."
        section.missing.append(f"OEE losses: no planned busy time for {source.day} in {factory}")
        return section
    if not section.rows:
        return NoRows(
            "No OEE figures for this day.", f"OEE losses: no row for {source.day} in {factory}"
        ).show_in(section)
    worst_step: dict[str, tuple[str, float]] = {}
    if table_exists(source.conn, machines):
        per_step = rows(
            source.conn,
            f"""
            with steps as (select activity, {", ".join(f"sum(loss_{k}_s) as {k}" for k in LOSSES)}
                           from {machines} where production_date = ? group by activity)
            select loss, arg_max(activity, (seconds, activity)) as activity, max(seconds) as seconds
            from (unpivot steps on {", ".join(LOSSES)} into name loss value seconds) group by loss
            """,
            [source.day],
        )
        worst_step = {r["loss"]: (r["activity"], r["seconds"]) for r in per_step}
    for r in section.rows:
        r["label"] = LOSSES[r["loss"]]
        r["share_of_pbt"] = r["seconds"] / r["pbt_s"] if r["pbt_s"] else None
        r["change_s"] = r["seconds"] - r["trailing_mean_s"] if r["trailing_mean_s"] is not None else None
        r["worst_step"], r["worst_step_s"] = worst_step.get(r["loss"], (None, None))
    section.rows.sort(key=lambda r: -r["seconds"])
    days = max((r["trailing_days"] or 0 for r in section.rows), default=0)
    section.columns = [
        Column("label", "Loss"),
        Column("seconds", "Lost time", "dur"),
        Column("share_of_pbt", "Share of busy time", "pct"),
        Column("trailing_mean_s", f"Mean of {days} days before", "dur"),
        Column("change_s", "Change", "dur"),
        Column("worst_step", "Step losing most"),
    ]
    top = section.rows[0]
    section.headline = (
        f"Largest loss: {top['label'].lower()}, {_share(top['share_of_pbt'])} of planned busy time"
        + (f", most of it at {top['worst_step']}." if top["worst_step"] else ".")
    )
    worsened = [r["change_s"] / r["pbt_s"] for r in section.rows if r["change_s"] is not None and r["pbt_s"]]
    section.attention = max([0.0, *worsened])
    # the time model top to bottom, in the six losses' own order (ISO 22400's, not the day's ranking)
    order = {loss: n for n, loss in enumerate(LOSSES)}
    in_order = sorted(
        (r for r in section.rows if r["share_of_pbt"] is not None), key=lambda r: order[r["loss"]]
    )
    section.chart = charts.waterfall_chart(
        [(r["label"], r["share_of_pbt"]) for r in in_order],
        "oee-losses",
        "Six big losses: planned busy time down to fully productive time",
        "Fully productive time",
    )
    return section


NO_LINE = "(no line)"


def throughput(source: DaySource) -> Section:
    """Good cells out of each line (its last step: a cell passes every step of a line, so summing the steps
    would count it once per step) against the line's mean of the trailing days that have figures."""
    section = Section("throughput", "Throughput per line", "")
    machines, events = "marts.fct_oee_machine_day", "marts.fct_process_events"
    if not table_exists(source.conn, events):
        return mart_not_built(section, events)
    # a line's last step: the one cases reach latest after they start (over the whole window)
    if not read_mart(
        section,
        source,
        machines,
        f"""
        with window_events as (  -- a plant without lines (a job shop's export) is one line
            select case_id, coalesce(line_id, '{NO_LINE}') as line_id, activity, start_ts from {events}
            where production_date between $day::date - 30 and $day::date
        ),
        positions as (
            select line_id, activity, avg(epoch(start_ts) - epoch(case_start)) as position
            from window_events
            join (select case_id, min(start_ts) as case_start from window_events group by case_id)
                using (case_id)
            group by all
        ),
        last_step as (
            select line_id, arg_max(activity, position) as activity from positions group by line_id
        ),
        per_day as (
            select m.production_date, last_step.line_id, any_value(m.activity) as last_step,
                   sum(m.good_qty) as good_cells, sum(m.produced_qty) as produced_cells
            from {machines} m join last_step
                on coalesce(m.line_id, '{NO_LINE}') = last_step.line_id and m.activity = last_step.activity
            where m.production_date between $day::date - 30 and $day::date group by all
        )
        select line_id, any_value(last_step) as last_step,
               max(good_cells) filter (where production_date = $day::date) as good_cells,
               max(produced_cells) filter (where production_date = $day::date) as produced_cells,
               avg(good_cells) filter (where production_date < $day::date) as trailing_good_cells,
               count(good_cells) filter (where production_date < $day::date) as trailing_days
        from per_day group by line_id
        having count(*) filter (where production_date = $day::date) > 0 order by line_id
        """,
        {"day": source.day},
        NoRows("No line figures for this day.", f"throughput: no rows for {source.day} in {machines}"),
    ):
        return section
    for line in section.rows:
        mean = line["trailing_good_cells"]
        line["change"] = (line["good_cells"] - mean) / mean if mean else None
    days = max((line["trailing_days"] for line in section.rows), default=0)
    section.columns = [
        Column("line_id", "Line"),
        Column("last_step", "Counted at (last step)"),
        Column("good_cells", "Good", "num", "cells"),
        Column("produced_cells", "Produced", "num", "cells"),
        Column("trailing_good_cells", f"Good, mean of {days} days before", "num", "cells"),
        Column("change", "Change", "pct"),
    ]
    section.extra["trailing_days"] = days
    drops = [(line["change"], line["line_id"]) for line in section.rows if line["change"] is not None]
    worst = min(drops) if drops else None
    section.headline = (
        f"Line {worst[1]} made {abs(worst[0]) * 100:.1f}% {'fewer' if worst[0] < 0 else 'more'} good cells "
        f"than its mean of the {days} days before."
        if worst
        else "No trailing figures to compare with."
    )
    section.attention = max(0.0, -worst[0]) if worst else 0.0
    section.chart = row_bars(
        section.rows,
        "line_id",
        "good_cells",
        "throughput",
        "Good cells per line",
        "Good cells",
        highlight=None,
    )
    return section


def machines(source: DaySource) -> Section:
    section = Section("machines", "OEE per machine (worst first)", "")
    missing: list[str] = []
    found = load_machine_oee(source.conn, source.day, missing)
    section.missing.extend(missing)
    if not found:
        section.headline = "No machine figures for this day."
        return section
    section.rows = [vars(m) for m in found]
    section.columns = [
        Column("machine_id", "Machine"),
        Column("activity", "Step"),
        Column("oee", "OEE", "pct"),
        Column("availability", "Availability", "pct"),
        Column("effectiveness", "Effectiveness", "pct"),
        Column("quality_ratio", "Quality", "pct"),
        Column("produced_qty", "Produced", "num", "cells"),
        Column("breakdown_count", "Breakdowns", "num", "count"),
        Column("mtbf_s", "MTBF", "dur"),
        Column("mttr_s", "MTTR", "dur"),
    ]
    worst = found[0]
    section.headline = f"Lowest OEE: {worst.machine_id} ({worst.activity or 'n/a'})."
    section.chart = row_bars(
        section.rows,
        "machine_id",
        "oee",
        "oee-machines",
        "OEE per machine",
        "OEE of the day (worst first)",
        percent=True,
    )
    return section


def bottlenecks(source: DaySource) -> Section:
    """Where batches wait longest, and the rework loops that send them back (process mining of the day)."""
    section = Section("bottlenecks", "Bottlenecks and rework (process mining)", "")
    waits, loops = "process_mining.activity_bottlenecks", "process_mining.rework_loops"
    # The shortest window ending with the day: the day's own behaviour.
    if not read_mart(
        section,
        source,
        waits,
        f"""
        select rank, activity, executions, mean_wait_s, p95_wait_s, mean_processing_s, wait_share
        from {waits} where window_end = ?::date
          and window_days = (select min(window_days) from {waits} where window_end = ?::date)
        order by rank
        """,
        [source.day, source.day],
        NoRows(
            "Process mining has not run for this day.",
            f"bottlenecks: no window ending {source.day} in {waits}",
        ),
    ):
        return section
    section.columns = [
        Column("rank", "Rank"),
        Column("activity", "Step"),
        Column("mean_wait_s", "Mean wait", "dur"),
        Column("p95_wait_s", "95th pct wait", "dur"),
        Column("mean_processing_s", "Mean processing", "dur"),
        Column("wait_share", "Waiting share", "pct"),
        Column("executions", "Passes", "num", "steps"),
    ]
    top = section.rows[0]
    wait = "unknown" if top["mean_wait_s"] is None else fmt_duration(top["mean_wait_s"])
    section.headline = f"Cases wait longest before {top['activity']} (mean {wait})."
    section.chart = row_bars(
        section.rows,
        "activity",
        lambda r: None if r["mean_wait_s"] is None else r["mean_wait_s"] / 60,
        "bottlenecks",
        "Mean wait per step",
        "Mean wait before the step (min)",
    )
    if table_exists(source.conn, loops):
        rework = rows(
            source.conn,
            f"""
            select source, target, loops, executions, rate from {loops}
            where window_end = ?::date
              and window_days = (select min(window_days) from {loops} where window_end = ?::date)
            order by rank limit 5
            """,
            [source.day, source.day],
        )
        section.extra["rework_loops"] = rework
        if rework:
            loop = rework[0]
            section.headline += (
                f" Most frequent rework: {loop['source']} back to {loop['target']} "
                f"({loop['rate'] * 100:.1f}% of passes)."
            )
            section.attention = float(loop["rate"] or 0.0)
    else:
        section.missing.append(f"rework loops: table {loops} not found")
    return section


def crews(source: DaySource) -> Section:
    """Per-operator figures: each shift's crew, output per staffed hour and OEE adjusted for staffing."""
    section = Section("crews", "Shifts and crews", "", figure_class="per_operator")
    table = "marts.fct_shift_comparison"
    if not read_mart(
        section,
        source,
        table,
        f"""
        select shift_name, crew_id, staffed_headcount, cells_completed, output_per_staffed_hour, oee,
               oee_adjusted, crew_oee_adjusted_mean_28d, crew_oee_adjusted_ci_low_28d,
               crew_oee_adjusted_ci_high_28d
        from {table} where production_date = ? order by shift_id
        """,
        [source.day],
        NoRows("No shift figures for this day.", f"crews: no rows for {source.day} in {table}"),
    ):
        return section
    section.columns = [
        Column("shift_name", "Shift"),
        Column("crew_id", "Crew"),
        Column("staffed_headcount", "Headcount", "num", "people"),
        Column("output_per_staffed_hour", "Output per staffed hour", "num1", "cells/h"),
        Column("oee", "OEE", "pct"),
        Column("oee_adjusted", "OEE adjusted", "pct"),
        Column("crew_oee_adjusted_mean_28d", "Crew 28-day mean", "pct"),
        Column("crew_oee_adjusted_ci_low_28d", "95% low", "pct"),
        Column("crew_oee_adjusted_ci_high_28d", "95% high", "pct"),
    ]
    ranked = [r for r in section.rows if r["oee_adjusted"] is not None]
    if ranked:
        low = min(ranked, key=lambda r: r["oee_adjusted"])
        section.headline = (
            f"Lowest staffing-adjusted OEE: the {low['shift_name']} shift of crew {low['crew_id']} "
            f"({low['oee_adjusted'] * 100:.1f}%)."
        )
    else:
        section.headline = "Adjusted OEE not available for this day."
    section.chart = row_bars(
        section.rows,
        lambda r: f"{r['shift_name']} ({r['crew_id']})",
        "oee_adjusted",
        "crews",
        "OEE adjusted per shift",
        "OEE adjusted for staffing and equipment",
        percent=True,
        highlight=None,
    )
    return section


def process_model(source: DaySource) -> Section:
    """The day's discovered process model and its conformance (from process_mining.*)."""
    from markupsafe import Markup

    from orchestration.reporting.pages import model_picture_html

    section = Section("process_model", "Process model of the day", "")
    missing: list[str] = []
    mining = load_process_mining(source.conn, source.day, missing)
    section.missing.extend(missing)
    picture, why_not = model_picture_html(mining)
    section.chart = str(Markup(picture)) if picture else None
    section.extra["picture_missing"] = why_not
    if mining is not None and mining.has_conformance:
        # A figure conformance did not compute is said to be missing, with the reason, never shown as 0 %.
        why = f" ({mining.conformance_note})" if mining.conformance_note else ""
        section.rows = [
            {"figure": "Cases", "value": mining.cases},
            {"figure": "Variants", "value": mining.variants},
            {"figure": "Fitness", "value": _computed(mining.log_fitness, why)},
            {"figure": "Precision", "value": _computed(mining.precision, why)},
        ]
        section.columns = [Column("figure", "Figure"), Column("value", "Value")]
        # "cases", not "batches": the source may be an office or service log, not a factory's.
        section.headline = f"{mining.cases} cases followed {mining.variants} variants of the process."
        if mining.log_fitness is None:
            section.missing.append(f"fitness and precision: not computed{why}")
    else:
        section.headline = why_not or "No conformance figures for this day."
    return section
