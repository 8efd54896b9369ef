"""Why a run failed, in the terms that decide what happens next.

Only a failed blocking check blocks a factory day (and splits a range to find it). Everything else says
nothing about the data: the warehouse held by another process, memory, a missing file, a mistake in the
configuration, a bug. Such a run marks no day BLOCKED and renders no INCOMPLETE report over a complete one;
a held warehouse is worth waiting for, the rest needs a person, told in one line.
"""

from __future__ import annotations

from dataclasses import dataclass

_LOCKED = ("Could not set lock on file", "Conflicting lock is held")  # DuckDB's words for another writer
_MEMORY = ("MemoryError", "OutOfMemoryException", "Out of Memory")


@dataclass(frozen=True)
class RunFailure:
    kind: str  # "warehouse in use", "out of memory", "missing file", "error"
    step: str
    message: str

    @property
    def retryable(self) -> bool:
        return self.kind == "warehouse in use"

    def sentence(self) -> str:
        first_line = next((line for line in self.message.splitlines() if line.strip()), "no message")
        for marker in _LOCKED:  # DuckDB's own line says which file and which process
            found = next((line for line in self.message.splitlines() if marker in line), None)
            if found:
                first_line = found.strip()
        return f"{self.kind} in step {self.step}: {first_line[:400]}"


def classify(step: str, error_class: str, message: str) -> RunFailure:
    """The failure of ``step`` from its error's class name and message (chained causes included)."""
    text = f"{error_class}: {message}"
    if any(marker in text for marker in _LOCKED):
        kind = "warehouse in use"
    elif any(marker in text for marker in _MEMORY):
        kind = "out of memory"
    elif "FileNotFoundError" in text:
        kind = "missing file"
    else:
        kind = "error"
    return RunFailure(kind, step, message)
