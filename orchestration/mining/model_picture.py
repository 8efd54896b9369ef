"""A picture of the discovered Petri net, rendered with whichever Graphviz is at hand.

pm4py builds the Graphviz source (no binary needed for that); this module renders it itself: a ``dot`` on
PATH if there is one, else ``graphviz-pure`` (next to the running interpreter first, then on PATH). When no
renderer works the picture is simply absent and the note says why: nothing here raises.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from orchestration.atomic_files import replacing
from orchestration.mining.discovery import DiscoveredModel

RENDER_TIMEOUT_S = 60
FORMATS = ("svg", "png")


@dataclass(frozen=True)
class ModelPicture:
    svg_path: Path | None
    png_path: Path | None
    renderer: str | None  # the executable that rendered the picture
    note: str


def find_renderers() -> list[str]:
    """Graphviz executables to try, best first: ``dot`` on PATH, then ``graphviz-pure``."""
    candidates: list[str] = []
    dot = shutil.which("dot")
    if dot:
        candidates.append(dot)
    beside_python = Path(sys.executable).parent / "graphviz-pure"
    if beside_python.is_file() and os.access(beside_python, os.X_OK):
        candidates.append(str(beside_python))
    on_path = shutil.which("graphviz-pure")
    if on_path and on_path not in candidates:
        candidates.append(on_path)
    return candidates


def model_dot_source(model: DiscoveredModel) -> str:
    """Graphviz source of the model's Petri net, from pm4py's visualizer (which needs no dot binary)."""
    from pm4py.visualization.petri_net import visualizer

    graph = visualizer.apply(model.net, model.initial_marking, model.final_marking)
    return graph.source


def _render_one(renderer: str, source: str, fmt: str, target: Path) -> None:
    """Render ``source`` to ``target`` atomically; raises on any failure (the caller decides)."""
    with replacing(target) as tmp:
        completed = subprocess.run(
            [renderer, f"-T{fmt}", "-o", str(tmp)],
            input=source.encode("utf-8"),
            capture_output=True,
            timeout=RENDER_TIMEOUT_S,
            check=False,
        )
        if completed.returncode != 0 or tmp.stat().st_size == 0:
            message = completed.stderr.decode("utf-8", "replace").strip().splitlines()
            raise RuntimeError(f"exit {completed.returncode}: {message[-1] if message else 'empty output'}")


def render_model_picture(model: DiscoveredModel, out_dir: Path | str, stem: str) -> ModelPicture:
    """Write ``out_dir/stem.svg`` and ``out_dir/stem.png``; paths are None when they could not be made."""
    if model.net is None:
        return ModelPicture(None, None, None, f"no picture: no model ({model.note})")
    try:
        source = model_dot_source(model)
    except Exception as exc:  # a picture is never worth failing the run
        return ModelPicture(None, None, None, f"no picture: pm4py could not build the graph ({exc})")
    return render_dot(source, out_dir, stem)


def process_map_dot_source(dfg, start_activities, end_activities, performance: bool) -> str:
    """Graphviz source of the directly-follows graph: edge counts, or mean waiting times (``dfg`` values)."""
    from pm4py.visualization.dfg import visualizer

    variant = visualizer.Variants.PERFORMANCE if performance else visualizer.Variants.FREQUENCY
    parameters = {"start_activities": start_activities, "end_activities": end_activities}
    return visualizer.apply(dfg, variant=variant, parameters=parameters).source


def render_dot(
    source: str, out_dir: Path | str, stem: str, formats: tuple[str, ...] = FORMATS
) -> ModelPicture:
    """Render Graphviz ``source`` as ``out_dir/stem.<format>``; never raises, the note says what failed."""
    renderers = find_renderers()
    if not renderers:
        return ModelPicture(None, None, None, "no picture: no Graphviz renderer (dot or graphviz-pure) found")

    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return ModelPicture(None, None, None, f"no picture: cannot create {out} ({exc})")
    failures: list[str] = []
    for renderer in renderers:
        paths: dict[str, Path] = {}
        errors: list[str] = []
        for fmt in formats:
            target = out / f"{stem}.{fmt}"
            try:
                _render_one(renderer, source, fmt, target)
                paths[fmt] = target
            except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
                errors.append(f"{Path(renderer).name} -T{fmt}: {exc}")
        if paths:
            missing = [fmt for fmt in formats if fmt not in paths]
            note = f"rendered with {Path(renderer).name}"
            if missing:
                note += f"; {', '.join(missing)} failed ({'; '.join(errors)})"
            return ModelPicture(paths.get("svg"), paths.get("png"), Path(renderer).name, note)
        failures.extend(errors)
    return ModelPicture(None, None, None, "no picture: every renderer failed (" + "; ".join(failures) + ")")
