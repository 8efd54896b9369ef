"""Each role's daily report and each shift's handover, composed from sections and written to the report shelf:

    <reports>/<day>/daily/<role>.html + .json
    <reports>/<day>/handover/<shift>.html + .json

A section or KPI of a figure class the role may not see is dropped before anything is rendered, so neither
the HTML nor the JSON twin of that role can contain it. Files are written atomically.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup

from orchestration.factory_calendar import FactoryCalendar, as_date
from orchestration.reporting.actions import HEALTHY, day_actions, role_actions
from orchestration.reporting.kpi_board import KpiStatus, kpi_board
from orchestration.reporting.pages import environment, fmt_duration, fmt_number, fmt_percent, write_page
from orchestration.reporting.queries import rows, table_exists
from orchestration.reporting.roles import KpiTarget, ReportingConfig, Role, load_reporting_config
from orchestration.reporting.section import Column, DaySource, Section
from orchestration.reporting.section_catalogue import SECTION_BUILDERS, SECTION_CLASSES, build_section
from orchestration.reporting.sections_data_quality import blocking_failures

DAILY_DIR, HANDOVER_DIR = "daily", "handover"
MAX_ROWS = 20  # per section table in HTML; the JSON twin has them all


@dataclass(frozen=True)
class RenderedReport:
    html: Path
    json: Path
    complete: bool
    missing: list[str] = field(default_factory=list)


def _format(value: Any, fmt: str, timezone: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if fmt == "pct":
        return fmt_percent(float(value))
    if fmt == "pts":  # rounded first, so that a change too small to show reads 0.0, never -0.0
        points = round(float(value) * 100, 1)
        return f"{points + 0.0:+.1f} pts" if points else "0.0 pts"
    if fmt in ("num", "num1", "num3"):
        return fmt_number(value, {"num": 0, "num1": 1, "num3": 3}[fmt])
    if fmt == "p":
        return "< 0.001" if value < 0.001 else f"{value:.3f}"
    if fmt == "money":
        return fmt_number(value, 2)
    if fmt == "dur":  # a change can be negative: sign, then the duration
        return ("-" if value < 0 else "") + fmt_duration(abs(float(value)))
    if fmt == "ts" and isinstance(value, datetime):
        return value.astimezone(ZoneInfo(timezone)).strftime("%d %b %H:%M")
    return str(value)


# What a count KPI counts, for its tile ("79,620 cells"); another count reads as its label's noun.
COUNTED = {"cells_completed": "cells", "breakdowns": "breakdowns", "sensor_anomalies": "alarms"}
COUNTED["spc_violations"] = "alarms"


def kpi_unit(kpi: KpiTarget, currency: str) -> str:
    """The unit a KPI's tile shows its figures in."""
    return {"ratio": "%", "seconds": "h/min", "money": currency}.get(
        kpi.unit, COUNTED.get(kpi.name, kpi.label.lower())
    )


def _kpi_value(value: float | None, kpi: KpiTarget, currency: str = "EUR") -> str:
    """A KPI's figure with its unit: "72.8%", "79,620 cells", "3 h 11 min", "18.60 EUR"."""
    unit_format = {"ratio": "pct", "count": "num", "seconds": "dur", "money": "money"}[kpi.unit]
    text = _format(value, unit_format, "UTC")
    if value is None or kpi.unit in ("ratio", "seconds"):
        return text  # the unit is in the figure (or there is no figure)
    unit = kpi_unit(kpi, currency)
    if kpi.unit == "count" and value == 1 and unit.endswith("s"):
        unit = unit[:-1]  # "1 alarm", "1 breakdown"
    return f"{text} {unit}"


@cache
def _environment_for(timezone: str):
    env = environment()

    def cell(row: dict, column: Column) -> str:
        fmt = row.get("fmt", "text") if column.fmt == "row" else column.fmt
        return _format(row.get(column.key), fmt, timezone)

    def wraps(section: Section, column: Column) -> bool:
        """A text column with sentences in it wraps (a phrase per line), short names stay on one line."""
        return column.fmt == "text" and any(len(str(row.get(column.key) or "")) > 32 for row in section.rows)

    env.globals.update(cell=cell, kpi_value=_kpi_value, max_rows=MAX_ROWS, wraps=wraps)
    return env


def _stamp(generated_at: datetime | None) -> datetime:
    return (generated_at or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)


def _kpi_json(status: KpiStatus, currency: str) -> dict[str, Any]:
    return {
        "kpi": status.kpi.name,
        "label": status.kpi.label,
        "unit": status.kpi.unit,
        "unit_text": kpi_unit(status.kpi, currency),
        "better": status.kpi.better,
        "value": status.value,
        "value_text": _kpi_value(status.value, status.kpi, currency),
        "target": status.target,
        "trailing_30d_mean": status.trailing_mean,
        "trailing_days": status.trailing_days,
        "deviation": status.deviation,
        "change": status.change,
        "noise_limits": status.noise_limits,
        "worse": status.worse,
        "verdict": status.verdict,
        "comparison": status.comparison,
    }


def _kpi_chart(source: DaySource, status: KpiStatus) -> str | None:
    key = f"kpi-chart:{status.kpi.name}"
    if key not in source.cache:
        from orchestration.reporting.svg_charts import kpi_chart

        # durations are charted in hours: seconds make unreadable axes
        scale = 1 / 3600 if status.kpi.unit == "seconds" else 1.0

        def scaled(value: float | None) -> float | None:
            return None if value is None else value * scale

        # from the first day with a figure: a young plant's empty month would squash its days to the right
        known = [index for index, (_, value) in enumerate(status.history) if value is not None]
        history = status.history[known[0] :] if known else status.history
        source.cache[key] = kpi_chart(
            [(day, scaled(value)) for day, value in history],
            scaled(status.target),
            scaled(status.trailing_mean),
            f"kpi-{status.kpi.name}",
            status.kpi.label + (" (h)" if status.kpi.unit == "seconds" else ""),
            percent=status.kpi.unit == "ratio",
            unit="h" if status.kpi.unit == "seconds" else "",
        )
    return source.cache[key]


def day_currency(source: DaySource) -> str:
    """The currency the day's cost figures are in (the economics mart's), else the source's default."""
    if "currency" not in source.cache:
        currency = None
        if table_exists(source.conn, "marts.fct_economics_day"):
            found = rows(
                source.conn,
                "select any_value(currency) as currency from marts.fct_economics_day "
                "where production_date = ?",
                [source.day],
            )
            currency = found[0]["currency"] if found else None
        source.cache["currency"] = currency or source.currency
    return source.cache["currency"]


def role_sections(source: DaySource, role: Role) -> list[Section]:
    """The role's visible sections, the largest deviation first (config order among equals)."""
    visible = [name for name in role.sections if role.sees(SECTION_CLASSES.get(name))]
    sections = [build_section(name, source) for name in visible]
    leaked = [s.key for s in sections if not role.sees(s.figure_class)]
    if leaked:  # a builder's class disagrees with SECTION_CLASSES: refuse rather than leak
        raise ValueError(f"sections {leaked} are of a figure class role {role.name} may not see")
    return sorted(sections, key=lambda s: -s.attention)


def compose_daily_report(
    source: DaySource,
    role: Role,
    config: ReportingConfig,
    generated_at: datetime,
    quality_page: str | None,
) -> tuple[str, dict[str, Any], list[str]]:
    """(HTML, JSON payload, missing) of one role's daily report."""
    missing = list(blocking_failures(source))
    targets = [config.targets[k] for k in role.kpis if role.sees(config.targets[k].figure_class)]
    board = kpi_board(source.conn, source.day, targets, missing)
    sections = role_sections(source, role)
    for section in sections:
        missing.extend(item for item in section.missing if item not in missing)
    currency = day_currency(source)
    mttr = config.targets.get("mttr")
    actions = role_actions(day_actions(source, mttr.target if mttr else None), role.name)
    complete = not missing
    html = (
        _environment_for(source.timezone)
        .get_template("role_report.html.j2")
        .render(
            role=role,
            day=source.day.isoformat(),
            complete=complete,
            missing=missing,
            actions=actions,
            healthy=HEALTHY,
            shown={s.key for s in sections},
            board=board,
            currency=currency,
            kpi_charts={s.kpi.name: Markup(_kpi_chart(source, s) or "") for s in board},
            sections=sections,
            quality_page=quality_page,
            generated_at=generated_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
            generated_iso=generated_at.isoformat().replace("+00:00", "Z"),
        )
    )
    payload = {
        "report": "daily",
        "role": role.name,
        "title": role.title,
        "production_date": source.day.isoformat(),
        "generated_at": generated_at.isoformat().replace("+00:00", "Z"),
        "complete": complete,
        "missing": missing,
        "actions": [a.as_json() for a in actions],
        "kpis": [_kpi_json(s, currency) for s in board],
        "sections": [s.as_json() for s in sections],
    }
    return html, payload, missing


def day_source(
    conn,
    day: date | str,
    reports_dir: Path | str,
    *,
    timezone: str,
    rca_state: Path | None = None,
    blocked_checks: tuple[str, ...] = (),
) -> DaySource:
    """What every section of a day reads: the warehouse, the day, the factory's timezone (for display) and the
    state file of the RCA cases (None: the reports show no cases)."""
    production_date = as_date(day)
    return DaySource(
        conn=conn,
        day=production_date,
        reports_day_dir=Path(reports_dir) / production_date.isoformat(),
        rca_state=rca_state,
        blocked_checks=tuple(blocked_checks),
        timezone=timezone,
    )


def render_daily_reports(
    conn,
    day: date | str,
    reports_dir: Path | str,
    roles: list[str] | None = None,
    *,
    calendar: FactoryCalendar,
    config: ReportingConfig | None = None,
    rca_state: Path | None = None,
    blocked_checks: tuple[str, ...] | list[str] = (),
    generated_at: datetime | None = None,
    source: DaySource | None = None,
    file_group: str | None = None,
) -> dict[str, RenderedReport]:
    """Write ``<reports_dir>/<day>/daily/<role>.html|.json`` for each role (all configured roles by default);
    each section is read from the warehouse once and shared by the roles that show it. The files are 0640,
    their folders 0750, in ``file_group`` when given (the plant's settings.file_group)."""
    config = config or load_reporting_config(sections=frozenset(SECTION_BUILDERS))
    names = list(roles) if roles is not None else list(config.roles)
    unknown = [name for name in names if name not in config.roles]
    if unknown:
        raise ValueError(f"unknown roles {unknown}; configured: {sorted(config.roles)}")
    source = source or day_source(
        conn,
        day,
        reports_dir,
        timezone=calendar.timezone,
        rca_state=rca_state,
        blocked_checks=tuple(blocked_checks),
    )
    stamp = _stamp(generated_at)
    out_dir = Path(reports_dir) / source.day.isoformat() / DAILY_DIR
    day_dir = Path(reports_dir) / source.day.isoformat()
    # the day's data-quality page, relative to daily/: it shows no cost nor crew figures
    quality_link = "../quality/index.html" if (day_dir / "quality" / "index.html").exists() else None
    rendered = {}
    for name in names:
        html, payload, missing = compose_daily_report(source, config.roles[name], config, stamp, quality_link)
        html_path, json_path = write_page(out_dir, name, html, payload, file_group)
        rendered[name] = RenderedReport(html_path, json_path, complete=not missing, missing=missing)
    return rendered


def published_daily_reports(reports_dir: Path | str, day: date | str) -> dict[str, RenderedReport]:
    """The role reports rendered for ``day``, read back from ``<reports_dir>/<day>/daily/``: what the
    report asset published, INCOMPLETE marks included, so that distribution sends exactly that."""
    out_dir = Path(reports_dir) / as_date(day).isoformat() / DAILY_DIR
    published = {}
    for json_path in sorted(out_dir.glob("*.json")):
        html_path = json_path.with_suffix(".html")
        if html_path.is_file():
            payload = json.loads(json_path.read_text(encoding="utf-8"))
            missing = list(payload.get("missing", []))
            published[json_path.stem] = RenderedReport(html_path, json_path, not missing, missing)
    return published


def render_shift_handover(
    conn,
    day: date | str,
    shift_name: str,
    reports_dir: Path | str,
    *,
    calendar: FactoryCalendar,
    config: ReportingConfig | None = None,
    generated_at: datetime | None = None,
    source: DaySource | None = None,
    file_group: str | None = None,
) -> RenderedReport:
    """Write ``<reports_dir>/<day>/handover/<shift>.html|.json``: the shift's open issues, machines down or
    degraded, WIP and queues, and what the next shift should watch."""
    from orchestration.reporting.handover import load_handover

    config = config or load_reporting_config(sections=frozenset(SECTION_BUILDERS))
    source = source or day_source(conn, day, reports_dir, timezone=calendar.timezone)
    handover = load_handover(source, shift_name, calendar, config)
    stamp = _stamp(generated_at)
    zone = ZoneInfo(calendar.timezone)
    window = (
        f"{handover.start.astimezone(zone):%a %d %b %H:%M} to {handover.end.astimezone(zone):%a %d %b %H:%M} "
        f"({calendar.timezone})"
    )
    complete = not handover.missing
    html = (
        _environment_for(calendar.timezone)
        .get_template("shift_handover.html.j2")
        .render(
            day=handover.day.isoformat(),
            shift=shift_name,
            window=window,
            complete=complete,
            missing=handover.missing,
            watch=handover.watch,
            sections=handover.sections,
            generated_at=stamp.strftime("%Y-%m-%d %H:%M:%S UTC"),
            generated_iso=stamp.isoformat().replace("+00:00", "Z"),
        )
    )
    payload = {
        "report": "shift_handover",
        "production_date": handover.day.isoformat(),
        "shift": shift_name,
        "start": handover.start,
        "end": handover.end,
        "generated_at": stamp.isoformat().replace("+00:00", "Z"),
        "complete": complete,
        "missing": handover.missing,
        "watch": handover.watch,
        "sections": [s.as_json() for s in handover.sections],
    }
    out_dir = Path(reports_dir) / handover.day.isoformat() / HANDOVER_DIR
    html_path, json_path = write_page(out_dir, shift_name, html, payload, file_group)
    return RenderedReport(html_path, json_path, complete=complete, missing=list(handover.missing))
