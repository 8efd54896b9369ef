"""Files that readers see whole or not at all: written beside their target, then renamed over it.

Every file a reader may open while it is being written (a lake partition, a report, a picture, a part file of
the live lake, the write-ahead log's checkpoint) goes through here. ``durable`` also fsyncs the file and its
folder, for what must survive a power cut once acknowledged (the ingestion service's files).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def replacing(target: Path, durable: bool = False, mode: int = 0o644) -> Iterator[Path]:
    """``<target>.tmp`` to write to; it replaces ``target`` when the block ends without an error and is
    removed when it raises. A process killed meanwhile leaves at most that ``.tmp`` file, never half a
    ``target``, and the next write of the same target reuses its name (one writer per file, as everywhere in
    the platform)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(target.name + ".tmp")
    try:
        yield temporary
        os.chmod(temporary, mode)  # the teams read these files, whatever the process's umask
        if durable:
            _fsync(temporary)
        os.replace(temporary, target)
        if durable:
            fsync_folder(target.parent)
    finally:
        temporary.unlink(missing_ok=True)


def write_atomically(target: Path, content: bytes | str, durable: bool = False) -> None:
    """Write ``content`` (text as UTF-8) to ``target`` through ``replacing``."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    with replacing(target, durable) as temporary:
        temporary.write_bytes(data)


def fsync_folder(folder: Path) -> None:
    """Make the renames and deletions in ``folder`` durable."""
    _fsync(folder)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
