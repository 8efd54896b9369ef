"""Data-quality gate: Great Expectations suites for the raw MES tables (no Dagster import)."""
