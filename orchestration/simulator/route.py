"""The route a batch takes through the plant, the stations that perform each step, and the batch itself."""

from __future__ import annotations

from dataclasses import dataclass, field

from orchestration.simulator.config import FactoryConfig, MachineBehaviour, Step


@dataclass(frozen=True)
class Station:
    """One route step as laid out on the shop floor: its parallel machines share one inbound queue."""

    index: int
    activity: str
    step: Step
    behaviour: MachineBehaviour
    machine_ids: tuple[str, ...]
    rework_to: int  # route index a failed check sends the batch back to


@dataclass
class Batch:
    """The process-mining case: a batch of cells moving through the route."""

    case_id: str
    product_id: str
    good_qty: int
    reworks: int = 0
    queued_s: float = 0.0  # when the batch joined the queue it is in
    done: set[str] = field(default_factory=set)  # activities already performed: a repeat is rework
    # A planted route deviation: station passed -> the station it sends the batch to instead, used once.
    detour: dict[int, int] = field(default_factory=dict)

    def next_station(self, passed: int) -> int:
        """The station after a passed check: the next one on the route unless a detour says otherwise."""
        return self.detour.pop(passed, passed + 1)


def lay_out(config: FactoryConfig) -> list[Station]:
    order = list(config.route)
    stations = []
    for index, (activity, step) in enumerate(config.route.items()):
        stations.append(
            Station(
                index=index,
                activity=activity,
                step=step,
                behaviour=config.behaviour(activity),
                machine_ids=config.machine_ids(activity),
                rework_to=order.index(step.rework.to) if step.rework.to else index,
            )
        )
    return stations
