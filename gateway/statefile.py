"""Small files of the state_dir: where they live, replacing them durably, moving bad ones aside.

Nothing here imports sqlite3: the sequence store's state file uses these
too, and a gateway without a spool or history holds no SQLite (issue 15).
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path

__all__ = ["database_path", "move_aside", "replace_durably"]


def database_path(path: str | os.PathLike[str], default_name: str) -> Path:
    """``path`` itself, or ``default_name`` inside it when it is a directory (the state_dir)."""
    target = Path(path)
    return target / default_name if target.is_dir() else target


def move_aside(path: Path, sides: Sequence[str] = ("-wal", "-shm")) -> Path:
    """Rename a bad file to ``<name>.corrupt-<stamp>`` (kept for recovery).

    ``sides`` are suffixes of files that belong to it (SQLite's WAL and
    shared memory: left in place, SQLite would apply them to a new database).
    """
    stamp = time.strftime("%Y%m%d-%H%M%S")
    aside = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while aside.exists():
        n += 1
        aside = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
    if path.exists():
        os.replace(path, aside)
    for suffix in sides:
        side = path.with_name(path.name + suffix)
        if side.exists():
            os.replace(side, aside.with_name(aside.name + suffix))
    return aside


def replace_durably(path: Path, data: bytes) -> None:
    """Make ``data`` the content of ``path``, all or nothing, surviving a power cut.

    Written to ``<name>.tmp`` and fsynced, renamed over ``path`` (rename(2)
    is atomic: a reader, or a restart after kill -9, sees the old file or the
    new one, never a mix), then the directory is fsynced so the rename itself
    is on the disk before this returns.
    """
    temp = path.with_name(path.name + ".tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temp, path)
    directory = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
