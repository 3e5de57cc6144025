"""Per-device sequence numbers that never go backwards, even across crashes.

Every reading carries ``seq`` so consumers (MQTT subscribers, the dashboard)
can spot gaps and drop duplicates after a reconnect.  That only works if a
number is never handed out twice, including after the process is killed.

Committing on every call would cost an SQLite transaction per reading, so
numbers are *reserved* in blocks: the database stores a ceiling per device,
raised by ``block`` and committed *before* any number under it is handed out.
After a crash the store resumes above the last ceiling -- numbers may jump
forward, never repeat.  A clean :meth:`SeqStore.close` lowers the ceiling to
the last number used, so an orderly restart continues without a gap.

Off the loop: given a :class:`DiskWriter` (:meth:`SeqStore.use_writer`),
the next block of a device is reserved on the writer thread when half the
current one is used, so :meth:`SeqStore.next` stays an in-memory increment.
Only if the disk is so slow that the whole half block is used before the
reservation is durable does ``next`` wait for it (counted in ``stalls``):
a number is never handed out above a ceiling that is not yet committed.
The first block of each device is still reserved synchronously.

Counters (readings, parse errors ... per device, from :meth:`count_with`)
are written in the same transactions as the ceilings: exact after a clean
:meth:`close`, at most one block behind after a crash.  A restart continues
them (:meth:`saved_counters`), so ``/metrics`` counters do not fall to zero.

Durability: WAL with ``synchronous=NORMAL`` makes a commit safe against the
process dying (SIGKILL, OOM killer), which is what this guarantees.  A power
cut can lose the newest reservation; since one happens per ``block`` numbers,
switching :data:`SYNCHRONOUS` to ``"FULL"`` would cover that for one fsync
per block.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from types import TracebackType

from circuits.core.loop import Loop

from .diskwriter import DiskWriter
from .sqlitedb import database_path, move_aside, open_database

__all__ = ["SeqStore"]

log = logging.getLogger(__name__)

DEFAULT_NAME = "seq.sqlite3"
SYNCHRONOUS = "NORMAL"
_SCHEMA_VERSION = 1


class SeqStore:
    """Sequence numbers per device name, persisted in an SQLite file.

    ``path`` is the database file, or an existing directory (the state_dir)
    to hold ``seq.sqlite3``.  Thread-safe; :meth:`next` is an in-memory
    increment except once every ``block`` calls per device.  ``timeout``
    is how long to wait for a database another process has locked.
    """

    def __init__(self, path: str | os.PathLike[str], *, block: int = 1000, timeout: float = 5.0) -> None:
        if block < 1:
            raise ValueError("block must be at least 1")
        self.path = database_path(path, DEFAULT_NAME)
        self.block = block
        self.timeout = timeout
        self._lock = threading.Lock()  # the counters
        self._db_lock = threading.Lock()  # the connection (the loop's or the writer's)
        self._next: dict[str, int] = {}
        self._ceiling: dict[str, int] = {}
        self._pending: dict[str, Future[int]] = {}  # device -> its next ceiling, being committed
        #: Returns {device: {counter: value}} when a transaction is written.
        self._counters: Callable[[], dict[str, dict[str, int]]] | None = None
        self._writer: DiskWriter | None = None
        self._loop: Callable[[], Loop] | None = None
        self.reservations = 0
        self.stalls = 0
        db = self._open()
        self._db: sqlite3.Connection | None = db
        # Devices never seen by this database start above the floor, which
        # is non-zero only after a corrupt file was replaced (see below).
        row = db.execute("SELECT value FROM meta WHERE key = 'floor'").fetchone()
        self._floor: int = row[0] if row else 0
        self._saved: dict[str, dict[str, int]] = {}
        for device, name, value in db.execute("SELECT device, name, value FROM counters"):
            self._saved.setdefault(device, {})[name] = value

    # -- opening ---------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            return self._connect(floor=0)
        except sqlite3.OperationalError:
            # Locked, read-only, out of space: the file may be fine, so it
            # must not be moved aside.  Let the caller see the real error.
            raise
        except sqlite3.DatabaseError as exc:
            aside = move_aside(self.path)
            # The old numbers are unreadable, so the new counters start from
            # the clock (microseconds since 1970): far above anything a
            # device could have reached, so numbers still never repeat as
            # long as the clock is roughly right.
            floor = time.time_ns() // 1000
            log.warning("sequence database %s is corrupt (%s); moved it to %s and started "
                        "a new one, numbering from %d", self.path, exc, aside, floor + 1)
            return self._connect(floor=floor)

    def _connect(self, floor: int) -> sqlite3.Connection:
        schema = [
            "CREATE TABLE IF NOT EXISTS seq (device TEXT PRIMARY KEY, ceiling INTEGER NOT NULL) WITHOUT ROWID",
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID",
            # Added later without a version bump: an older file just gets the table.
            "CREATE TABLE IF NOT EXISTS counters (device TEXT NOT NULL, name TEXT NOT NULL, "
            "value INTEGER NOT NULL, PRIMARY KEY (device, name)) WITHOUT ROWID",
        ]
        if floor:
            schema.append(f"INSERT OR REPLACE INTO meta VALUES ('floor', {int(floor)})")
        return open_database(self.path, synchronous=SYNCHRONOUS, schema_version=_SCHEMA_VERSION,
                             schema=schema, timeout=self.timeout)

    # -- numbers ---------------------------------------------------------

    def count_with(self, source: Callable[[], dict[str, dict[str, int]]]) -> None:
        """Persist ``source()`` (called where :meth:`next` runs, and at close) with each reservation."""
        self._counters = source

    def saved_counters(self, device: str) -> dict[str, int]:
        """The counters of ``device`` as last persisted (empty for a new device)."""
        return dict(self._saved.get(device, {}))

    def _counter_rows(self) -> list[tuple[str, str, int]]:
        if self._counters is None:
            return []
        try:
            counters = self._counters()
        except Exception as exc:
            # Counters are a convenience; the sequence numbers must still be saved.
            log.warning("sequence database %s: counters not saved: %s", self.path, exc)
            return []
        return [(device, name, int(value)) for device, values in counters.items()
                for name, value in values.items()]

    @staticmethod
    def _write_counters(db: sqlite3.Connection, rows: list[tuple[str, str, int]]) -> None:
        if rows:
            db.executemany("INSERT OR REPLACE INTO counters VALUES (?, ?, ?)", rows)

    def use_writer(self, writer: DiskWriter, loop: Callable[[], Loop]) -> None:
        """Reserve blocks ahead on ``writer``'s thread; results come back on ``loop()``."""
        self._writer, self._loop = writer, loop

    def next(self, device: str) -> int:
        """The next sequence number for ``device``: 1, 2, 3, ... per device."""
        with self._lock:
            value = self._next.get(device)
            if value is None or value > self._ceiling[device]:
                value = self._reserve(device, value)
            self._next[device] = value + 1
            if (self._writer is not None and device not in self._pending
                    and self._ceiling[device] - value < self.block // 2):
                self._reserve_ahead(device)
            return value

    def _reserve(self, device: str, value: int | None) -> int:
        """Persist a new ceiling for ``device`` now; returns the number to use."""
        pending = self._pending.pop(device, None)
        if pending is not None:
            # The disk is behind: waiting is the only way not to repeat a number.
            self.stalls += 1
            try:
                self._raise_ceiling(device, pending.result())
            except Exception as exc:
                log.warning("sequence database %s: a reservation failed (%s); reserving again", self.path, exc)
            if value is not None and value <= self._ceiling[device]:
                return value
        rows = self._counter_rows()
        with self._db_lock:
            db = self._db
            if db is None:
                raise ValueError("SeqStore is closed")
            db.execute("BEGIN IMMEDIATE")
            try:
                self._write_counters(db, rows)
                if value is None:
                    row = db.execute("SELECT ceiling FROM seq WHERE device = ?", (device,)).fetchone()
                    value = (row[0] if row else self._floor) + 1
                ceiling = value + self.block - 1
                db.execute("INSERT OR REPLACE INTO seq VALUES (?, ?)", (device, ceiling))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        self._raise_ceiling(device, ceiling)
        return value

    def _reserve_ahead(self, device: str) -> None:
        assert self._writer is not None and self._loop is not None
        ceiling = self._ceiling[device] + self.block
        rows = self._counter_rows()  # taken here, on the caller's thread, written there

        def persist() -> int:
            with self._db_lock:
                db = self._db
                if db is None:
                    raise ValueError("SeqStore is closed")
                with db:  # BEGIN ... COMMIT (ROLLBACK on error)
                    db.execute("BEGIN IMMEDIATE")
                    self._write_counters(db, rows)
                    db.execute("INSERT OR REPLACE INTO seq VALUES (?, ?)", (device, ceiling))
            return ceiling

        def done(future: Future[int]) -> None:
            with self._lock:
                if self._pending.get(device) is not future:
                    return  # next() already waited for it
                del self._pending[device]
                try:
                    self._raise_ceiling(device, future.result())
                except Exception as exc:  # next() reserves synchronously when it gets there
                    log.warning("sequence database %s: reserving ahead failed: %s", self.path, exc)

        self._pending[device] = self._writer.submit(self._loop(), persist, done)

    def _raise_ceiling(self, device: str, ceiling: int) -> None:
        if ceiling > self._ceiling.get(device, 0):
            self._ceiling[device] = ceiling
            self.reservations += 1

    def statistics(self) -> dict[str, object]:
        with self._lock:
            return {"path": str(self.path), "devices": len(self._next),
                    "reservations": self.reservations, "block": self.block, "stalls": self.stalls}

    # -- lifetime --------------------------------------------------------

    def close(self) -> None:
        """Record exactly the last numbers used, then close the database
        (after any reservation still at the writer: shutdown only)."""
        if self._writer is not None and not self._writer.closed:
            self._writer.run(lambda: None, 30.0)
        rows = self._counter_rows()
        with self._lock, self._db_lock:
            db = self._db
            if db is None:
                return
            self._db = None
            try:
                db.execute("BEGIN IMMEDIATE")
                self._write_counters(db, rows)
                # Lowering a ceiling to the last number handed out is safe:
                # nothing above it was used, and a restart then has no gap.
                db.executemany("UPDATE seq SET ceiling = ? WHERE device = ?",
                               [(n - 1, d) for d, n in self._next.items()])
                db.execute("COMMIT")
            finally:
                db.close()

    def __enter__(self) -> SeqStore:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
