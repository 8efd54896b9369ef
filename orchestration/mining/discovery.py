"""Process discovery: the inductive miner (infrequent variant, noise-filtered) on a day's event log."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from orchestration.mining.event_log import ACTIVITY, CASE, TIMESTAMP, usable_events

ALGORITHM = "inductive_miner"


@dataclass(frozen=True)
class DiscoveredModel:
    """A discovered Petri net with its markings and size; ``net`` is None when nothing could be mined."""

    net: Any = field(repr=False)  # pm4py PetriNet | None
    initial_marking: Any = field(repr=False)  # pm4py Marking | None
    final_marking: Any = field(repr=False)  # pm4py Marking | None
    algorithm: str
    noise_threshold: float
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
        return f"{self.algorithm}(noise_threshold={self.noise_threshold:g})"


def discover_process_model(event_log: pd.DataFrame, noise_threshold: float = 0.2) -> DiscoveredModel:
    """Inductive miner with ``noise_threshold`` on the log; an empty log gives a model without a net."""
    if not 0.0 <= noise_threshold <= 1.0:
        raise ValueError(f"noise_threshold must be within [0, 1], got {noise_threshold}")
    log = usable_events(event_log)
    cases = int(log[CASE].nunique()) if len(log) else 0
    if cases == 0:
        return DiscoveredModel(
            net=None,
            initial_marking=None,
            final_marking=None,
            algorithm=ALGORITHM,
            noise_threshold=noise_threshold,
            cases=0,
            events=0,
            places=0,
            transitions=0,
            silent_transitions=0,
            arcs=0,
            note="no events: nothing to discover",
        )

    import pm4py  # heavy import, deferred until there is something to mine

    net, initial_marking, final_marking = pm4py.discover_petri_net_inductive(
        log,
        noise_threshold=noise_threshold,
        activity_key=ACTIVITY,
        timestamp_key=TIMESTAMP,
        case_id_key=CASE,
    )
    silent = sum(1 for transition in net.transitions if transition.label is None)
    return DiscoveredModel(
        net=net,
        initial_marking=initial_marking,
        final_marking=final_marking,
        algorithm=ALGORITHM,
        noise_threshold=noise_threshold,
        cases=cases,
        events=len(log),
        places=len(net.places),
        transitions=len(net.transitions),
        silent_transitions=silent,
        arcs=len(net.arcs),
        note=f"discovered from {cases} cases and {len(log)} events",
    )
