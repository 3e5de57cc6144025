"""Per-device sequence numbers that never go backwards, even across crashes.

Every reading carries ``seq`` so consumers (MQTT subscribers, the dashboard)
can spot gaps and drop duplicates after a reconnect.  That only works if a
number is never handed out twice, including after the process is killed.

Writing the file for every number would cost an fsync per reading, so
numbers are *reserved* in blocks: the state file stores a ceiling per
device, raised by ``block`` and durable *before* any number under it is
handed out.  After a crash the store resumes above the last ceiling --
numbers may jump forward, never repeat.  A clean :meth:`SeqStore.close`
lowers the ceilings to the last numbers used, so an orderly restart
continues without a gap.

The state file (``seq.json`` in the state_dir) is small JSON, replaced
whole: written to a temporary file, fsynced, renamed over the old one, the
directory fsynced (:func:`gateway.statefile.replace_durably`).  So after
``kill -9`` *or a power cut* it holds the last reservation that returned,
never a torn one.  It used to be an SQLite database (``seq.sqlite3``); a
state_dir that still has one is migrated once, on open -- the only time
this module imports sqlite3, which costs a gateway about 1.5 MB of memory
for as long as it runs (issue 15).

Off the loop: given a :class:`DiskWriter` (:meth:`SeqStore.use_writer`),
the next block of a device is reserved on the writer thread when half the
current one is used, so :meth:`SeqStore.next` stays an in-memory increment.
Only if the disk is so slow that the whole half block is used before the
reservation is durable does ``next`` wait for it (counted in ``stalls``):
a number is never handed out above a ceiling that is not yet durable.
The gateway gives the store a writer of its own, so a reservation never
queues behind the spool's batches.  Devices the file already knows get
their first block at open (one write for all of them, before the loop
runs); only a device never seen before reserves its first block where
``next`` is called.

Counters (readings, parse errors ... per device, from :meth:`count_with`)
are written with the ceilings: exact after a clean :meth:`close`, at most
one block behind after a crash.  A restart continues them
(:meth:`saved_counters`), so ``/metrics`` counters do not fall to zero.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from types import TracebackType
from typing import Any

from circuits.core.loop import Loop

from .diskwriter import DiskWriter
from .statefile import database_path, move_aside, replace_durably

__all__ = ["LEGACY_NAME", "SeqStore", "SeqStoreError"]

log = logging.getLogger(__name__)

DEFAULT_NAME = "seq.json"
#: The SQLite file of earlier versions, migrated on open.
LEGACY_NAME = "seq.sqlite3"
_FORMAT = 1

Counters = dict[str, dict[str, int]]


class SeqStoreError(Exception):
    """The old sequence database could not be read (locked, unopenable):
    not corrupt, so it is left alone, and the store cannot start."""


class SeqStore:
    """Sequence numbers per device name, persisted in a small state file.

    ``path`` is the file, or an existing directory (the state_dir) to hold
    ``seq.json``.  Thread-safe; :meth:`next` is an in-memory increment
    except once every ``block`` calls per device.  ``timeout`` is how long
    a migration waits for an old SQLite file another process has locked.
    """

    def __init__(self, path: str | os.PathLike[str], *, block: int = 1000, timeout: float = 5.0) -> None:
        if block < 1:
            raise ValueError("block must be at least 1")
        self.path = database_path(path, DEFAULT_NAME)
        self.block = block
        self.timeout = timeout
        # Lock order: _lock, then _file_lock (next() holds _lock while it
        # writes a first block; the writer thread takes only _file_lock).
        self._lock = threading.Lock()  # the numbers and what is to be written
        self._file_lock = threading.Lock()  # one write of the file at a time (the loop's or the writer's)
        self._closed = False
        self._version = 0  # of the snapshots of the state taken for writing
        self._written = 0  # the newest version that is durable
        self._next: dict[str, int] = {}
        self._ceiling: dict[str, int] = {}  # durable: numbers up to here may be handed out
        self._pending: dict[str, Future[int]] = {}  # device -> its next ceiling, being written
        #: Returns {device: {counter: value}} when the file is written.
        self._counters: Callable[[], Counters] | None = None
        self._writer: DiskWriter | None = None
        self._loop: Callable[[], Loop] | None = None
        self.reservations = 0
        self.stalls = 0
        self.writes = 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        state = self._load()
        # Devices never seen by this file start above the floor, which is
        # non-zero only after a corrupt file was replaced (see _fresh).
        self._floor: int = state["floor"]
        #: What the next write puts in the file; ceilings only ever rise here,
        #: except at close (down to the last numbers used).
        self._to_write: dict[str, int] = dict(state["ceilings"])
        self._saved: Counters = {d: dict(c) for d, c in state["counters"].items()}
        self._counts: Counters = {d: dict(c) for d, c in state["counters"].items()}
        if self._to_write:
            # The first block of every device the file knows, in one write,
            # now: before the loop runs, not at each device's first reading.
            for device, ceiling in state["ceilings"].items():
                self._next[device] = ceiling + 1
                self._to_write[device] = ceiling + block
            self._write(*self._snapshot())
            for device, ceiling in self._to_write.items():
                self._raise_ceiling(device, ceiling)

    # -- the file ----------------------------------------------------------

    def _load(self) -> dict[str, Any]:
        stale = self.path.with_name(self.path.name + ".tmp")
        if stale.exists():
            stale.unlink()  # a write that a crash cut short: the real file is intact
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            legacy = self.path.with_name(LEGACY_NAME)
            # Nothing to write for a new store: its first reservation writes the file.
            return self._migrate(legacy) if legacy.exists() else _empty(0)
        try:
            return _parse(data)
        except ValueError as exc:
            return self._fresh(self.path, exc, sides=())

    def _fresh(self, bad: Path, exc: Exception, sides: tuple[str, ...]) -> dict[str, Any]:
        """A new state numbering from the clock, durable before ``bad`` is forgotten."""
        aside = move_aside(bad, sides)
        # The old numbers are unreadable, so the new counters start from
        # the clock (microseconds since 1970): far above anything a device
        # could have reached, so numbers still never repeat as long as the
        # clock is roughly right.
        floor = time.time_ns() // 1000
        log.warning("sequence store %s is corrupt (%s); moved it to %s and started "
                    "a new one, numbering from %d", bad, exc, aside, floor + 1)
        state = _empty(floor)
        self._write_state(state)
        return state

    def _migrate(self, legacy: Path) -> dict[str, Any]:
        """Read the SQLite file of earlier versions into a state, once."""
        # Here, not at the top: only a state_dir from before the state file
        # pays for sqlite3, and only while it is read.
        import sqlite3

        try:
            db = sqlite3.connect(f"file:{legacy}?mode=rw", uri=True, timeout=self.timeout,
                                 isolation_level=None)
        except sqlite3.OperationalError as exc:
            raise SeqStoreError(f"cannot open {legacy}: {exc}") from exc
        try:
            try:
                # A shared lock for the whole read: one consistent view.
                db.execute("BEGIN")
                ceilings = dict(db.execute("SELECT device, ceiling FROM seq").fetchall())
                floor_row = db.execute("SELECT value FROM meta WHERE key = 'floor'").fetchone()
                counters: Counters = {}
                try:
                    rows = db.execute("SELECT device, name, value FROM counters").fetchall()
                except sqlite3.OperationalError:
                    rows = []  # a file from before the counters table
                for device, name, value in rows:
                    counters.setdefault(device, {})[name] = int(value)
                db.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                if "locked" in str(exc) or "busy" in str(exc):
                    raise SeqStoreError(f"cannot read {legacy}: {exc}") from exc
                raise sqlite3.DatabaseError(str(exc)) from exc
        except sqlite3.DatabaseError as exc:
            db.close()
            return self._fresh(legacy, exc, sides=("-wal", "-shm"))
        db.close()
        state = {"floor": int(floor_row[0]) if floor_row else 0,
                 "ceilings": {str(d): int(c) for d, c in ceilings.items()}, "counters": counters}
        self._write_state(state)
        # Kept, renamed, for whoever wants to look; never read again.
        done = legacy.with_name(legacy.name + ".migrated")
        os.replace(legacy, done)
        for suffix in ("-wal", "-shm"):
            side = legacy.with_name(legacy.name + suffix)
            if side.exists():
                side.unlink()  # closing the last connection checkpointed it
        log.info("sequence store: migrated %s to %s (%d devices)", legacy, self.path, len(ceilings))
        return state

    def _write_state(self, state: dict[str, Any]) -> None:
        document = {"format": _FORMAT, "floor": state["floor"], "ceilings": state["ceilings"],
                    "counters": state["counters"]}
        replace_durably(self.path, json.dumps(document, separators=(",", ":"), sort_keys=True).encode())
        self.writes += 1

    def _snapshot(self) -> tuple[int, dict[str, Any]]:
        """The state to write now, and its version (caller holds ``_lock``)."""
        self._version += 1
        return self._version, {"floor": self._floor, "ceilings": dict(self._to_write),
                               "counters": {d: dict(c) for d, c in self._counts.items()}}

    def _write(self, version: int, state: dict[str, Any]) -> None:
        """Make a snapshot durable (any thread; one write at a time).

        Ceilings only rise from one snapshot to the next (close aside, which
        is the last), so once a newer one is durable an older one has
        nothing to add: it is skipped, and its waiter is served all the same.
        """
        with self._file_lock:
            if self._closed:
                raise ValueError("SeqStore is closed")
            if version <= self._written:
                return
            self._write_state(state)
            self._written = version

    # -- numbers ---------------------------------------------------------

    def count_with(self, source: Callable[[], Counters]) -> None:
        """Persist ``source()`` (called where :meth:`next` runs, and at close) with each reservation."""
        self._counters = source

    def saved_counters(self, device: str) -> dict[str, int]:
        """The counters of ``device`` as last persisted (empty for a new device)."""
        return dict(self._saved.get(device, {}))

    def _take_counters(self) -> None:
        """Fold ``source()`` into what the next write holds (caller holds ``_lock``)."""
        if self._counters is None:
            return
        try:
            counters = self._counters()
            for device, values in counters.items():
                self._counts.setdefault(device, {}).update(
                    (name, int(value)) for name, value in values.items())
        except Exception as exc:
            # Counters are a convenience; the sequence numbers must still be saved.
            log.warning("sequence store %s: counters not saved: %s", self.path, exc)

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
        """Make a new ceiling for ``device`` durable now (caller holds ``_lock``); the number to use."""
        pending = self._pending.pop(device, None)
        if pending is not None:
            # The disk is behind: waiting is the only way not to repeat a number.
            self.stalls += 1
            try:
                self._raise_ceiling(device, pending.result())
            except Exception as exc:
                log.warning("sequence store %s: a reservation failed (%s); reserving again", self.path, exc)
            if value is not None and value <= self._ceiling[device]:
                return value
        if self._closed:
            raise ValueError("SeqStore is closed")
        if value is None:
            value = self._floor + 1  # a device the file does not know (known ones got a block at open)
        ceiling = value + self.block - 1
        self._to_write[device] = max(self._to_write.get(device, 0), ceiling)
        self._take_counters()
        self._write(*self._snapshot())  # holding _lock: no other caller may take these numbers
        self._raise_ceiling(device, ceiling)
        return value

    def _reserve_ahead(self, device: str) -> None:
        """Ask the writer to make the next block durable (caller holds ``_lock``)."""
        assert self._writer is not None and self._loop is not None
        if self._closed:
            return  # next() reserves synchronously, and says the store is closed
        ceiling = self._ceiling[device] + self.block
        self._to_write[device] = max(self._to_write.get(device, 0), ceiling)
        self._take_counters()  # taken here, on the caller's thread, written there
        snapshot = self._snapshot()

        def persist() -> int:
            self._write(*snapshot)
            return ceiling

        def done(future: Future[int]) -> None:
            with self._lock:
                if self._pending.get(device) is not future:
                    return  # next() already waited for it
                del self._pending[device]
                try:
                    self._raise_ceiling(device, future.result())
                except Exception as exc:  # next() reserves synchronously when it gets there
                    log.warning("sequence store %s: reserving ahead failed: %s", self.path, exc)

        self._pending[device] = self._writer.submit(self._loop(), persist, done)

    def _raise_ceiling(self, device: str, ceiling: int) -> None:
        if ceiling > self._ceiling.get(device, 0):
            self._ceiling[device] = ceiling
            self.reservations += 1

    def statistics(self) -> dict[str, object]:
        with self._lock:
            return {"path": str(self.path), "devices": len(self._next), "reservations": self.reservations,
                    "block": self.block, "stalls": self.stalls, "writes": self.writes}

    # -- lifetime --------------------------------------------------------

    def close(self) -> None:
        """Record exactly the last numbers used (after any reservation still
        at the writer: shutdown only), then refuse new blocks."""
        if self._writer is not None and not self._writer.closed:
            self._writer.run(lambda: None, 30.0)
        with self._lock:
            if self._closed:
                return
            self._take_counters()
            # Lowering a ceiling to the last number handed out is safe:
            # nothing above it was used, and a restart then has no gap.
            for device, value in self._next.items():
                self._to_write[device] = value - 1
            snapshot = self._snapshot()
        try:
            self._write(*snapshot)
        finally:
            with self._lock:
                self._closed = True

    def __enter__(self) -> SeqStore:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def _empty(floor: int) -> dict[str, Any]:
    return {"floor": floor, "ceilings": {}, "counters": {}}


def _parse(data: bytes) -> dict[str, Any]:
    """The state in a file's bytes; ValueError if they are not a state file this version reads."""
    document = json.loads(data)  # JSONDecodeError is a ValueError
    if not isinstance(document, dict) or document.get("format") != _FORMAT:
        raise ValueError(f"not a sequence state file of format {_FORMAT}")
    try:
        ceilings = {str(d): int(c) for d, c in document["ceilings"].items()}
        counters = {str(d): {str(n): int(v) for n, v in values.items()}
                    for d, values in document["counters"].items()}
        return {"floor": int(document["floor"]), "ceilings": ceilings, "counters": counters}
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"malformed sequence state file: {exc!r}") from exc
