"""Readers for tabular plant exports: CSV (plain or gzip-compressed) and Parquet.

CSV is read one physical line at a time: each line is one record unless the mapping allows line breaks in
quoted fields, so an unclosed quote costs its own row (quarantined with its line) and never swallows the
next ones, every row keeps its exact line number, a decode error names its line and byte, and a runaway
line is skipped at ``max_line_bytes`` without being held in memory. pyarrow.csv and DuckDB's read_csv give
no line number for the rows they accept, and read several of these faults silently (a NUL byte; a repeated
header; an unclosed quote, which pyarrow merges into one row and DuckDB keeps as a literal quote).
"""

from __future__ import annotations

import codecs
import csv
import gzip
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.connectors.records import RowProblem, SourceRecords, undecodable

_GZIP_MAGIC = b"\x1f\x8b"
MAX_LINE_BYTES = 1 << 20  # 1 MiB per CSV record (hence per field); the mapping's max_line_bytes overrides it


def read_csv(
    file: Path,
    delimiter: str = ",",
    encoding: str = "utf-8",
    max_line_bytes: int = MAX_LINE_BYTES,
    multiline_fields: bool = False,
) -> SourceRecords:
    """Every data row of a CSV file as strings; line numbers count physical lines, the header is line 1.

    Row problems (wrong field count, unclosed quote, NUL byte, line over the limit) are handed on with the
    row; a header that repeats a column or bytes not in ``encoding`` are errors for the whole file.
    """
    with open(file, "rb") as probe:
        compressed = probe.read(2) == _GZIP_MAGIC  # trust the bytes, not the suffix
    opener = gzip.open if compressed else open
    # Process-wide, and only ever raised: our own max_line_bytes check is the limit that applies.
    csv.field_size_limit(max(csv.field_size_limit(), max_line_bytes))
    try:
        with opener(file, "rb") as stream:
            lines = _physical_lines(stream, file, encoding, max_line_bytes)
            header = _header(file, next(lines, None), delimiter)
            records = SourceRecords(file=file, columns=set(header))
            for line, text in lines:
                if text is None:  # kept out of memory, and out of the quarantine record too
                    reason = f"the line is longer than {max_line_bytes:,} bytes (max_line_bytes)"
                    records.add({}, line, RowProblem("row", reason))
                    continue
                if not text.strip("\r\n"):
                    continue  # a blank line is not a record
                parts, problem = [text], None
                if multiline_fields:
                    parts, problem = _quoted_continuation(text, lines, delimiter, max_line_bytes)
                fields, parse_problem = _parse(parts, header, delimiter, multiline_fields)
                records.add(dict(zip(header, fields, strict=False)), line, problem or parse_problem)
    except (OSError, EOFError) as error:
        raise ValueError(f"{file}: cannot read the CSV file ({error})") from None
    return records


def _physical_lines(
    stream: BinaryIO, file: Path, encoding: str, limit: int
) -> Iterator[tuple[int, str | None]]:
    """(line number, text) per physical line; text is None for a line over ``limit`` bytes, which is read
    past in chunks rather than held."""
    utf8 = codecs.lookup(encoding).name == "utf-8"
    offset = 0  # of the line's first byte in the (decompressed) stream, for decode errors
    number = 0
    while raw := stream.readline(limit + 1):
        number += 1
        size = len(raw)
        if size > limit:
            while not raw.endswith(b"\n") and (raw := stream.readline(1 << 16)):
                size += len(raw)
            yield number, None
        else:
            # spreadsheet exports often start with a byte-order mark that would end up in the header
            skip = len(codecs.BOM_UTF8) if number == 1 and utf8 and raw.startswith(codecs.BOM_UTF8) else 0
            try:
                yield number, raw[skip:].decode(encoding)
            except UnicodeDecodeError as error:
                raise undecodable(file, number, offset + skip + error.start, encoding, error) from None
        offset += size


def _header(file: Path, first: tuple[int, str | None] | None, delimiter: str) -> list[str]:
    if first is not None and first[1] is None:
        raise ValueError(f"{file}: line 1: the header is longer than the line limit (max_line_bytes)")
    try:
        header = next(csv.reader([first[1]], delimiter=delimiter), []) if first else []
    except csv.Error as error:
        raise ValueError(f"{file}: line 1: the header is not a valid CSV row ({error})") from None
    header = [name.strip() for name in header]
    if not header or not any(header):
        raise ValueError(f"{file}: the CSV file has no header row")
    repeated = sorted(name for name, count in Counter(header).items() if count > 1)
    if repeated:  # a dict row would keep only the last of them
        raise ValueError(f"{file}: line 1: the header repeats column(s) {repeated}; each name must be unique")
    return header


def _quoted_continuation(
    text: str, lines: Iterator[tuple[int, str | None]], delimiter: str, limit: int
) -> tuple[list[str], RowProblem | None]:
    """The physical lines of one record whose quoted fields hold line breaks, and a problem when a quote
    stays open to the end of the file or the record grows past ``limit`` bytes."""
    parts, size = [text], len(text.encode())
    open_quote = _quote_open(text, delimiter, False)
    while open_quote:
        line = next(lines, None)
        if line is None:
            return parts, RowProblem("row", "a quoted field opened on this line is never closed")
        if line[1] is None or size + len(line[1].encode()) > limit:
            return [], RowProblem("row", f"the record is longer than {limit:,} bytes (max_line_bytes)")
        parts.append(line[1])
        size += len(line[1].encode())
        open_quote = _quote_open(line[1], delimiter, True)
    return parts, None


def _quote_open(text: str, delimiter: str, in_quotes: bool) -> bool:
    """Whether a quoted field is still open at the end of ``text``, by the csv module's (non-strict) rules:
    a quote opens a field only at its start, and a doubled quote inside one is a literal quote."""
    if '"' not in text:
        return in_quotes
    field_start, i = not in_quotes, 0
    while i < len(text):
        char = text[i]
        if in_quotes:
            if char == '"':
                if text[i + 1 : i + 2] == '"':
                    i += 1  # an escaped quote
                else:
                    in_quotes = False
        elif char == '"' and field_start:
            in_quotes = True
        field_start = not in_quotes and char == delimiter
        i += 1
    return in_quotes


def _parse(
    parts: list[str], header: list[str], delimiter: str, multiline: bool
) -> tuple[list[str], RowProblem | None]:
    """The fields of one record and its first problem, if any."""
    body = parts[0].rstrip("\r\n") if len(parts) == 1 else ""
    if body and '"' not in body and "\r" not in body:
        fields = body.split(delimiter)  # what csv reads from a line without quotes, 3x faster
    else:
        try:
            fields = next(csv.reader(parts, delimiter=delimiter), [])
        except csv.Error as error:
            return [], RowProblem("row", f"not a valid CSV record ({error})")
        body = "\n".join(fields)  # for the checks below: a line break here can only come from a field
        if not multiline and ("\n" in body or "\r" in body):
            name = _column(header, fields, lambda value: "\n" in value or "\r" in value)
            return fields, RowProblem(
                name,
                f"field {name!r} runs past the end of the line: an unclosed quote "
                "(if the export has line breaks in quoted fields, declare multiline_fields: true)",
            )
    if len(fields) != len(header):
        reason = f"the row has {len(fields)} fields where the header has {len(header)}"
        return fields, RowProblem("row", reason)
    if "\x00" in body:
        name = _column(header, fields, lambda value: "\x00" in value)
        return fields, RowProblem(name, f"field {name!r} holds a NUL byte")
    return fields, None


def _column(header: list[str], fields: list[str], holds) -> str:
    """The column of the first field that ``holds`` (past the header's end: "field <n>")."""
    for position, value in enumerate(fields):
        if holds(value):
            return header[position] if position < len(header) else f"field {position + 1}"
    raise AssertionError("no field holds it")


# What each kind of event field accepts from a Parquet column; anything else would be coerced (a bool read
# as "True", a struct as its repr, an integer 20261109 as a date), so it is an error naming the column.
_PARQUET_KINDS = {
    "text": ("a string or integer column", lambda t: _is_text(t) or pa.types.is_integer(t)),
    "timestamp": ("a timestamp or string column", lambda t: _is_text(t) or pa.types.is_timestamp(t)),
    "quantity": (
        "a numeric or string column",
        lambda t: _is_text(t) or pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t),
    ),
}


def _is_text(arrow_type: pa.DataType) -> bool:
    return pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type)


def read_parquet(file: Path, kinds: dict[str, tuple[str, str]] | None = None) -> SourceRecords:
    """Every row of a Parquet file as Python values (timestamps stay datetimes); row numbers are 1-based.

    ``kinds`` maps a source column to (event field, "text" | "timestamp" | "quantity"): a column whose
    physical type does not fit is an error, so no value is ever coerced into a field.
    """
    try:
        table = pq.read_table(file)
    except (OSError, pa.ArrowException) as error:
        raise ValueError(f"{file}: cannot read the Parquet file ({error})") from None
    repeated = sorted(name for name, count in Counter(table.column_names).items() if count > 1)
    if repeated:
        raise ValueError(f"{file}: the file repeats column(s) {repeated}; each name must be unique")
    for column, (field, kind) in (kinds or {}).items():
        if column not in table.column_names:
            continue  # the caller reports missing columns together
        arrow_type = table.schema.field(column).type
        if pa.types.is_dictionary(arrow_type):
            arrow_type = arrow_type.value_type
        accepted, fits = _PARQUET_KINDS[kind]
        if not (pa.types.is_null(arrow_type) or fits(arrow_type)):
            raise ValueError(f"{file}: column {column!r} is {arrow_type}, but {field} needs {accepted}")
    records = SourceRecords(file=file, columns=set(table.column_names))
    for index, row in enumerate(table.to_pylist(), start=1):
        records.add(row, index)
    return records
