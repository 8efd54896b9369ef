"""The write-ahead log: accepted readings are on disk (fsync) before anyone is told they were received.

Segment files ``wal-<n>.log`` of lines ``<crc32 hex> <json>\\n``; one line is one commit's readings. A
commit is one ``write`` and one ``fsync`` (group commit: every message received since the last commit).
``checkpoint.json`` holds the position up to which every reading is landed in Parquet; replay starts there,
segments wholly before it are deleted. A torn last line (a crash mid-write) fails its checksum: it was never
acknowledged, so replay stops there and the segment is truncated to its last good line.
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Iterator
from pathlib import Path

from orchestration.atomic_files import fsync_folder, write_atomically
from orchestration.ingestion.payload import Reading

Position = tuple[int, int]  # (segment number, byte offset after the last line)


class WriteAheadLog:
    def __init__(self, wal_dir: Path, segment_bytes: int = 64 << 20):
        self.dir = wal_dir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.segment_bytes = segment_bytes
        self._checkpoint_path = self.dir / "checkpoint.json"
        self._handle = None
        self.position: Position = self.checkpointed()

    def _segment_path(self, number: int) -> Path:
        return self.dir / f"wal-{number:010d}.log"

    def segments(self) -> list[int]:
        return sorted(int(p.stem.split("-")[1]) for p in self.dir.glob("wal-*.log"))

    def checkpointed(self) -> Position:
        if self._checkpoint_path.exists():
            saved = json.loads(self._checkpoint_path.read_text())
            return int(saved["segment"]), int(saved["offset"])
        return (0, 0)

    def replay(self) -> Iterator[tuple[list[Reading], Position]]:
        """Every commit after the checkpoint, in order; leaves the log positioned for appending."""
        start_segment, start_offset = self.checkpointed()
        last: Position = (start_segment, start_offset)
        for number in self.segments():
            if number < start_segment:
                continue
            path = self._segment_path(number)
            offset = start_offset if number == start_segment else 0
            with open(path, "rb") as handle:
                handle.seek(offset)
                for line in handle:
                    if not line.endswith(b"\n") or len(line) < 10:
                        break
                    crc, _, body = line[:-1].partition(b" ")
                    if f"{zlib.crc32(body):08x}".encode() != crc:
                        break
                    offset += len(line)
                    last = (number, offset)
                    yield [tuple(r) for r in json.loads(body)], last
            if path.stat().st_size > offset:  # a torn tail: never acknowledged
                with open(path, "r+b") as handle:
                    handle.truncate(offset)
            last = (number, offset)
        self.position = last

    def append(self, readings: list[Reading]) -> Position:
        """Write one commit and fsync it; returns the position after it."""
        body = json.dumps(readings, separators=(",", ":")).encode()
        line = b"%08x %s\n" % (zlib.crc32(body), body)
        segment, offset = self.position
        if self._handle is None or offset >= self.segment_bytes:
            if self._handle is not None:
                self._handle.close()
                segment, offset = segment + 1, 0
            path = self._segment_path(segment)
            self._handle = open(path, "ab")
            offset = self._handle.tell()
            fsync_folder(self.dir)
        self._handle.write(line)
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self.position = (segment, offset + len(line))
        return self.position

    def checkpoint(self, position: Position) -> None:
        """Everything up to ``position`` is landed durably: forget the segments before it."""
        checkpoint = {"segment": position[0], "offset": position[1]}
        write_atomically(self._checkpoint_path, json.dumps(checkpoint), durable=True)
        for number in self.segments():
            if number < position[0]:
                self._segment_path(number).unlink(missing_ok=True)

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
