"""The last N readings of every device, in SQLite in the state directory.

The dashboard draws its charts from this when a page opens
(``/api/readings``), so a phone opened an hour after the last reading
still sees the recent curve, and it survives a restart of the gateway.

Readings are stored as the JSON text the web feed already made for the
WebSocket (one serialisation per reading), so an answer to
``/api/readings`` is a join of stored strings, never a re-encoding.

Cost: :meth:`History.append` only buffers; a commit writes the batch in
one transaction and trims every device it touched to ``per_device`` rows
with one range delete (the primary key is ``(device, n)``, so that delete
is a b-tree range, not a scan). The owner commits every fraction of a
second with :meth:`History.flush`: given a :class:`DiskWriter`, the
transaction runs on the writer thread and the loop never waits for it
(at most one batch at a time, so batches stay in order). Reads
(:meth:`History.latest`) use their own connection -- in WAL a reader never
waits for the writer -- and add the rows still in memory, so a page sees
every reading, written yet or not. ``synchronous=NORMAL`` with WAL: a
history is a convenience, so it is safe against the process dying but
pays no fsync per commit (a power cut may lose the newest rows, never the
file).

A file that cannot be opened or is corrupt is replaced by an in-memory
history (logged): the dashboard loses its past, the gateway keeps running.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from circuits.core.loop import Loop

from .diskwriter import DiskWriter
from .sqlitedb import database_path, open_database

__all__ = ["DEFAULT_NAME", "History"]

log = logging.getLogger(__name__)

DEFAULT_NAME = "history.sqlite3"
Row = tuple[str, int, str]  # (device, n, body)
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
    to hold ``history.sqlite3``. It belongs to the loop; with a ``writer``
    (and the ``loop`` its results come back on) the transactions run on the
    writer's thread.
    """

    def __init__(self, path: str | os.PathLike[str], per_device: int = 1000, *,
                 writer: DiskWriter | None = None, loop: Callable[[], Loop] | None = None) -> None:
        if per_device < 1:
            raise ValueError("per_device must be at least 1")
        if (writer is None) != (loop is None):
            raise ValueError("a writer needs the loop its results come back on, and only then")
        self.path = database_path(path, DEFAULT_NAME)
        self.per_device = per_device
        self.writer = writer
        self._loop = loop
        self._buffer: list[Row] = []
        self._touched: set[str] = set()
        self._writing: list[Row] = []  # the batch at the writer thread
        self._busy = False
        self._again = False  # a flush came while busy: flush when done
        self.appended = 0
        self.commits = 0
        self.in_memory = False
        self._db: sqlite3.Connection | None = self._open()
        self._reader: sqlite3.Connection = self._db if self.in_memory else self._open_reader()
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

    def _open_reader(self) -> sqlite3.Connection:
        try:
            reader = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
            reader.execute("PRAGMA query_only = 1")
            return reader
        except sqlite3.Error as exc:
            log.warning("readings history %s: no separate reader (%s); reads share the writer's connection",
                        self.path, exc)
            assert self._db is not None
            return self._db

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

    def flush(self) -> None:
        """Write what was appended: on the writer thread when there is one
        (unless a batch is still there: this one follows when it is done)."""
        if self.writer is None or self._loop is None:
            self.commit()
            return
        if self._busy:
            self._again = True
            return
        if not self._buffer or self._db is None:
            return
        rows, trims = self._take()
        self._writing, self._busy, self._again = rows, True, False
        self.writer.submit(self._loop(), lambda: self._write(rows, trims), self._written)

    def commit(self) -> None:
        """Write what was appended since the last commit, now, on this thread."""
        if self._buffer and self._db is not None:
            self._write(*self._take())

    def _take(self) -> tuple[list[Row], list[tuple[str, int]]]:
        """The buffered rows and the trim of every device they touch (made on
        the loop: the counters are the loop's)."""
        rows, self._buffer = self._buffer, []
        touched, self._touched = self._touched, set()
        bound = self.per_device
        if len(rows) > bound:
            # A burst larger than the bound between two commits: rows the
            # trim below would delete at once are not written at all.
            rows = [r for r in rows if r[1] > self._next[r[0]] - 1 - bound]
        return rows, [(device, self._next[device] - 1 - bound) for device in touched]

    def _write(self, rows: list[Row], trims: list[tuple[str, int]]) -> None:
        db = self._db
        if db is None:
            return
        try:
            db.execute("BEGIN")
            db.executemany("INSERT OR REPLACE INTO readings (device, n, body) VALUES (?, ?, ?)", rows)
            db.executemany("DELETE FROM readings WHERE device = ? AND n <= ?", trims)
            db.execute("COMMIT")
            self.commits += 1
        except sqlite3.Error as exc:
            if db.in_transaction:
                db.execute("ROLLBACK")
            log.warning("readings history: cannot write %d readings: %s", len(rows), exc)

    def _written(self, future: Future[None]) -> None:
        self._writing, self._busy = [], False
        if future.exception() is not None:
            log.error("readings history: the writer job failed: %r", future.exception())
        if self._again:
            self.flush()

    # -- reading -----------------------------------------------------------
    def latest(self, device: str, limit: int) -> list[str]:
        """The newest ``limit`` readings of ``device`` as JSON texts, oldest first."""
        if limit <= 0 or self._db is None:
            return []
        limit = min(limit, self.per_device)
        stored = self._reader.execute("SELECT n, body FROM readings WHERE device = ? ORDER BY n DESC LIMIT ?",
                                      (device, limit)).fetchall()
        stored.reverse()
        top = stored[-1][0] if stored else 0
        # Numbers grow per device and batches are written in order: what the
        # read did not see is exactly the rows in memory above its newest.
        newer = [(n, body) for d, n, body in self._unwritten() if d == device and n > top]
        return [body for _, body in (stored + newer)[-limit:]]

    def count(self, device: str) -> int:
        if self._db is None:
            return 0
        count, top = self._reader.execute("SELECT COUNT(*), coalesce(MAX(n), 0) FROM readings WHERE device = ?",
                                          (device,)).fetchone()
        newer = sum(1 for d, n, _ in self._unwritten() if d == device and n > top)
        return min(self.per_device, int(count) + newer)

    def _unwritten(self) -> list[Row]:
        return self._writing + self._buffer if self._writing else self._buffer

    # -- lifetime ----------------------------------------------------------
    def close(self) -> None:
        """Write what is buffered and close the file (idempotent); with a
        writer, after the batch it may still be writing (shutdown only)."""
        if self._db is None:
            return
        if self.writer is not None:
            try:
                self.writer.run(self._close_now, 30.0)
                return
            except Exception:
                log.exception("readings history %s: the last batch could not be written", self.path)
        self._close_now()

    def _close_now(self) -> None:
        db = self._db
        if db is None:
            return
        self.commit()
        if self._reader is not db:
            self._reader.close()
        db.close()
        self._db = None

    def statistics(self) -> dict[str, Any]:
        return {"path": str(self.path), "per_device": self.per_device, "appended": self.appended,
                "commits": self.commits, "uncommitted": len(self._buffer) + len(self._writing), "in_memory": self.in_memory}
