"""Dagster-facing wiring, one module per domain. ``orchestration.definitions`` assembles them."""
