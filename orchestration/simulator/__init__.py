"""The embedded simulated gigafactory: a discrete-event (SimPy) model of a lithium-ion cell plant.

``load_scenario`` reads a scenario layered over ``data/factory.yaml``; ``run_factory_day`` simulates one
factory day (its raw MES tables, its telemetry streamed in record batches, and its ground truth), determined
by scenario seed and date; ``simulate_factory_day`` returns the raw tables in memory.
"""

from orchestration.simulator.config import FactoryConfig, load_scenario
from orchestration.simulator.engine import FactoryDay, run_factory_day, simulate_factory_day

__all__ = ["FactoryConfig", "FactoryDay", "load_scenario", "run_factory_day", "simulate_factory_day"]
