"""The simulated line's state at the start of a factory day, and where the states of past days are kept.

The plant runs one continuous simulation from its first day: each day's run starts from the state the day
before stopped at, at midnight of the plant's clock (every machine's activity, batch and random generator,
the batches in every queue, the quality model's generator). A state is plain data, so it is kept as JSON
(floats written as their shortest exact repr, so a kept state resumes exactly as the live one would). Every
run resumes from the JSON, never from live objects: a day comes out the same whether the state before it was
just computed or read back.

``LineStates`` keeps them per scenario (a fingerprint of the whole configuration) in memory and, given a
folder, on disk beside the lake, so a fresh process does not simulate the plant's history again.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from orchestration.simulator.config import FactoryConfig
from orchestration.simulator.machine import Job, MachineState
from orchestration.simulator.route import Batch


@dataclass
class LineState:
    day: date  # the factory day whose start this state is at
    machines: dict[str, MachineState]
    queues: list[list[Batch]]  # per route station, in queue order
    quality_rng: dict  # the quality model's generator (numpy bit_generator.state)


def dumps(state: LineState) -> str:
    return json.dumps(
        {
            "day": state.day.isoformat(),
            "machines": {m: _machine(s) for m, s in state.machines.items()},
            "queues": [[_batch(b) for b in queue] for queue in state.queues],
            "quality_rng": state.quality_rng,
        },
        sort_keys=True,
    )


def loads(text: str) -> LineState:
    data = json.loads(text)
    return LineState(
        day=date.fromisoformat(data["day"]),
        machines={m: _machine_state(s) for m, s in data["machines"].items()},
        queues=[[_batch_of(b) for b in queue] for queue in data["queues"]],
        quality_rng=data["quality_rng"],
    )


def fingerprint(config: FactoryConfig) -> str:
    """Which plant a state belongs to: any change of the scenario, or of the simulator's code (a kept state
    would no longer be the one this code computes), starts another history."""
    digest = hashlib.sha256(config.model_dump_json().encode())
    digest.update(_code_digest())
    return digest.hexdigest()[:20]


@cache
def _code_digest() -> bytes:
    sources = sorted(Path(__file__).parent.glob("*.py"))
    return hashlib.sha256(b"".join(path.read_bytes() for path in sources)).digest()


class LineStates:
    """The line's states at the start of each factory day of one or more scenarios, as JSON text."""

    _memory: dict[tuple[str, date], str] = {}  # shared by the process: a history is simulated once

    def __init__(self, folder: Path | None = None):
        self.folder = folder

    def _path(self, plant: str, day: date) -> Path:
        return self.folder / plant / f"{day.isoformat()}.json"

    def get(self, plant: str, day: date) -> str | None:
        text = self._memory.get((plant, day))
        if text is None and self.folder is not None and (path := self._path(plant, day)).is_file():
            text = self._memory[(plant, day)] = path.read_text()
        return text

    def put(self, plant: str, day: date, text: str) -> None:
        self._memory[(plant, day)] = text
        if self.folder is not None and not (path := self._path(plant, day)).is_file():
            # Written aside, then renamed: a killed run leaves no half state. Runs of several days at once may
            # keep the same state: each writes its own temporary file, and the same text wins either way.
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
            temporary.write_text(text)
            os.replace(temporary, path)


def _machine(state: MachineState) -> dict:
    return {
        "rng": state.rng,
        "to_failure_s": state.to_failure_s,
        "to_micro_stop_s": state.to_micro_stop_s,
        "last_product": state.last_product,
        "last_shift": state.last_shift,
        "maintenance": [list(w) for w in state.maintenance],
        "activity": list(state.activity) if state.activity is not None else None,
        "job": None
        if state.job is None
        else {
            "batch": _batch(state.job.batch),
            "waited_s": state.job.waited_s,
            "start_s": state.job.start_s,
            "work_s": state.job.work_s,
        },
    }


def _machine_state(data: dict) -> MachineState:
    job = data["job"]
    return MachineState(
        rng=data["rng"],
        to_failure_s=data["to_failure_s"],
        to_micro_stop_s=data["to_micro_stop_s"],
        last_product=data["last_product"],
        last_shift=data["last_shift"],
        maintenance=[tuple(w) for w in data["maintenance"]],
        activity=tuple(data["activity"]) if data["activity"] is not None else None,
        job=None
        if job is None
        else Job(
            _batch_of(job["batch"]), waited_s=job["waited_s"], start_s=job["start_s"], work_s=job["work_s"]
        ),
    )


def _batch(batch: Batch) -> dict:
    return {
        "case_id": batch.case_id,
        "product_id": batch.product_id,
        "good_qty": batch.good_qty,
        "reworks": batch.reworks,
        "queued_s": batch.queued_s,
        "done": sorted(batch.done),
        "detour": sorted(batch.detour.items()),
    }


def _batch_of(data: dict) -> Batch:
    return Batch(
        case_id=data["case_id"],
        product_id=data["product_id"],
        good_qty=data["good_qty"],
        reworks=data["reworks"],
        queued_s=data["queued_s"],
        done=set(data["done"]),
        detour={int(k): int(v) for k, v in data["detour"]},
    )
