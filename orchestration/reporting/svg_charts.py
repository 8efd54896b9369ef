"""The role reports' charts written directly as SVG: horizontal bars and KPI sparklines.

A report day draws about thirty of them; matplotlib needs ~0.1-0.3 s each, these need microseconds, and they
stay text (searchable, crisp on a phone, small). Labels are escaped, so a machine name cannot inject markup.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from xml.sax.saxutils import escape, quoteattr

BAR_COLOR, ALERT_COLOR, TARGET_COLOR, MUTED = "#1f5f99", "#c0392b", "#2a9d8f", "#888888"
WARN_COLOR = "#d68910"
FONT = 'font-family="system-ui, sans-serif"'
LABEL_CHAR_PX, VALUE_CHAR_PX = 7.6, 7.0  # widest average advance of a 12 / 11 unit label, digits and capitals
MAX_LABEL_CHARS = 30  # longer labels are shortened (the full one in a tooltip)


def _fit(text: str, chars: int) -> str:
    return text if len(text) <= chars else text[: chars - 1] + "\u2026"


def _number(value: float) -> str:
    return f"{value:.3g}" if abs(value) < 10 else f"{value:,.0f}"


def _label(value: float | None, percent: bool) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value * 100:.1f}%" if percent else _number(value)


def _open(width: float, height: float, title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label={quoteattr(title)} '
        f'viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}" {FONT}>'
        f"<title>{escape(title)}</title>"
    )


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float | None],
    salt: str,
    title: str,
    xlabel: str,
    percent: bool = False,
    highlight: int | None = None,
) -> str | None:
    """Horizontal bars in the given order (first at the top), each with its value; None without bars.
    Negative values (a machine faster than planned) extend left of the zero line."""
    if not labels:
        return None
    numbers = [None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v) for v in values]
    known = [v for v in numbers if v is not None] or [0.0]
    low, high = min(0.0, *known), max(0.0, *known)
    span = (high - low) or 1.0
    # Narrow enough that a phone shows its 12-unit text at about 9 px; labels measured generously (digits and
    # capitals are wider than the average letter), so that none is cut at the chart's edge.
    texts = [_fit(str(label), MAX_LABEL_CHARS) for label in labels]
    label_width = 10 + LABEL_CHAR_PX * max(len(text) for text in texts)
    value_room = 10 + VALUE_CHAR_PX * max(len(_label(v, percent)) for v in numbers)
    width, row = 480.0, 22.0
    plot = width - label_width - value_room
    height = row * len(labels) + 34
    zero = label_width + plot * (0.0 - low) / span
    parts = [_open(width, height, title)]
    parts.append(f'<g id="{escape(salt)}">')
    for index, (label, value) in enumerate(zip(labels, numbers, strict=True)):
        y = 4 + index * row
        shown = texts[index]
        parts.append(
            f'<text x="{label_width - 6:.1f}" y="{y + 14:.1f}" font-size="12" text-anchor="end" '
            f'fill="#1d2430">{"" if shown == str(label) else f"<title>{escape(str(label))}</title>"}'
            f"{escape(shown)}</text>"
        )
        if value is not None:
            x0, x1 = sorted((zero, label_width + plot * (value - low) / span))
            color = ALERT_COLOR if index == highlight else BAR_COLOR
            parts.append(
                f'<rect x="{x0:.1f}" y="{y + 3:.1f}" width="{max(x1 - x0, 0.5):.1f}" height="14" '
                f'fill="{color}"/>'
            )
            text_x = max(x1, zero) + 4
        else:
            text_x = zero + 4
        parts.append(
            f'<text x="{text_x:.1f}" y="{y + 14:.1f}" font-size="11" fill="#5c6675">'
            f"{escape(_label(value, percent))}</text>"
        )
    axis_y = 4 + len(labels) * row
    parts.append(f'<line x1="{zero:.1f}" y1="2" x2="{zero:.1f}" y2="{axis_y:.1f}" stroke="{MUTED}"/>')
    parts.append(
        f'<text x="{label_width + plot / 2:.1f}" y="{axis_y + 20:.1f}" font-size="11" text-anchor="middle" '
        f'fill="#5c6675">{escape(xlabel)}</text>'
    )
    parts.append("</g></svg>")
    return "".join(parts)


def kpi_chart(
    history: Sequence[tuple[date, float | None]],
    target: float | None,
    trailing_mean: float | None,
    salt: str,
    title: str,
    percent: bool = False,
    unit: str = "",
) -> str | None:
    """A sparkline of the trailing days and the day (the last point, marked), with the target (dashed) and
    the trailing mean (dotted); None when no day has a figure. ``unit`` follows the axis figures ("h")."""
    values = [None if v is None or math.isnan(v) else float(v) for _, v in history]
    known = [v for v in values if v is not None]
    if not known:
        return None
    width, height, left, right, top, bottom = 240.0, 72.0, 40.0, 8.0, 6.0, 16.0
    references = [r for r in (target, trailing_mean) if r is not None]
    low, high = min(known + references), max(known + references)
    pad = (high - low) * 0.08 or abs(high) * 0.05 or 1.0
    low, high = low - pad, high + pad

    def x(index: int) -> float:
        return left + (width - left - right) * index / max(len(values) - 1, 1)

    def y(value: float) -> float:
        return top + (height - top - bottom) * (high - value) / (high - low)

    parts = [_open(width, height, title), f'<g id="{escape(salt)}">']
    for reference, dash, color in ((target, "4 3", TARGET_COLOR), (trailing_mean, "1 2", MUTED)):
        if reference is not None:
            parts.append(
                f'<line x1="{left}" x2="{width - right}" y1="{y(reference):.1f}" y2="{y(reference):.1f}" '
                f'stroke="{color}" stroke-dasharray="{dash}"/>'
            )
    runs: list[list[str]] = [[]]
    for index, value in enumerate(values):  # a day without a figure breaks the line
        if value is None:
            runs.append([])
        else:
            runs[-1].append(f"{x(index):.1f},{y(value):.1f}")
    for run in runs:
        if len(run) > 1:
            parts.append(
                f'<polyline points="{" ".join(run)}" fill="none" stroke="{BAR_COLOR}" stroke-width="1.5"/>'
            )
    if values[-1] is not None:
        parts.append(
            f'<circle cx="{x(len(values) - 1):.1f}" cy="{y(values[-1]):.1f}" r="3.2" fill="{ALERT_COLOR}"/>'
        )
    scale = 100.0 if percent else 1.0
    # the highest and the lowest figure, the lowest only where it does not overlap the highest's label
    extremes = [max(known)] + ([min(known)] if y(min(known)) - y(max(known)) >= 10 else [])
    for value in extremes:
        text = f"{value * scale:.1f}%" if percent else _number(value) + (f" {unit}" if unit else "")
        parts.append(
            f'<text x="{left - 4}" y="{y(value) + 3.5:.1f}" font-size="9" text-anchor="end" fill="#5c6675">'
            f"{escape(text)}</text>"
        )
    first, last = history[0][0], history[-1][0]
    parts.append(
        f'<text x="{left}" y="{height - 3}" font-size="9" fill="#5c6675">{first:%d %b}</text>'
        f'<text x="{width - right}" y="{height - 3}" font-size="9" text-anchor="end" fill="#5c6675">'
        f"{last:%d %b}</text></g></svg>"
    )
    return "".join(parts)


def control_chart(
    points: Sequence[tuple[str, float, bool]],
    center: float,
    lcl: float,
    ucl: float,
    mr_ucl: float | None,
    salt: str,
    title: str,
    unit: str,
) -> str | None:
    """An individuals / moving-range (I-MR) chart of one day's points in time order: the individuals with
    their centre line and control limits, the points that set off an alarm marked, and below them the moving
    ranges with their upper limit. ``points`` are (time label, value, flagged); None without points."""
    if not points:
        return None
    values = [value for _, value, _ in points]
    ranges = [abs(b - a) for a, b in zip(values, values[1:], strict=False)]
    width, left, right = 480.0, 58.0, 12.0
    top_i, height_i, top_mr, height_mr = 26.0, 140.0, 194.0, 60.0
    height = top_mr + height_mr + 30
    plot = width - left - right

    def x(index: int) -> float:
        return left + plot * index / max(len(points) - 1, 1)

    def scaler(low: float, high: float, top: float, span: float):
        pad = (high - low) * 0.08 or 1.0
        low, high = low - pad, high + pad
        return lambda value: top + span * (high - value) / (high - low)

    y_i = scaler(min([*values, lcl]), max([*values, ucl]), top_i, height_i)
    y_mr = scaler(0.0, max([*ranges, mr_ucl or 0.0, 1e-9]), top_mr, height_mr)
    parts = [_open(width, height, title), f'<g id="{escape(salt)}">']
    muted = 'font-size="11" fill="#5c6675"'
    parts.append(
        f'<text x="{left}" y="14" font-size="12" font-weight="600" fill="#1d2430">{escape(title)}</text>'
    )
    for value, name, dash in ((ucl, "UCL", "5 3"), (center, "CL", ""), (lcl, "LCL", "5 3")):
        y = y_i(value)
        stroke = ALERT_COLOR if name != "CL" else MUTED
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{stroke}"'
            + (f' stroke-dasharray="{dash}"' if dash else "")
            + "/>"
        )
        parts.append(
            f'<text x="{left - 4}" y="{y + 4:.1f}" {muted} text-anchor="end">{_number(value)}</text>'
        )
    line = " ".join(f"{x(i):.1f},{y_i(v):.1f}" for i, v in enumerate(values))
    parts.append(f'<polyline points="{line}" fill="none" stroke="{BAR_COLOR}" stroke-width="1.2"/>')
    for index, (_, value, flagged) in enumerate(points):
        cx, cy = f"{x(index):.1f}", f"{y_i(value):.1f}"
        if flagged:  # set off the alarm
            parts.append(f'<circle class="alarm" cx="{cx}" cy="{cy}" r="4" fill="{ALERT_COLOR}"/>')
        elif not lcl <= value <= ucl:  # beyond the control limits, yet within what the alarm budget allows
            parts.append(
                f'<circle class="beyond" cx="{cx}" cy="{cy}" r="3.5" fill="#fff" stroke="{WARN_COLOR}" '
                'stroke-width="1.5"/>'
            )
        else:
            parts.append(f'<circle cx="{cx}" cy="{cy}" r="2.2" fill="{BAR_COLOR}"/>')
    parts.append(
        f'<text x="{left}" y="{top_i + height_i + 16:.1f}" {muted}>{escape(unit)}; red: alarm, '
        f"ring: beyond limits</text>"
    )
    if ranges:
        mr_line = " ".join(f"{x(i + 1):.1f},{y_mr(r):.1f}" for i, r in enumerate(ranges))
        parts.append(f'<polyline points="{mr_line}" fill="none" stroke="{BAR_COLOR}" stroke-width="1.2"/>')
    if mr_ucl is not None:
        y = y_mr(mr_ucl)
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{ALERT_COLOR}" '
            'stroke-dasharray="5 3"/>'
            f'<text x="{left - 4}" y="{y + 4:.1f}" {muted} text-anchor="end">{_number(mr_ucl)}</text>'
        )
    parts.append(f'<text x="{left - 4}" y="{y_mr(0.0) + 4:.1f}" {muted} text-anchor="end">0</text>')
    parts.append(
        f'<text x="{left}" y="{height - 4}" {muted}>{escape(points[0][0])}</text>'
        f'<text x="{width / 2:.1f}" y="{height - 4}" {muted} text-anchor="middle">moving range</text>'
        f'<text x="{width - right}" y="{height - 4}" {muted} text-anchor="end">{escape(points[-1][0])}</text>'
    )
    parts.append("</g></svg>")
    return "".join(parts)


def waterfall_chart(
    losses: Sequence[tuple[str, float]], salt: str, title: str, total_label: str
) -> str | None:
    """The time model as a waterfall: planned busy time (100 %) at the top, each loss (a share of it) taken
    off in turn as a floating bar, what remains at the bottom. A negative loss (a machine faster than planned)
    gives time back and is drawn in the target colour. None without losses."""
    if not losses:
        return None
    remaining, steps = 1.0, []
    for label, share in losses:
        steps.append((label, remaining - share, remaining, share))
        remaining -= share
    rows = [("Planned busy time", 0.0, 1.0, 1.0), *steps, (total_label, 0.0, remaining, remaining)]
    texts = [_fit(label, MAX_LABEL_CHARS) for label, *_ in rows]
    label_width = 10 + LABEL_CHAR_PX * max(len(text) for text in texts)
    width, row, value_room = 480.0, 22.0, 10 + VALUE_CHAR_PX * 7
    plot = width - label_width - value_room
    high = max(1.0, *(max(a, b) for _, a, b, _ in rows))
    low = min(0.0, *(min(a, b) for _, a, b, _ in rows))

    def x(share: float) -> float:
        return label_width + plot * (share - low) / (high - low)

    height = row * len(rows) + 34
    parts = [_open(width, height, title), f'<g id="{escape(salt)}">']
    for index, ((label, start, end, share), text) in enumerate(zip(rows, texts, strict=True)):
        y = 4 + index * row
        is_loss = 0 < index < len(rows) - 1
        # a loss takes time off (-), a negative one gives it back (+)
        figure = (("-" if share > 0 else "+") + _label(abs(share), True)) if is_loss else _label(share, True)
        color = (ALERT_COLOR if share >= 0 else TARGET_COLOR) if is_loss else BAR_COLOR
        x0, x1 = sorted((x(start), x(end)))
        parts.append(
            f'<text x="{label_width - 6:.1f}" y="{y + 14:.1f}" font-size="12" text-anchor="end" '
            f'fill="#1d2430">{"" if text == label else f"<title>{escape(label)}</title>"}'
            f"{escape(text)}</text>"
            f'<rect x="{x0:.1f}" y="{y + 3:.1f}" width="{max(x1 - x0, 0.5):.1f}" height="14" fill="{color}"/>'
            f'<text x="{x1 + 4:.1f}" y="{y + 14:.1f}" font-size="11" fill="#5c6675">'
            f"{escape(figure)}</text>"
        )
    axis_y = 4 + len(rows) * row
    parts.append(
        f'<line x1="{x(0):.1f}" y1="2" x2="{x(0):.1f}" y2="{axis_y:.1f}" stroke="{MUTED}"/>'
        f'<text x="{label_width + plot / 2:.1f}" y="{axis_y + 20:.1f}" font-size="11" text-anchor="middle" '
        'fill="#5c6675">Share of planned busy time</text></g></svg>'
    )
    return "".join(parts)
