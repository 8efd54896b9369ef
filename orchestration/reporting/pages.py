"""What every report page shares: the Jinja environment and its value formats, the JSON twin's encoding, the
process model picture inlined, and the atomic write (a reader never sees half a page)."""

from __future__ import annotations

import base64
import json
import math
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from orchestration.atomic_files import RESTRICTED, restricted_folder, write_atomically
from orchestration.reporting.day_figures import ProcessMiningSummary

TEMPLATES_DIR = Path(__file__).parent / "templates"
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


def environment() -> Environment:
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


def json_default(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def clean(value: Any) -> Any:
    """NaN/inf -> None, recursively, so that the JSON is standard."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: clean(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [clean(item) for item in value]
    return value


def write_page(
    out_dir: Path, name: str, html: str, payload: dict[str, Any], group: str | None = None
) -> tuple[Path, Path]:
    """``<out_dir>/<name>.html`` and its JSON twin ``<name>.json``, each replaced atomically. Role reports
    and handovers carry costs and crew figures: readable by the owner and ``group`` only, as are ``out_dir``
    and the day's folder above it."""
    restricted_folder(out_dir, levels=2, group=group)
    html_path, json_path = out_dir / f"{name}.html", out_dir / f"{name}.json"
    text = json.dumps(clean(payload), indent=2, default=json_default)
    write_atomically(json_path, text, mode=RESTRICTED, group=group)
    write_atomically(html_path, html, mode=RESTRICTED, group=group)
    return html_path, json_path
