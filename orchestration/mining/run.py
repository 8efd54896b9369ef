"""One factory day's process mining end to end, minus the warehouse write: discover, replay, draw."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import pandas as pd

from orchestration.factory_calendar import as_date
from orchestration.mining.conformance import DEFAULT_MAX_VARIANTS, ConformanceResult, check_conformance
from orchestration.mining.discovery import DiscoveredModel, discover_process_model
from orchestration.mining.event_log import complete_cases
from orchestration.mining.model_picture import ModelPicture, render_model_picture
from orchestration.mining.results import to_rows


@dataclass(frozen=True)
class MiningRun:
    model: DiscoveredModel
    conformance: ConformanceResult
    picture: ModelPicture
    rows: dict[str, pd.DataFrame]  # ready for write_results


def mine_event_log(
    event_log: pd.DataFrame,
    production_date: date | str,
    picture_dir: Path | str,
    noise_threshold: float = 0.2,
    max_variants: int = DEFAULT_MAX_VARIANTS,
) -> MiningRun:
    """Discover the model of the day's complete cases, check them against it and draw it as
    ``picture_dir/process_model_<day>.{svg,png}``."""
    day = as_date(production_date)
    event_log, left_out = complete_cases(event_log)
    model = discover_process_model(event_log, noise_threshold=noise_threshold)
    conformance = check_conformance(event_log, model, max_variants=max_variants)
    if left_out:
        model = replace(model, note="; ".join(filter(None, [left_out, model.note])))
    picture = render_model_picture(model, picture_dir, f"process_model_{day.isoformat()}")
    return MiningRun(model, conformance, picture, to_rows(day, model, conformance, picture))
