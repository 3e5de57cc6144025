"""Store-and-forward spool: outgoing messages kept in SQLite until acknowledged.

The MQTT uplink appends every reading here first and deletes it only when
the broker acknowledged it, so nothing is lost while the broker is down or
slow, nor when the gateway is killed. The MQTT client keeps nothing in
memory across connections: what was not acknowledged is sent again from here.

This is the storage half, used by one thread at a time: in the gateway that
is the disk writer thread, driven by :class:`gateway.spoolqueue.SpoolQueue`,
so the loop never waits for a commit (see there for the hand-over).

Batching: :meth:`Spool.append` and :meth:`Spool.ack` only buffer in memory;
:meth:`Spool.commit` writes the whole batch in one transaction (group
commit: one fsync however many rows). A row counts as *accepted* once the
commit that wrote it has returned; :attr:`Spool.last_accepted` lists them.

Durability: the default is WAL with ``synchronous="FULL"``: a commit
returns only after an fsync, so an accepted reading survives a power cut
(the issue's promise), not just the process dying. It costs one fsync per
commit; batches grow when the disk is slow, so throughput mostly holds.
``synchronous="NORMAL"`` is safe against SIGKILL/OOM/crashes only (the WAL
frames sit in the kernel's page cache) and is faster; pick it for a board
with battery-backed power or a wear-sensitive card.

Bound: the logical size (topic + payload + a per-row overhead) is kept at
most ``max_bytes``; past it the oldest rows are deleted and counted in
``dropped`` (persisted, and logged), never silently.

A corrupt or unreadable file is moved aside as ``<name>.corrupt-<stamp>``
with a log line and a fresh spool is started; if even that fails the spool
lives in memory (logged loudly) so the gateway keeps running.
"""

from __future__ import annotations

import functools
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Literal, TypeVar

from .sqlitedb import database_path, move_aside, open_database

__all__ = ["DEFAULT_NAME", "ROW_OVERHEAD", "Spool", "SpoolRow"]

log = logging.getLogger(__name__)

DEFAULT_NAME = "spool.sqlite3"
#: Bytes counted per row on top of topic and payload (rowid, record header,
#: b-tree cell): makes the bound roughly the size of the file.
ROW_OVERHEAD = 32
_SCHEMA_VERSION = 1

SpoolRow = tuple[int, str, bytes, int]  # (id, topic, payload, qos)
#: Benchmark-only: milliseconds every commit is held inside its transaction
#: (an SD card's fsync, for the stall benchmark). Unset in production.
SLOW_COMMIT_ENV = "GATEWAY_SPOOL_SLOW_COMMIT_MS"
#: Statement sizes (rows per INSERT, ids per DELETE), largest first: big
#: statements, because each statement step lets the GIL go and the loop
#: thread, busy at thousands of readings/s, keeps it until its switch
#: interval (5 ms) is up; row by row (executemany) a 5,000-row commit took
#: ~200 ms that way. A few fixed sizes, so the connection's statement cache
#: holds a few statements, not one per batch size. Those over the library's
#: parameter limit (999 before SQLite 3.32) are not used.
_SIZES = (4096, 1024, 256, 64, 16, 4, 1)
Synchronous = Literal["OFF", "NORMAL", "FULL"]
T = TypeVar("T")


def _slow_commit_from_environment() -> Callable[[], object] | None:
    value = os.environ.get(SLOW_COMMIT_ENV)
    if not value:
        return None
    try:
        delay = float(value) / 1000
    except ValueError:
        log.error("%s=%r is not a number of milliseconds: ignored", SLOW_COMMIT_ENV, value)
        return None
    log.warning("%s=%s: every spool commit is slowed by %g ms (benchmark hook)", SLOW_COMMIT_ENV, value,
                delay * 1000)
    return lambda: time.sleep(delay)


class Spool:
    """An ordered, bounded, durable queue of (topic, payload, qos) rows.

    ``path`` is the database file or an existing directory (the state_dir)
    to hold ``spool.sqlite3``. Not thread-safe: one thread at a time
    (the loop, or the disk writer thread that :class:`SpoolQueue` drives).
    """

    def __init__(self, path: str | os.PathLike[str], max_bytes: int = 64 << 20, *,
                 synchronous: Synchronous = "FULL", busy_timeout: float = 5.0) -> None:
        if max_bytes < 1:
            raise ValueError("max_bytes must be positive")
        self.path = database_path(path, DEFAULT_NAME)
        self.max_bytes = max_bytes
        self.synchronous = synchronous
        self.busy_timeout = busy_timeout  # seconds to wait for another process's lock
        self._buffer: list[SpoolRow] = []  # appended, not yet committed
        self._acked: list[int] = []  # acknowledged, not yet deleted
        self._acked_set: set[int] = set()
        #: The rows the last successful commit made durable, oldest first.
        self.last_accepted: list[SpoolRow] = []
        #: Test and benchmark hook: called inside every commit's transaction,
        #: just before COMMIT, on the committing thread -- a controlled slow
        #: disk (block on an Event, sleep like an SD card's fsync). None in
        #: production (unless the benchmark variable SLOW_COMMIT_ENV is set).
        self.before_commit: Callable[[], object] | None = _slow_commit_from_environment()
        self._next_id = 1
        self._parameters = 999  # per statement: the library's limit once open
        self._rows = 0  # committed rows
        self._bytes = 0  # committed logical bytes
        self._buffer_bytes = 0
        self.dropped = 0  # total, persisted across restarts
        self.appended = 0  # this process
        self.committed = 0  # rows accepted by this process
        self.commits = 0
        self.moved_aside: list[Path] = []
        self.in_memory = False
        self._last_error_log = self._last_drop_log = -1e9
        self._db = self._open()

    # -- opening -----------------------------------------------------------
    def _open(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            return self._connect(str(self.path))
        except sqlite3.DatabaseError as exc:  # includes "unable to open database file"
            if "locked" in str(exc) or "busy" in str(exc):
                # Another process (a second gateway?) holds it: the file is fine
                # and not ours to move.
                log.critical("spool %s is locked by another process (%s): spooling IN MEMORY ONLY",
                             self.path, exc)
                self.in_memory = True
                return self._connect(":memory:")
            try:
                aside = self._move_aside()
                log.error("spool %s is corrupt or unreadable (%s); moved it to %s and started "
                          "a new, empty spool", self.path, exc, aside)
                return self._connect(str(self.path))
            except (OSError, sqlite3.DatabaseError) as again:
                log.critical("spool %s cannot be used (%s, then %s): spooling IN MEMORY ONLY; "
                             "readings will not survive a restart", self.path, exc, again)
        except OSError as exc:
            log.critical("spool directory %s is not usable (%s): spooling IN MEMORY ONLY",
                         self.path.parent, exc)
        self.in_memory = True
        return self._connect(":memory:")

    def _connect(self, name: str) -> sqlite3.Connection:
        db = open_database(name, synchronous=self.synchronous, schema_version=_SCHEMA_VERSION, schema=(
            "CREATE TABLE IF NOT EXISTS spool (id INTEGER PRIMARY KEY,"
            " topic TEXT NOT NULL, payload BLOB NOT NULL, qos INTEGER NOT NULL)",
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID",
        ), timeout=self.busy_timeout, require_wal=True)
        try:
            self._parameters = db.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
            # After a checkpoint the WAL is truncated to this size, so a burst
            # does not leave a large file behind.
            db.execute("PRAGMA journal_size_limit = 4194304")
            rows, size, top = db.execute(
                "SELECT count(*), coalesce(sum(length(topic) + length(payload)), 0),"
                " coalesce(max(id), 0) FROM spool").fetchone()
            dropped = db.execute("SELECT value FROM meta WHERE key = 'dropped'").fetchone()
        except BaseException:
            db.close()
            raise
        self._rows = rows
        self._bytes = size + rows * ROW_OVERHEAD
        # Ids only grow in this process: the uplink's cursor relies on it.
        self._next_id = max(self._next_id, top + 1)
        self.dropped = max(self.dropped, dropped[0] if dropped else 0)
        return db

    def _move_aside(self) -> Path:
        aside = move_aside(self.path)
        self.moved_aside.append(aside)
        return aside

    def _recover(self, exc: sqlite3.DatabaseError) -> None:
        """The file went bad while in use: start over (what it held is lost)."""
        lost = self._rows
        try:
            self._db.close()
        except sqlite3.Error:
            pass
        self._rows = self._bytes = 0
        self._acked.clear()
        self._acked_set.clear()
        if self.in_memory:
            self._db = self._connect(":memory:")
            return
        try:
            aside = self._move_aside()
        except OSError as err:
            log.critical("spool %s failed (%s) and cannot be moved aside (%s): spooling IN MEMORY",
                         self.path, exc, err)
            self.in_memory = True
            self._db = self._connect(":memory:")
            return
        log.error("spool %s failed while in use (%s); moved it to %s with %d unsent rows "
                  "(recoverable with sqlite3 .recover) and started a new spool", self.path, exc, aside, lost)
        self._db = self._open()

    # -- writing -----------------------------------------------------------
    def append(self, topic: str, payload: bytes, qos: int) -> int:
        """Buffer a row; it is accepted (durable) after the next :meth:`commit`."""
        row_id = self._next_id
        self._next_id = row_id + 1
        self._buffer.append((row_id, topic, payload, qos))
        self._buffer_bytes += len(topic) + len(payload) + ROW_OVERHEAD
        self.appended += 1
        return row_id

    def append_many(self, rows: Iterable[tuple[str, bytes, int]]) -> None:
        """:meth:`append` for a batch of (topic, payload, qos), in order.

        The writer thread buffers thousands of rows a second this way: one
        call per batch instead of one per row (it holds the GIL meanwhile,
        which the loop thread then waits for).
        """
        start = self._next_id
        batch = [(start + i, topic, payload, qos) for i, (topic, payload, qos) in enumerate(rows)]
        if not batch:
            return
        self._next_id = start + len(batch)
        self._buffer.extend(batch)
        self._buffer_bytes += sum([len(row[1]) + len(row[2]) for row in batch]) + ROW_OVERHEAD * len(batch)
        self.appended += len(batch)

    def ack(self, row_id: int) -> None:
        """The row was delivered: delete it at the next :meth:`commit`."""
        if row_id not in self._acked_set:
            self._acked_set.add(row_id)
            self._acked.append(row_id)

    def ack_many(self, row_ids: Iterable[int]) -> None:
        """:meth:`ack` for a batch of rows."""
        known = self._acked_set
        new = [row_id for row_id in dict.fromkeys(row_ids) if row_id not in known]
        known.update(new)
        self._acked.extend(new)

    def commit(self) -> int:
        """Write buffered rows and deletions in one transaction; returns rows accepted."""
        return self._commit(retry=True)

    def _commit(self, retry: bool) -> int:
        buffer, acked = self._buffer, self._acked
        if not buffer and not acked:
            return 0
        db = self._db
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                deleted, freed = self._delete(db, acked) if acked else (0, 0)
                if buffer:
                    self._insert(db, buffer)
                rows = self._rows - deleted + len(buffer)
                size = self._bytes - freed + self._buffer_bytes
                dropped = 0
                if size > self.max_bytes:
                    dropped, freed = self._trim(db, size - self.max_bytes)
                    rows -= dropped
                    size -= freed
                    db.execute("INSERT OR REPLACE INTO meta VALUES ('dropped', ?)",
                               (self.dropped + dropped,))
                if self.before_commit is not None:
                    self.before_commit()
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        except sqlite3.OperationalError as exc:
            # Disk full, I/O error, locked: the file may be fine. Keep the batch
            # in memory (bounded like the file) and try again next pass.
            self._bound_buffer()
            now = time.monotonic()
            if now - self._last_error_log > 10:
                self._last_error_log = now
                log.error("spool %s: commit failed (%s); %d rows held in memory, retrying",
                          self.path, exc, len(self._buffer))
            return 0
        except sqlite3.DatabaseError as exc:
            self._recover(exc)
            return self._commit(retry=False) if retry else 0
        accepted = len(buffer)
        self._rows, self._bytes = rows, size
        self.last_accepted = buffer
        self._buffer, self._buffer_bytes = [], 0
        self._acked, self._acked_set = [], set()
        self.committed += accepted
        self.commits += 1
        if dropped:
            now = time.monotonic()
            if now - self._last_drop_log > 10:  # counted always, logged at most every 10 s
                self._last_drop_log = now
                log.warning("spool %s is full (%d bytes): dropped the %d oldest rows (%d in total)",
                            self.path, self.max_bytes, dropped, self.dropped + dropped)
            self.dropped += dropped
        return accepted

    def _insert(self, db: sqlite3.Connection, rows: list[SpoolRow]) -> None:
        """INSERT ``rows`` in a few multi-row statements (see _SIZES)."""
        for chunk in _pieces(rows, self._parameters // 4):
            db.execute(_insert_statement(len(chunk)), [value for row in chunk for value in row])

    def _delete(self, db: sqlite3.Connection, acked: list[int]) -> tuple[int, int]:
        """Delete acknowledged rows; returns (rows, logical bytes) really freed.

        Measured from the rows themselves, so an ack of a row the bound
        already dropped, or a second ack of one row, frees nothing.
        """
        deleted = freed = 0
        for chunk in _pieces(acked, self._parameters):
            marks = ",".join("?" * len(chunk))
            count, size = db.execute("SELECT count(*), coalesce(sum(length(topic) + length(payload)), 0)"
                                     f" FROM spool WHERE id IN ({marks})", chunk).fetchone()
            if count:
                db.execute(f"DELETE FROM spool WHERE id IN ({marks})", chunk)
                deleted += count
                freed += size + count * ROW_OVERHEAD
        return deleted, freed

    def _trim(self, db: sqlite3.Connection, excess: int) -> tuple[int, int]:
        """Delete the oldest rows until ``excess`` bytes are freed; returns (rows, bytes)."""
        freed = count = 0
        last = 0
        while freed < excess:
            chunk = db.execute("SELECT id, length(topic) + length(payload) FROM spool WHERE id > ?"
                               " ORDER BY id LIMIT 1000", (last,)).fetchall()
            if not chunk:
                break
            for row_id, size in chunk:
                freed += size + ROW_OVERHEAD
                count += 1
                last = row_id
                if freed >= excess:
                    break
        if last:
            db.execute("DELETE FROM spool WHERE id <= ?", (last,))
        return count, freed

    def _bound_buffer(self) -> None:
        excess = self._buffer_bytes - self.max_bytes
        if excess <= 0:
            return
        cut = freed = 0
        for _, topic, payload, _ in self._buffer:
            freed += len(topic) + len(payload) + ROW_OVERHEAD
            cut += 1
            if freed >= excess:
                break
        del self._buffer[:cut]
        self._buffer_bytes -= freed
        self.dropped += cut
        log.warning("spool %s: memory buffer full, dropped the %d oldest rows", self.path, cut)

    # -- reading -----------------------------------------------------------
    def pending(self, limit: int, after: int = 0) -> list[SpoolRow]:
        """Up to ``limit`` committed, unacknowledged rows with id > ``after``, oldest first."""
        try:
            rows = self._db.execute("SELECT id, topic, payload, qos FROM spool WHERE id > ?"
                                    " ORDER BY id LIMIT ?", (after, limit + len(self._acked))).fetchall()
        except sqlite3.OperationalError as exc:
            log.error("spool %s: read failed (%s)", self.path, exc)
            return []
        except sqlite3.DatabaseError as exc:
            self._recover(exc)
            return []
        if self._acked_set:
            rows = [r for r in rows if r[0] not in self._acked_set]
        return rows[:limit]

    @property
    def depth(self) -> int:
        """Rows not yet delivered: committed ones plus the uncommitted batch."""
        return max(0, self._rows + len(self._buffer) - len(self._acked))

    @property
    def committed_rows(self) -> int:
        """Rows in the file (durable), acknowledged or not."""
        return self._rows

    @property
    def uncommitted(self) -> int:
        """Rows appended and not yet written by a commit."""
        return len(self._buffer)

    @property
    def size(self) -> int:
        """Logical bytes held (committed), the quantity bounded by ``max_bytes``."""
        return self._bytes

    def statistics(self) -> dict[str, Any]:
        return {"path": str(self.path), "depth": self.depth, "bytes": self._bytes,
                "max_bytes": self.max_bytes, "dropped": self.dropped, "appended": self.appended,
                "committed": self.committed, "uncommitted": len(self._buffer), "commits": self.commits,
                "in_memory": self.in_memory, "moved_aside": [str(p) for p in self.moved_aside]}

    # -- lifetime ----------------------------------------------------------
    def close(self) -> None:
        """Commit what is buffered and close the file."""
        if self._db is None:  # type: ignore[comparison-overlap]
            return
        self.commit()
        self._db.close()
        self._db = None  # type: ignore[assignment]

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _pieces(items: list[T], limit: int) -> Iterator[list[T]]:
    """``items`` cut into runs of the _SIZES (at most ``limit`` each), in order."""
    sizes = [size for size in _SIZES if size <= limit] or [1]
    start, end = 0, len(items)
    while start < end:
        left = end - start
        size = next((size for size in sizes if size <= left), 1)
        yield items[start:start + size]
        start += size


@functools.cache
def _insert_statement(rows: int) -> str:
    return "INSERT INTO spool VALUES " + ",".join(["(?,?,?,?)"] * rows)
