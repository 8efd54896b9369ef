"""A scenario that contradicts itself is refused on loading, with the file and the field in one message.

Each case layers one mistake over the test plant (which is itself layered over data/factory.yaml); the plant
it breaks is otherwise valid, so the message can only come from that one mistake.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from orchestration.settings import DATA_DIR
from orchestration.simulator import load_scenario

SMALL = DATA_DIR / "scenarios" / "test_small.yaml"


def scenario(tmp_path: Path, overrides: dict, name: str = "broken.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump({"base": str(SMALL), **overrides}))
    return path


def test_the_layered_test_plant_itself_loads(tmp_path):
    config = load_scenario(scenario(tmp_path, {}, name="fine.yaml"))
    assert config.timezone == "Europe/Berlin" and "Coating" in config.route


@pytest.mark.parametrize(
    ("overrides", "said"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, "timezone: unknown timezone 'Mars/Olympus_Mons'"),
        (
            {"route": {"Mixing": {"room_id": "ROOM-NOWHERE"}}},
            "route.Mixing.room_id 'ROOM-NOWHERE' is not one of",
        ),
        (
            {"route": {"Coating": {"rework": {"to": "Formation"}}}},
            "route.Coating.rework.to must name this or an earlier step",
        ),
        (
            {"effects": {"bad_shift": {"room": "ROOM-CELLAR"}}},
            "effects.bad_shift.room 'ROOM-CELLAR' is not one of",
        ),
        (
            {"effects": {"bad_shift": {"shift": "graveyard"}}},
            "effects.bad_shift.shift 'graveyard' is not one of",
        ),
        (
            {"effects": {"degradation": {"machine": "CAL-99"}}},
            "effects.degradation.machine 'CAL-99' is not a machine of this plant",
        ),
        (
            {"effects": {"degradation": {"sensor": "smell"}}},
            "effects.degradation.sensor 'smell' is not a sensor of Calendering",
        ),
        (
            {"effects": {"route_deviations": {"share": 0.1, "steps": ["Mixing"]}}},
            "effects.route_deviations.steps: 'Mixing' is not an inner step of the route",
        ),
        ({"route": {"Mixing": {"material_cost_share": 0.9}}}, "route.*.material_cost_share must add up to 1"),
        (
            {"products": {"NMC811-PC72": {"spec_overrides": {"smell": {"target": 1.0}}}}},
            "products.NMC811-PC72.spec_overrides: no route step measures 'smell'",
        ),
        (
            {"products": {"NMC811-PC72": {"spec_overrides": {"capacity": {"mean": 73.0}}}}},
            "products.NMC811-PC72.spec_overrides.capacity: unknown fields ['mean']",
        ),
        ({"shifts": {"pattern": {"late": {"start": "15:00"}}}}, "shifts.pattern.late must start at 14:00"),
        (
            {"shifts": {"pattern": {"night": {"hours": 7}}}},
            "shifts.pattern must cover 24 hours from day_start_hour without gaps",
        ),
    ],
)
def test_an_inconsistent_scenario_names_file_and_field(tmp_path, overrides, said):
    with pytest.raises(ValueError) as raised:
        load_scenario(scenario(tmp_path, overrides))
    message = str(raised.value)
    assert message.startswith(f"invalid scenario {tmp_path / 'broken.yaml'} (layered over ")
    assert "test_small.yaml" in message and "factory.yaml" in message
    assert said in message


def test_a_scenario_file_that_cannot_be_read_as_one_says_why(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        load_scenario(tmp_path / "absent.yaml")

    first, second = tmp_path / "first.yaml", tmp_path / "second.yaml"
    first.write_text("base: second.yaml\n")
    second.write_text("base: first.yaml\n")
    with pytest.raises(ValueError, match="scenario bases form a cycle"):
        load_scenario(first)

    orphan = tmp_path / "orphan.yaml"
    orphan.write_text("base: gone.yaml\nseed: 1\n")
    with pytest.raises(ValueError, match=r"gone.yaml: cannot read scenario file"):
        load_scenario(orphan)

    torn = tmp_path / "torn.yaml"
    torn.write_text("seed: [1, 2\n")
    with pytest.raises(ValueError, match=r"torn.yaml: not valid YAML"):
        load_scenario(torn)

    listed = tmp_path / "listed.yaml"
    listed.write_text("- seed\n- 1\n")
    with pytest.raises(ValueError, match=r"listed.yaml: a scenario must be a mapping at the top level"):
        load_scenario(listed)
