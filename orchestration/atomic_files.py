"""Files that readers see whole or not at all: written beside their target, then renamed over it.

Every file a reader may open while it is being written (a lake partition, a report, a picture, a part file of
the live lake, the write-ahead log's checkpoint) goes through here. ``durable`` also fsyncs the file and its
folder, for what must survive a power cut once acknowledged (the ingestion service's files).

Files holding restricted figures (role reports with costs and crew figures, the warehouse) are written
``RESTRICTED`` in ``RESTRICTED_FOLDER``s, the teams' own state ``OWNER_ONLY``; ``group`` (the plant's
GIGAFACTORY_FILE_GROUP, see settings) is the group that may read them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PUBLIC = 0o644  # lake partitions, pictures: no figure a role may not see
RESTRICTED = 0o640  # owner writes, the group reads, nobody else
RESTRICTED_FOLDER = 0o750
OWNER_ONLY = 0o600  # the operational state: only the platform's own account


@contextmanager
def replacing(
    target: Path, durable: bool = False, mode: int = PUBLIC, group: str | None = None
) -> Iterator[Path]:
    """``<target>.tmp`` to write to; it replaces ``target`` when the block ends without an error and is
    removed when it raises. A process killed meanwhile leaves at most that ``.tmp`` file, never half a
    ``target``, and the next write of the same target reuses its name (one writer per file, as everywhere in
    the platform). ``mode`` and ``group`` are set before the rename: the target is never readable wider."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(target.name + ".tmp")
    try:
        yield temporary
        restrict(temporary, mode, group)  # the teams read these files, whatever the process's umask
        if durable:
            _fsync(temporary)
        os.replace(temporary, target)
        if durable:
            fsync_folder(target.parent)
    finally:
        temporary.unlink(missing_ok=True)


def write_atomically(
    target: Path,
    content: bytes | str,
    durable: bool = False,
    mode: int = PUBLIC,
    group: str | None = None,
) -> None:
    """Write ``content`` (text as UTF-8) to ``target`` through ``replacing``."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    with replacing(target, durable, mode, group) as temporary:
        temporary.write_bytes(data)


def restrict(path: Path, mode: int, group: str | None = None) -> None:
    """Set ``path``'s mode and, when given, its group (the account must belong to it: an error otherwise,
    never a file silently left readable by the wrong group)."""
    if group is not None:
        shutil.chown(path, group=group)
    os.chmod(path, mode)


def restricted_folder(folder: Path, levels: int = 1, group: str | None = None) -> Path:
    """Create ``folder``; restrict it and its ``levels - 1`` parents to RESTRICTED_FOLDER (and ``group``)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for level in [folder, *folder.parents][:levels]:
        restrict(level, RESTRICTED_FOLDER, group)
    return folder


def restrict_database(path: Path, mode: int, group: str | None = None) -> None:
    """A DuckDB file and its write-ahead log when one is left. DuckDB keeps an existing file's mode, but
    creates the log anew with the process's umask while a connection writes and deletes it at close: only a
    killed writer leaves one, restricted by the next connection that calls this."""
    restrict(path, mode, group)
    wal = Path(f"{path}.wal")
    if wal.exists():
        restrict(wal, mode, group)


def fsync_folder(folder: Path) -> None:
    """Make the renames and deletions in ``folder`` durable."""
    _fsync(folder)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
