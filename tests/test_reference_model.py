"""The reference model the log is checked against: built from the designed route, or supplied by the plant
as PNML or BPMN. A batch that follows the route (with designed rework loops) fits; one that skips a step
does not."""

from __future__ import annotations

import pandas as pd
import pm4py
import pytest
import yaml

from orchestration.mining.reference_model import REFERENCE, designed_route_model, supplied_model
from orchestration.settings import DATA_DIR
from orchestration.simulator import load_scenario

SMALL = DATA_DIR / "scenarios" / "test_small.yaml"


@pytest.fixture(scope="module")
def config():
    return load_scenario(SMALL)


def log_of(*traces: list[str]) -> pd.DataFrame:
    rows = [
        {
            "case:concept:name": f"B{n}",
            "concept:name": step,
            "time:timestamp": pd.Timestamp(2026, 11, 9, 6) + i * pd.Timedelta("1min"),
        }
        for n, trace in enumerate(traces)
        for i, step in enumerate(trace)
    ]
    return pd.DataFrame(rows)


def linear_bpmn(steps: list[str]) -> str:
    nodes = ["start", *[f"task{i}" for i in range(len(steps))], "end"]
    tasks = "".join(f'<task id="task{i}" name="{step}"/>' for i, step in enumerate(steps))
    flows = "".join(
        f'<sequenceFlow id="flow{i}" sourceRef="{a}" targetRef="{b}"/>'
        for i, (a, b) in enumerate(zip(nodes, nodes[1:], strict=False))
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="gf">'
        f'<process id="route" isExecutable="false"><startEvent id="start"/>{tasks}<endEvent id="end"/>{flows}'
        "</process></definitions>"
    )


def fits(model, trace: list[str]) -> bool:
    alignment = pm4py.conformance_diagnostics_alignments(
        log_of(trace), model.net, model.initial_marking, model.final_marking
    )
    return alignment[0]["fitness"] == 1.0


def test_the_designed_route_fits_a_batch_on_route_and_its_designed_rework_but_not_a_skipped_step(config):
    route = list(config.route)
    model = designed_route_model(config)
    assert model.algorithm == REFERENCE
    labels = sorted(t.label for t in model.net.transitions if t.label)
    assert labels == sorted(route) and model.visible_transitions == len(route)
    # one silent loop per step with a rework check: Mixing, Coating, Calendering and Electrolyte Filling
    reworking = [a for a, s in config.route.items() if s.rework.probability > 0]
    assert model.silent_transitions == len(reworking) == 4
    assert fits(model, route)
    coating = route.index("Coating")
    assert fits(model, route[: coating + 1] + ["Coating"] + route[coating + 1 :])  # a failed coating check
    assert not fits(model, [step for step in route if step != "Drying"])
    assert not fits(model, route[: coating + 2] + ["Drying"] + route[coating + 2 :])  # Drying has no rework


def test_rework_on_the_last_step_gets_a_silent_finish(tmp_path):
    path = tmp_path / "grading_rework.yaml"
    path.write_text(
        yaml.safe_dump({"base": str(SMALL), "route": {"Grading": {"rework": {"probability": 0.05}}}})
    )
    config = load_scenario(path)
    model = designed_route_model(config)
    (end,) = model.final_marking
    assert end.name == "finished" and not end.out_arcs  # the final place stays final
    route = list(config.route)
    assert fits(model, route + ["Grading"])  # a regraded batch
    assert fits(model, route)


def test_a_supplied_pnml_or_bpmn_model_is_read_as_the_reference(config, tmp_path):
    designed = designed_route_model(config)
    route = list(config.route)
    pnml = tmp_path / "route.pnml"
    pm4py.write_pnml(designed.net, designed.initial_marking, designed.final_marking, str(pnml))
    bpmn = tmp_path / "route.BPMN"
    bpmn.write_text(linear_bpmn(route))  # as a modelling tool exports it: start, the tasks in order, end
    for path in (pnml, bpmn):
        supplied = supplied_model(path)
        assert supplied.algorithm == REFERENCE and supplied.note == f"reference model supplied as {path.name}"
        assert sorted(t.label for t in supplied.net.transitions if t.label) == sorted(route)
        assert fits(supplied, route), path.suffix
        assert not fits(supplied, route[:-1]), path.suffix  # a batch that never reached Grading

    sketch = tmp_path / "route.png"
    sketch.write_bytes(b"\x89PNG")
    with pytest.raises(ValueError, match=r"route.png: a reference model must be .pnml or .bpmn"):
        supplied_model(sketch)
    assert isinstance(supplied_model(str(pnml)).net, type(designed.net))  # a path given as text
