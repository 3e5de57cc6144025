"""The last N readings of every device, in SQLite in the state directory.

The dashboard draws its charts from this when a page opens
(``/api/readings``), so a phone opened an hour after the last reading
still sees the recent curve, and it survives a restart of the gateway.

Readings are stored as the JSON text the web feed already made for the
WebSocket (one serialisation per reading), so an answer to
``/api/readings`` is a join of stored strings, never a re-encoding.

Cost: :meth:`History.append` only buffers; :meth:`History.commit` writes
the batch in one transaction and trims every device it touched to
``per_device`` rows with one range delete (the primary key is
``(device, n)``, so that delete is a b-tree range, not a scan). The owner
commits once per loop pass. ``synchronous=NORMAL`` with WAL: a history is
a convenience, so it is safe against the process dying but pays no fsync
per pass (a power cut may lose the newest rows, never the file).

A file that cannot be opened or is corrupt is replaced by an in-memory
history (logged): the dashboard loses its past, the gateway keeps running.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from typing import Any

from .sqlitedb import database_path, open_database

__all__ = ["DEFAULT_NAME", "History"]

log = logging.getLogger(__name__)

DEFAULT_NAME = "history.sqlite3"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS readings (
    device TEXT NOT NULL,
    n INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (device, n)
) WITHOUT ROWID
"""


class History:
    """A bounded, ordered store of readings (as JSON text) per device.

    ``path`` is the database file or an existing directory (the state_dir)
    to hold ``history.sqlite3``. Not thread-safe: it belongs to the loop.
    """

    def __init__(self, path: str | os.PathLike[str], per_device: int = 1000) -> None:
        if per_device < 1:
            raise ValueError("per_device must be at least 1")
        self.path = database_path(path, DEFAULT_NAME)
        self.per_device = per_device
        self._buffer: list[tuple[str, int, str]] = []
        self._touched: set[str] = set()
        self.appended = 0
        self.commits = 0
        self.in_memory = False
        self._db: sqlite3.Connection | None = self._open()
        # The next number per device continues after what is stored, so a
        # restart appends after the old rows instead of interleaving.
        self._next: dict[str, int] = {
            device: top + 1
            for device, top in self._db.execute("SELECT device, MAX(n) FROM readings GROUP BY device")}

    def _open(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = self._connect(str(self.path))
            db.execute("SELECT COUNT(*) FROM readings").fetchone()  # a corrupt file fails here
            return db
        except (OSError, sqlite3.DatabaseError) as exc:
            log.error("readings history %s unusable (%s): keeping the history in memory only", self.path, exc)
            self.in_memory = True
            return self._connect(":memory:")

    @staticmethod
    def _connect(target: str) -> sqlite3.Connection:
        # NORMAL: the history is a convenience for the dashboard; the spool,
        # not this file, is what must survive a power cut.
        return open_database(target, synchronous="NORMAL", schema_version=1, schema=(_SCHEMA,))

    # -- writing -----------------------------------------------------------
    def append(self, device: str, body: str) -> None:
        """Remember one reading (JSON text) of ``device``; written at the next commit."""
        n = self._next.get(device, 1)
        self._next[device] = n + 1
        self._buffer.append((device, n, body))
        self._touched.add(device)
        self.appended += 1

    def commit(self) -> None:
        """Write what was appended since the last commit, trimmed to the bound."""
        db = self._db
        if not self._buffer or db is None:
            return
        rows, self._buffer = self._buffer, []
        touched, self._touched = self._touched, set()
        bound = self.per_device
        if len(rows) > bound:
            # A burst larger than the bound between two commits: rows the
            # trim below would delete at once are not written at all.
            rows = [r for r in rows if r[1] > self._next[r[0]] - 1 - bound]
        try:
            db.execute("BEGIN")
            db.executemany("INSERT OR REPLACE INTO readings (device, n, body) VALUES (?, ?, ?)", rows)
            db.executemany("DELETE FROM readings WHERE device = ? AND n <= ?",
                           [(device, self._next[device] - 1 - bound) for device in touched])
            db.execute("COMMIT")
            self.commits += 1
        except sqlite3.Error as exc:
            if db.in_transaction:
                db.execute("ROLLBACK")
            log.warning("readings history: cannot write %d readings: %s", len(rows), exc)

    # -- reading -----------------------------------------------------------
    def latest(self, device: str, limit: int) -> list[str]:
        """The newest ``limit`` readings of ``device`` as JSON texts, oldest first."""
        db = self._db
        if limit <= 0 or db is None:
            return []
        self.commit()  # what was appended this pass counts too
        rows = db.execute("SELECT body FROM readings WHERE device = ? ORDER BY n DESC LIMIT ?",
                          (device, min(limit, self.per_device))).fetchall()
        return [body for (body,) in reversed(rows)]

    def count(self, device: str) -> int:
        db = self._db
        if db is None:
            return 0
        self.commit()
        return int(db.execute("SELECT COUNT(*) FROM readings WHERE device = ?", (device,)).fetchone()[0])

    # -- lifetime ----------------------------------------------------------
    def close(self) -> None:
        """Write what is buffered and close the file (idempotent)."""
        if self._db is None:
            return
        self.commit()
        self._db.close()
        self._db = None

    def statistics(self) -> dict[str, Any]:
        return {"path": str(self.path), "per_device": self.per_device, "appended": self.appended,
                "commits": self.commits, "uncommitted": len(self._buffer), "in_memory": self.in_memory}
