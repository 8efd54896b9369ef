"""Manufacturing operations intelligence for battery gigafactories: the Dagster code location.

Domain packages (simulator, lake, quality, mining, reporting) are plain Python;
``defs`` wires them into Dagster.
"""
