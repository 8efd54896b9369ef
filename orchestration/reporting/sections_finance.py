"""Finance section (figure class cost): scrap cost, cost per good cell and margin against the trailing
30 days."""

from __future__ import annotations

from orchestration.reporting import svg_charts as charts
from orchestration.reporting.mart_reading import NoRows, mart_not_built
from orchestration.reporting.queries import rows, table_exists
from orchestration.reporting.section import Column, DaySource, Section

FIGURES = {
    "revenue": ("Revenue", "money"),
    "conversion_cost": ("Conversion cost", "money"),
    "material_cost": ("Material cost", "money"),
    "scrap_cost": ("Scrap cost", "money"),
    "cost_per_good_cell": ("Cost per good cell", "money"),
    "margin": ("Margin", "money"),
    "margin_ratio": ("Margin ratio", "pct"),
}


def economics(source: DaySource) -> Section:
    section = Section("economics", "Costs and margin", "", figure_class="cost")
    table = "marts.fct_economics_day"
    if not table_exists(source.conn, table):
        return mart_not_built(section, table)
    columns = ", ".join(
        f"max({k}) filter (where production_date = $day) as {k}, "
        f"avg({k}) filter (where production_date < $day) as {k}_trailing"
        for k in FIGURES
    )
    found = rows(
        source.conn,
        f"select any_value(currency) filter (where production_date = $day) as currency, "
        f"count(*) filter (where production_date = $day) as today, "
        f"count(*) filter (where production_date < $day) as days_before, {columns} from {table} "
        "where production_date between $day::date - 30 and $day::date",
        {"day": source.day},  # type: ignore[arg-type]
    )[0]
    if not found["today"]:
        return NoRows(
            "No cost figures for this day.", f"economics: no row for {source.day} in {table}"
        ).show_in(section)
    currency = found["currency"] or source.currency
    section.rows = [
        {
            "figure": label,
            "value": found[key],
            "trailing": found[f"{key}_trailing"],
            "unit": currency if fmt == "money" else "",
            "fmt": fmt,
        }
        for key, (label, fmt) in FIGURES.items()
    ]
    section.columns = [
        Column("figure", "Figure"),
        Column("value", "Day", "row"),
        Column("trailing", f"Mean of {found['days_before']} days before", "row"),
        Column("unit", "Unit"),
    ]
    section.extra.update({key: found[key] for key in FIGURES} | {"currency": currency})
    trailing_cost = found["cost_per_good_cell_trailing"]
    if found["cost_per_good_cell"] is None:  # no cell completed, or a source without prices and costs
        return NoRows(
            "No cost per good cell for this day.",
            f"economics: no cost per good cell for {source.day} (no cell or no costs)",
        ).show_in(section)
    section.headline = (
        f"Cost per good cell {found['cost_per_good_cell']:.2f} {currency}"
        + (f" (mean of {found['days_before']} days before: {trailing_cost:.2f})" if trailing_cost else "")
        + f"; scrap cost {found['scrap_cost'] or 0:,.0f} {currency}."
    )
    if trailing_cost:
        section.attention = max(0.0, found["cost_per_good_cell"] / trailing_cost - 1.0)
    section.chart = charts.bar_chart(
        ["Conversion", "Material", "Scrap"],
        [found["conversion_cost"], found["material_cost"], found["scrap_cost"]],
        "economics",
        "Cost breakdown",
        f"Cost of the day ({currency})",
        highlight=2,
    )
    return section
