"""The reference model: the route the plant was designed to run, as a Petri net to check the log against.

For the simulated plant it is built from the factory configuration: the route steps in order, and for every
step with a rework check a silent loop back to the step its failed batches return to (designed rework is not
a deviation). For real data it is supplied as PNML or BPMN.
"""

from __future__ import annotations

from pathlib import Path

from orchestration.mining.discovery import DiscoveredModel, describe_net
from orchestration.simulator.config import FactoryConfig

REFERENCE = "reference_route"


def _has_rework_check(step) -> bool:
    return step.rework.probability > 0 or any(
        c.on_out_of_spec == "rework" for c in step.characteristics.values()
    )


def designed_route_model(config: FactoryConfig) -> DiscoveredModel:
    """The designed route of ``config`` as a sound workflow net."""
    from pm4py.objects.petri_net.obj import Marking, PetriNet
    from pm4py.objects.petri_net.utils.petri_utils import add_arc_from_to

    order = list(config.route)
    net = PetriNet("designed route")
    places = [PetriNet.Place(f"before_{i}") for i in range(len(order) + 1)]
    for place in places:
        net.places.add(place)

    def transition(name: str, label: str | None, source, target) -> None:
        t = PetriNet.Transition(name, label)
        net.transitions.add(t)
        add_arc_from_to(source, t, net)
        add_arc_from_to(t, target, net)

    for index, activity in enumerate(order):
        transition(f"step_{index}", activity, places[index], places[index + 1])
    for index, step in enumerate(config.route.values()):
        if _has_rework_check(step):
            back_to = order.index(step.rework.to) if step.rework.to else index
            transition(f"rework_{index}", None, places[index + 1], places[back_to])
    end = places[-1]
    if end.out_arcs:
        # The last step loops: a silent finish keeps the final place without outgoing arcs.
        sink = PetriNet.Place("finished")
        net.places.add(sink)
        transition("finish", None, end, sink)
        end = sink
    note = "designed route of the factory configuration"
    return describe_net(net, Marking({places[0]: 1}), Marking({end: 1}), REFERENCE, 0.0, note)


def supplied_model(path: Path | str) -> DiscoveredModel:
    """A reference model supplied by the plant: a PNML Petri net or a BPMN diagram."""
    import pm4py

    path = Path(path)
    if path.suffix.lower() == ".bpmn":
        net, initial, final = pm4py.convert_to_petri_net(pm4py.read_bpmn(str(path)))
    elif path.suffix.lower() == ".pnml":
        net, initial, final = pm4py.read_pnml(str(path))
    else:
        raise ValueError(f"{path}: a reference model must be .pnml or .bpmn")
    return describe_net(net, initial, final, REFERENCE, 0.0, f"reference model supplied as {path.name}")
