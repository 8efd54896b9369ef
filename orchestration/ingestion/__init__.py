"""Live sensor ingestion: MQTT and HTTP in, a write-ahead log, Parquet minutes out.

Pure Python, no Dagster import (``orchestration/defs`` wires it in):

- ``broker``: a local MQTT 3.1.1 broker (amqtt) for development, tests and ``make ingest``;
- ``service``: the ingestion service: subscribes over TCP, accepts HTTP batches, validates, writes the
  write-ahead log (fsync) before acknowledging, lands Parquet per sensor group and minute, records gaps;
- ``feed``: a publisher that replays telemetry (the simulated factory's, or a synthetic plant) and buffers
  while the broker is unreachable;
- ``hooks``: what the Dagster sensor and the near-real-time anomaly hook call.
"""

from orchestration.ingestion.hooks import (
    landed_minutes_since,
    read_gaps,
    read_quarantine,
    score_latest,
)

__all__ = ["landed_minutes_since", "read_gaps", "read_quarantine", "score_latest"]
