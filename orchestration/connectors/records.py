"""What every reader hands on: the source's rows as raw values, with where each row came from.

Readers only read; judging a row (missing values, bad timestamps, duplicates) happens once, in ``events``, so
that every format quarantines the same problems with the same sentences.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class RowProblem:
    """A problem a reader found in a row before any mapping applies (e.g. a CSV row with too few fields)."""

    field: str
    reason: str
    folded: bool = False  # not a fault: a record that is part of another (an XES lifecycle transition)


@dataclass
class SourceRecords:
    file: Path
    columns: set[str]  # the columns (attributes) the file offers, to check the mapping against
    rows: list[dict[str, Any]] = field(default_factory=list)  # raw values keyed by source column
    # 1-based: CSV line (header = 1), Parquet row, XES / OCEL event index
    lines: list[int] = field(default_factory=list)
    problems: list[RowProblem | None] = field(default_factory=list)

    def add(self, row: dict[str, Any], line: int, problem: RowProblem | None = None) -> None:
        self.rows.append(row)
        self.lines.append(line)
        self.problems.append(problem)


def undecodable(file: Path, line: int, offset: int, encoding: str, error: UnicodeDecodeError) -> ValueError:
    """The error for bytes that are not in the file's declared encoding: a wrong encoding affects the whole
    file, so it stops the read rather than quarantining rows, and says where and what to declare."""
    bad = error.object[error.start : error.start + 4].hex(" ")
    return ValueError(
        f"{file}: line {line}, byte offset {offset}: not valid {encoding} ({error.reason}: {bad}); "
        "declare the file's encoding in the mapping, e.g. encoding: latin-1 or cp1252"
    )


def is_blank(value: Any) -> bool:
    """A missing value as exports write it: None, NaN, or an empty or whitespace-only string."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, float) and math.isnan(value)
