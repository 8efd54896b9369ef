"""Random streams: one independent, reproducible generator per factory day and purpose.

Seeds come from a cryptographic hash of (scenario seed, day, purpose), never from Python's ``hash()`` (salted
per process), so a day comes out byte-identical whatever was simulated before it and in whichever process.
Separate purposes keep, say, the sensor noise unchanged when a quality rule draws one number more.
"""

from __future__ import annotations

import hashlib
from datetime import date

import numpy as np


def stream(seed: int, day: date, purpose: str) -> np.random.Generator:
    digest = hashlib.sha256(f"{seed}:{day.isoformat()}:{purpose}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:16], "little"))
