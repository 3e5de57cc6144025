"""Opening the gateway's SQLite files (sequence numbers, spool, history).

All three want the same things: WAL, an explicit synchronous level, a
quick integrity check, a schema version they understand, and -- when a file
is corrupt -- to move it aside (with its WAL and shared-memory files) rather
than crash or silently reuse it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

# Re-exported: the spool and the history find and set aside their files this way.
from .statefile import database_path, move_aside

__all__ = ["database_path", "move_aside", "open_database"]


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
