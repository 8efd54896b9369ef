"""The report's charts as inline SVG strings, drawn headless with matplotlib (Agg backend, no pyplot state).

Text stays text in the SVG (``svg.fonttype = none``), which keeps charts small, crisp and searchable; each
chart gets its own hash salt so that element ids are deterministic and do not collide inside one page.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")  # headless, whatever the environment says

from matplotlib.figure import Figure  # noqa: E402  (after the backend choice)
from matplotlib.ticker import PercentFormatter  # noqa: E402

from orchestration.reporting.daily_report import MachineOee, TrendPoint  # noqa: E402

OEE_COLOR = "#1f5f99"
COMPONENT_COLORS = {"Availability": "#e07b00", "Effectiveness": "#2a9d8f", "Quality": "#8e44ad"}
WORLD_CLASS_OEE = 0.85

_PROLOG = re.compile(r"^.*?(?=<svg\b)", re.DOTALL)
_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.DOTALL)


def _svg(figure: Figure, salt: str, title: str) -> str:
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": salt}):
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None, "Title": title})
    text = _PROLOG.sub("", buffer.getvalue(), count=1)  # drop <?xml ...>, DOCTYPE and comments
    text = _METADATA.sub("", text, count=1)  # RDF metadata: noise inside an HTML page
    return text.replace("<svg ", f'<svg role="img" aria-label="{title}" ', 1)


def _percent(value: float | None) -> float:
    return float("nan") if value is None else value * 100.0


def machine_oee_chart(machines: Sequence[MachineOee]) -> str | None:
    """Horizontal OEE bars per machine (worst at the top) with availability, effectiveness and quality
    as markers; None without machines."""
    if not machines:
        return None
    labels = [machine.machine_id for machine in machines]
    positions = list(range(len(machines)))
    figure = Figure(figsize=(7.5, 1.2 + 0.32 * len(machines)))
    axes = figure.add_subplot()
    axes.barh(positions, [_percent(m.oee) for m in machines], color=OEE_COLOR, height=0.6, label="OEE")
    for (name, color), attribute, marker in zip(
        COMPONENT_COLORS.items(),
        ("availability", "effectiveness", "quality_ratio"),
        ("o", "D", "s"),
        strict=True,
    ):
        axes.scatter(
            [_percent(getattr(m, attribute)) for m in machines],
            positions,
            color=color,
            marker=marker,
            s=18,
            zorder=3,
            label=name,
        )
    axes.axvline(WORLD_CLASS_OEE * 100, color="#888888", linestyle="--", linewidth=0.8)
    axes.set_yticks(positions, labels)
    axes.invert_yaxis()  # worst first, at the top
    axes.set_xlim(0, 105)
    axes.xaxis.set_major_formatter(PercentFormatter(decimals=0))
    axes.set_xlabel("OEE per machine (bars); A, E, Q (markers); dashed: 85 %")
    axes.grid(axis="x", color="#dddddd", linewidth=0.6)
    axes.set_axisbelow(True)
    axes.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=4, frameon=False, fontsize=8)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    return _svg(figure, "oee-machines", "OEE per machine")


def oee_trend_chart(trend: Sequence[TrendPoint]) -> str | None:
    """Factory OEE over the trailing days (gaps where a day has no figure); None when no day has one."""
    if not trend or all(point.oee is None for point in trend):
        return None
    figure = Figure(figsize=(7.5, 2.6))
    axes = figure.add_subplot()
    positions = list(range(len(trend)))
    values = [_percent(point.oee) for point in trend]
    axes.plot(positions, values, color=OEE_COLOR, marker="o", linewidth=1.8)
    for x, y in zip(positions, values, strict=True):
        if y == y:  # not NaN
            axes.annotate(
                f"{y:.1f}%", (x, y), textcoords="offset points", xytext=(0, 7), ha="center", fontsize=8
            )
    axes.axhline(WORLD_CLASS_OEE * 100, color="#888888", linestyle="--", linewidth=0.8)
    axes.set_xticks(positions, [point.production_date.strftime("%a %d %b") for point in trend], fontsize=8)
    axes.set_ylim(0, 105)
    axes.yaxis.set_major_formatter(PercentFormatter(decimals=0))
    axes.set_ylabel("Factory OEE")
    axes.grid(axis="y", color="#dddddd", linewidth=0.6)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    return _svg(figure, "oee-trend", "Factory OEE, trailing days")
