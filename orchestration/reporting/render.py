"""Rendering the daily report: a self-contained HTML page (inline CSS and SVG) and its JSON twin.

Both files are written atomically (temporary file + ``os.replace``), so a reader never sees half a report.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import math
import os
import re
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from orchestration.reporting.daily_report import DailyReport, ProcessMiningSummary

TEMPLATES_DIR = Path(__file__).parent / "templates"
TEMPLATE = "daily_report.html.j2"
HTML_NAME = "daily_report.html"
JSON_NAME = "daily_report.json"
NOT_AVAILABLE = "n/a"

_SVG_START = re.compile(r"<svg\b", re.IGNORECASE)
_UNSAFE_SVG = re.compile(r"<script\b|<foreignObject\b|\son\w+\s*=", re.IGNORECASE)


def fmt_percent(value: float | None) -> str:
    """A ratio as a percentage with one decimal ("68.4%"); None (or NaN) as "n/a"."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return NOT_AVAILABLE
    return f"{value * 100:.1f}%"


def fmt_number(value: float | int | None, decimals: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return NOT_AVAILABLE
    return f"{value:,.{decimals}f}"


def fmt_duration(seconds: float | None) -> str:
    """Seconds as "2 h 05 min" / "7 min 30 s" / "12 s"; None as "n/a"."""
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return NOT_AVAILABLE
    total = int(round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pct"] = fmt_percent
    env.filters["num"] = fmt_number
    env.filters["dur"] = fmt_duration
    return env


def _inline_svg(text: str) -> str | None:
    """The ``<svg>`` element of an SVG document (prolog and doctype dropped); None when it is not a plain,
    script-free SVG (the picture is then treated as missing rather than trusted)."""
    match = _SVG_START.search(text)
    if match is None or _UNSAFE_SVG.search(text):
        return None
    return text[match.start() :]


def model_picture_html(mining: ProcessMiningSummary | None) -> tuple[Markup | None, str | None]:
    """(picture markup, None) or (None, a sentence saying why there is no picture)."""
    if mining is None:
        return None, "Process mining is not available for this day, so there is no process model picture."
    if not mining.has_model:
        return None, "No process model was recorded for this day, so there is no picture."
    reasons: list[str] = []
    if mining.picture_svg_path:
        path = Path(mining.picture_svg_path)
        try:
            svg = _inline_svg(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            reasons.append(f"the SVG picture {path} could not be read ({exc.__class__.__name__})")
        else:
            if svg is not None:
                return Markup(svg), None
            reasons.append(f"the SVG picture {path} is not a plain SVG document")
    if mining.picture_png_path:
        path = Path(mining.picture_png_path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            reasons.append(f"the PNG picture {path} could not be read ({exc.__class__.__name__})")
        else:
            encoded = base64.b64encode(data).decode("ascii")
            return Markup(f'<img alt="Discovered process model" src="data:image/png;base64,{encoded}">'), None
    if not reasons:
        reasons.append(mining.model_note or "no picture was rendered")
    return None, "No process model picture: " + "; ".join(reasons) + "."


def _json_default(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _clean(value: Any) -> Any:
    """NaN/inf -> None, recursively, so that the JSON is standard."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _clean(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(item) for item in value]
    return value


def report_json(report: DailyReport, generated_at: datetime) -> dict[str, Any]:
    """The report's figures as JSON-ready data (ratios as fractions in [0, 1], not formatted)."""
    return _clean(
        {
            "production_date": report.production_date.isoformat(),
            "generated_at": generated_at.isoformat().replace("+00:00", "Z"),
            "factory": dataclasses.asdict(report.factory) if report.factory else None,
            "trend": [dataclasses.asdict(point) for point in report.trend],
            "machines": [dataclasses.asdict(machine) for machine in report.machines],
            "process_mining": dataclasses.asdict(report.process_mining) if report.process_mining else None,
            "missing": list(report.missing),
            "not_computable": dict(report.not_computable),
            "held_back": list(report.held_back),
        }
    )


def _write_atomically(target: Path, text: str) -> None:
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def render_daily_report(
    report: DailyReport, out_dir: Path | str, generated_at: datetime | None = None
) -> Path:
    """Write ``out_dir/daily_report.html`` and ``out_dir/daily_report.json``; returns the HTML path."""
    generated = (generated_at or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    from orchestration.reporting.charts import machine_oee_chart, oee_trend_chart  # matplotlib: load late

    picture, picture_missing = model_picture_html(report.process_mining)
    machine_chart = machine_oee_chart(report.machines)
    trend_chart = oee_trend_chart(report.trend)
    html = (
        _environment()
        .get_template(TEMPLATE)
        .render(
            report=report,
            factory=report.factory,
            mining=report.process_mining,
            generated_at=generated.strftime("%Y-%m-%d %H:%M:%S UTC"),
            generated_iso=generated.isoformat().replace("+00:00", "Z"),
            machine_chart=Markup(machine_chart) if machine_chart else None,
            trend_chart=Markup(trend_chart) if trend_chart else None,
            model_picture=picture,
            model_picture_missing=picture_missing,
        )
    )
    html_path = out / HTML_NAME
    _write_atomically(
        out / JSON_NAME, json.dumps(report_json(report, generated), indent=2, default=_json_default)
    )
    _write_atomically(html_path, html)
    return html_path
