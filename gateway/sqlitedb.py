"""Opening the gateway's SQLite files (sequence numbers, spool, history).

All three want the same things: WAL, an explicit synchronous level, a
quick integrity check, a schema version they understand, and -- when a file
is corrupt -- to move it aside (with its WAL and shared-memory files) rather
than crash or silently reuse it.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path


def database_path(path: str | os.PathLike[str], default_name: str) -> Path:
    """``path`` itself, or ``default_name`` inside it when it is a directory (the state_dir)."""
    target = Path(path)
    return target / default_name if target.is_dir() else target


def open_database(target: str | Path, *, synchronous: str, schema_version: int, schema: Sequence[str],
                  timeout: float = 5.0, require_wal: bool = False) -> sqlite3.Connection:
    """Open ``target`` (a path or ":memory:"), check it and create the schema.

    Raises sqlite3.DatabaseError for a file that is corrupt, of an unknown
    schema version, or (``require_wal``) that cannot use WAL; OperationalError
    (a subclass) for a locked or unopenable file, which callers must not
    mistake for corruption.
    """
    # isolation_level=None: transactions are explicit (BEGIN/COMMIT), so
    # nothing is committed behind our back and nothing is left open.
    db = sqlite3.connect(str(target), timeout=timeout, isolation_level=None, check_same_thread=False)
    try:
        mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if require_wal and str(target) != ":memory:" and str(mode).lower() != "wal":
            raise sqlite3.DatabaseError(f"cannot use WAL (journal_mode is {mode})")
        db.execute(f"PRAGMA synchronous = {synchronous}")
        check = db.execute("PRAGMA quick_check").fetchone()
        if check is None or check[0] != "ok":
            raise sqlite3.DatabaseError(f"quick_check: {check[0] if check else 'no result'}")
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version not in (0, schema_version):
            raise sqlite3.DatabaseError(f"unknown schema version {version}")
        db.execute("BEGIN IMMEDIATE")
        for statement in schema:
            db.execute(statement)
        db.execute(f"PRAGMA user_version = {schema_version}")
        db.execute("COMMIT")
    except BaseException:
        db.close()
        raise
    return db


def move_aside(path: Path) -> Path:
    """Rename a bad database to ``<name>.corrupt-<stamp>`` (kept for recovery)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    aside = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while aside.exists():
        n += 1
        aside = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
    if path.exists():
        os.replace(path, aside)
    # The WAL and shared-memory files belong to the old database; left in
    # place, SQLite would try to apply them to the new one.
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            os.replace(side, aside.with_name(aside.name + suffix))
    return aside
