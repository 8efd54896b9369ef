"""The embedded simulated gigafactory: a discrete-event (SimPy) model of a lithium-ion cell plant.

``load_scenario`` reads a scenario layered over ``data/factory.yaml``; ``simulate_factory_day`` returns the
six raw MES tables of one factory day (``orchestration.lake.tables``), determined by scenario seed and date.
"""

from orchestration.simulator.config import FactoryConfig, load_scenario
from orchestration.simulator.engine import simulate_factory_day

__all__ = ["FactoryConfig", "load_scenario", "simulate_factory_day"]
