"""Process discovery: the inductive miner (infrequent variant, noise-filtered) and the heuristics miner.

Both accept a pm4py event log as a DataFrame or, cheaper at scale, the variant log of event_log.variant_log
(each variant once, repeated by reference): both miners only look at variants and their frequencies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from orchestration.mining.event_log import ACTIVITY, CASE, TIMESTAMP, usable_events

ALGORITHM = "inductive_miner"
HEURISTICS = "heuristics_miner"


@dataclass(frozen=True)
class DiscoveredModel:
    """A Petri net with its markings and size; ``net`` is None when nothing could be mined."""

    net: Any = field(repr=False)  # pm4py PetriNet | None
    initial_marking: Any = field(repr=False)  # pm4py Marking | None
    final_marking: Any = field(repr=False)  # pm4py Marking | None
    algorithm: str
    noise_threshold: float  # inductive: noise threshold; heuristics: dependency threshold
    cases: int
    events: int
    places: int
    transitions: int  # visible + silent
    silent_transitions: int
    arcs: int
    note: str

    @property
    def visible_transitions(self) -> int:
        return self.transitions - self.silent_transitions

    @property
    def name(self) -> str:
        if self.algorithm == HEURISTICS:
            return f"{self.algorithm}(dependency_threshold={self.noise_threshold:g})"
        if self.algorithm == ALGORITHM:
            return f"{self.algorithm}(noise_threshold={self.noise_threshold:g})"
        return self.algorithm


def describe_net(
    net,
    initial_marking,
    final_marking,
    algorithm: str,
    threshold: float,
    note: str,
    cases: int = 0,
    events: int = 0,
) -> DiscoveredModel:
    silent = sum(1 for transition in net.transitions if transition.label is None)
    return DiscoveredModel(
        net=net,
        initial_marking=initial_marking,
        final_marking=final_marking,
        algorithm=algorithm,
        noise_threshold=threshold,
        cases=cases,
        events=events,
        places=len(net.places),
        transitions=len(net.transitions),
        silent_transitions=silent,
        arcs=len(net.arcs),
        note=note,
    )


def _size(log) -> tuple[Any, int, int]:
    """The log ready for pm4py, its cases and events."""
    if isinstance(log, pd.DataFrame):
        usable = usable_events(log)
        return usable, (int(usable[CASE].nunique()) if len(usable) else 0), len(usable)
    return log, len(log), sum(len(trace) for trace in log)


def discover_process_model(
    event_log, noise_threshold: float = 0.2, algorithm: str = ALGORITHM, dependency_threshold: float = 0.5
) -> DiscoveredModel:
    """Mine the log with ``algorithm``; an empty log gives a model without a net."""
    if not 0.0 <= noise_threshold <= 1.0:
        raise ValueError(f"noise_threshold must be within [0, 1], got {noise_threshold}")
    if algorithm not in (ALGORITHM, HEURISTICS):
        raise ValueError(f"unknown discovery algorithm {algorithm!r}")
    threshold = noise_threshold if algorithm == ALGORITHM else dependency_threshold
    log, cases, events = _size(event_log)
    if cases == 0:
        return DiscoveredModel(
            None, None, None, algorithm, threshold, 0, 0, 0, 0, 0, 0, "no events: nothing to discover"
        )

    import pm4py  # heavy import, deferred until there is something to mine

    keys = {"activity_key": ACTIVITY, "timestamp_key": TIMESTAMP, "case_id_key": CASE}
    if algorithm == ALGORITHM:
        net, initial, final = pm4py.discover_petri_net_inductive(log, noise_threshold=noise_threshold, **keys)
    else:
        net, initial, final = pm4py.discover_petri_net_heuristics(
            log, dependency_threshold=dependency_threshold, **keys
        )
    note = f"discovered from {cases} cases and {events} events"
    return describe_net(net, initial, final, algorithm, threshold, note, cases, events)


def write_pnml(model: DiscoveredModel, path: Path | str) -> Path | None:
    """The model as PNML (the exchange format of Petri-net tools); None when there is no net."""
    if model.net is None:
        return None
    import pm4py

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pm4py.write_pnml(model.net, model.initial_marking, model.final_marking, str(path))
    return path
