"""Readers for tabular plant exports: CSV (plain or gzip-compressed) and Parquet."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.connectors.records import RowProblem, SourceRecords

_GZIP_MAGIC = b"\x1f\x8b"


def read_csv(file: Path, delimiter: str = ",") -> SourceRecords:
    """Every data row of a CSV file as strings; line numbers count physical lines, the header is line 1."""
    with open(file, "rb") as probe:
        compressed = probe.read(2) == _GZIP_MAGIC  # trust the bytes, not the suffix
    opener = gzip.open if compressed else open
    try:
        # utf-8-sig: spreadsheet exports often start with a byte-order mark that would end up in the header
        with opener(file, "rt", encoding="utf-8-sig", newline="") as text:
            reader = csv.reader(text, delimiter=delimiter)
            header = next(reader, None)
            if not header or not any(name.strip() for name in header):
                raise ValueError(f"{file}: the CSV file has no header row")
            header = [name.strip() for name in header]
            records = SourceRecords(file=file, columns=set(header))
            first_line = reader.line_num + 1
            for fields in reader:
                line, first_line = first_line, reader.line_num + 1  # a quoted field may span lines
                if not fields:
                    continue  # a blank line is not a record
                problem = None
                if len(fields) != len(header):
                    problem = RowProblem(
                        "row", f"the row has {len(fields)} fields where the header has {len(header)}"
                    )
                records.add(dict(zip(header, fields, strict=False)), line, problem)
    except (OSError, EOFError, UnicodeDecodeError, csv.Error) as error:
        raise ValueError(f"{file}: cannot read the CSV file ({error})") from None
    return records


def read_parquet(file: Path) -> SourceRecords:
    """Every row of a Parquet file as Python values (timestamps stay datetimes); row numbers are 1-based."""
    try:
        table = pq.read_table(file)
    except (OSError, pa.ArrowException) as error:
        raise ValueError(f"{file}: cannot read the Parquet file ({error})") from None
    records = SourceRecords(file=file, columns=set(table.column_names))
    for index, row in enumerate(table.to_pylist(), start=1):
        records.add(row, index)
    return records
