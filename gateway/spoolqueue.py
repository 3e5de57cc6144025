"""SpoolQueue: the loop's side of the spool; the disk is the writer thread's.

The loop never waits on the disk. Readings to spool are handed over in
memory (:meth:`SpoolQueue.append`); whenever the :class:`DiskWriter` is
idle, everything handed over since its last job goes to it as one batch,
written in one transaction with one fsync (group commit: the slower the
disk, the larger the batches). When the commit returned, the batch's rows
are *accepted* -- durable, ``synchronous=FULL`` unless configured
otherwise -- and only then may they be published (:meth:`take`). So after
``kill -9`` or a power cut every accepted reading is still in the file.

Only one job is at the writer at a time: that keeps the batches in order,
and a job that also reads rows back (see below) sees every earlier commit.

Publishing: accepted rows are kept in memory, in order, up to ``ready_max``
of them (what a broker that is up takes next). Past that, or after a
reconnect (everything unacknowledged goes out again), the queue is behind
the file: it asks the writer to read the next rows back from disk, in the
same job as a commit (as many as the ready queue has room for), and goes
on from memory once a read comes back short.

Backpressure: the hand-over is bounded (``max_handover_bytes``). When the
disk cannot keep up and it is full, the oldest rows not yet accepted are
dropped and counted (``overflow_dropped``, logged at most every 10 s):
memory stays bounded, and what was accepted is never touched.

Acknowledgements ride along with the next job; when they are all there is
to write they wait ``ack_delay`` (0.1 s) for company, so a steady trickle of
readings costs one commit per reading, not two.

A failed commit (disk full, I/O error) leaves the rows in the spool's own
bounded buffer; the queue tries again after ``retry_delay`` seconds.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from circuits.core.loop import Loop, TimerHandle

from .diskwriter import DiskWriter
from .spool import ROW_OVERHEAD, Spool, SpoolRow

__all__ = ["DEFAULT_HANDOVER_BYTES", "SpoolQueue"]

log = logging.getLogger(__name__)

#: Bytes of readings waiting for the disk before the oldest are dropped:
#: seconds of readings at thousands/s, far more than one slow fsync.
DEFAULT_HANDOVER_BYTES = 4 << 20
#: Accepted rows kept in memory for publishing.
DEFAULT_READY = 8192
#: Rows read back from disk at a time when the queue is behind the file, at
#: least: a read fills the ready queue up to ``ready_max``.
DEFAULT_FETCH = 1024
#: Seconds before a failed commit is tried again.
RETRY_DELAY = 1.0
#: Seconds acknowledgements wait for company when they are all there is to
#: write: nothing waits for a deletion (an acked row still in the file after
#: a crash is sent once more, a QoS 1 duplicate), and at a steady 1,000
#: readings/s a commit per ack was half of all commits -- an fsync each,
#: and a writer job whose completion the loop handles.
ACK_DELAY = 0.1

Message = tuple[str, bytes, int]  # (topic, payload, qos)


@dataclass(slots=True)
class _Written:
    """What one writer job reports back to the loop."""

    accepted: list[SpoolRow]
    fetched: list[SpoolRow] | None
    rows: int  # committed rows in the file
    size: int
    dropped: int
    uncommitted: int
    in_memory: bool


class SpoolQueue:
    """Hands spool writes to the writer thread and rows to publish back (see module doc).

    ``loop`` returns the loop the results come back on (called on the loop
    thread, when a job is submitted); ``on_accepted`` runs there after each
    job, so the owner can publish what became available.
    """

    def __init__(self, store: Spool, writer: DiskWriter, loop: Callable[[], Loop],
                 on_accepted: Callable[[], object], *, max_handover_bytes: int = DEFAULT_HANDOVER_BYTES,
                 ready_max: int = DEFAULT_READY, fetch_limit: int = DEFAULT_FETCH,
                 retry_delay: float = RETRY_DELAY, ack_delay: float = ACK_DELAY) -> None:
        self.store = store
        self.writer = writer
        self._loop = loop
        self._on_accepted = on_accepted
        self.max_handover_bytes = max(1, max_handover_bytes)
        self.ready_max = max(1, ready_max)
        self.fetch_limit = max(1, fetch_limit)
        #: While behind, the next read is asked for once fewer rows are ready.
        self._refill_below = max(self.fetch_limit // 2, self.ready_max // 2)
        self.retry_delay = retry_delay
        self.ack_delay = ack_delay
        self._ack_timer: TimerHandle | None = None
        self._handover: deque[Message] = deque()
        self._handover_bytes = 0
        self._acks: list[int] = []
        self._ready: deque[SpoolRow] = deque()
        self._cursor = 0  # highest row id taken since the last rewind
        # Rows on disk the ready queue does not hold (a previous run's, or
        # past ready_max): read back before anything newer is published.
        self._behind = store.depth > 0
        self._want_fetch = self._behind
        self._rewinds = 0
        self._busy = False  # a job is at the writer
        self._in_job = 0  # rows handed over in that job
        self._acks_unwritten = 0  # acks not yet deleted by a finished job
        self._retry: TimerHandle | None = None
        self._closed = False
        self._last_drop_log = -1e9
        # Figures as of the last finished job (the store belongs to the writer).
        self._rows = store.depth
        self._size = store.size
        self._store_dropped = store.dropped
        self._uncommitted = 0
        self.in_memory = store.in_memory
        self.appended = 0
        self.committed = 0  # rows accepted by this process
        self.overflow_dropped = 0
        self.fetches = 0
        self.commits = 0  # writer jobs finished (one transaction each)

    # -- the loop's side ---------------------------------------------------
    def append(self, topic: str, payload: bytes, qos: int) -> None:
        """Hand a row over; it is accepted once a commit wrote it (see :meth:`flush`)."""
        if self._closed:
            return
        size = len(topic) + len(payload) + ROW_OVERHEAD
        self._handover.append((topic, payload, qos))
        self._handover_bytes += size
        self.appended += 1
        if self._handover_bytes > self.max_handover_bytes:
            self._overflow()

    def ack(self, row_id: int) -> None:
        """The row was delivered: deleted by the next commit."""
        self._acks.append(row_id)
        self._acks_unwritten += 1

    def flush(self) -> None:
        """Give the writer what is waiting, unless it is still busy with a job
        (then it all goes in one batch when that job is done)."""
        if self._busy or self._closed:
            return
        if self._handover or self._want_fetch or self._uncommitted:
            self._submit()
        elif self._acks and self._ack_timer is None:
            # Only deletions: they go with the next rows, or after ack_delay.
            self._ack_timer = self._loop().call_later(self.ack_delay, self._acks_due)

    def _acks_due(self) -> None:
        self._ack_timer = None
        if self._acks and not self._busy and not self._closed:
            self._submit()

    def take(self, limit: int) -> list[SpoolRow]:
        """Up to ``limit`` accepted rows not taken yet, oldest first."""
        ready = self._ready
        count = min(limit, len(ready))
        rows = [ready.popleft() for _ in range(count)]
        if rows:
            self._cursor = rows[-1][0]
        if self._behind and len(ready) < self._refill_below and not self._want_fetch:
            self._want_fetch = True
            self.flush()
        return rows

    def rewind(self) -> None:
        """Start over from the oldest unacknowledged row (a new connection:
        what was in flight must go again)."""
        self._ready.clear()
        self._cursor = 0
        self._behind = self._want_fetch = True
        self._rewinds += 1
        self.flush()

    # -- figures -------------------------------------------------------------
    @property
    def depth(self) -> int:
        """Accepted rows not yet acknowledged: what the file holds for the broker."""
        return max(0, self._rows - self._acks_unwritten)

    @property
    def unaccepted(self) -> int:
        """Rows handed over and not yet durable."""
        return len(self._handover) + self._in_job + self._uncommitted

    @property
    def size(self) -> int:
        return self._size

    @property
    def dropped(self) -> int:
        """Rows lost before the broker took them: the full spool's oldest,
        and the unaccepted ones the hand-over had no room for."""
        return self._store_dropped + self.overflow_dropped

    def statistics(self) -> dict[str, Any]:
        return {"path": str(self.store.path), "depth": self.depth, "bytes": self._size,
                "max_bytes": self.store.max_bytes, "dropped": self.dropped,
                "spool_dropped": self._store_dropped, "overflow_dropped": self.overflow_dropped,
                "appended": self.appended, "committed": self.committed, "unaccepted": self.unaccepted,
                "handover_bytes": self._handover_bytes, "ready": len(self._ready), "behind": self._behind,
                "fetches": self.fetches, "commits": self.commits, "in_memory": self.in_memory,
                "moved_aside": [str(p) for p in self.store.moved_aside]}

    # -- the hand-over -------------------------------------------------------
    def _overflow(self) -> None:
        handover = self._handover
        cut = 0
        while self._handover_bytes > self.max_handover_bytes and len(handover) > 1:
            topic, payload, _ = handover.popleft()
            self._handover_bytes -= len(topic) + len(payload) + ROW_OVERHEAD
            cut += 1
        self.overflow_dropped += cut
        now = time.monotonic()
        if cut and now - self._last_drop_log > 10:
            self._last_drop_log = now
            log.warning("spool %s: the disk is not keeping up; dropped the %d oldest readings not yet "
                        "written (%d in total)", self.store.path, cut, self.overflow_dropped)

    def _submit(self) -> None:
        if self._ack_timer is not None:  # the acks go with this job
            self._ack_timer.cancel()
            self._ack_timer = None
        rows, self._handover, self._handover_bytes = list(self._handover), deque(), 0
        acks, self._acks = self._acks, []
        fetch: tuple[int, int] | None = None
        if self._want_fetch:
            self._want_fetch = False
            after = self._ready[-1][0] if self._ready else self._cursor
            # Fill the ready queue in one read: 1,024 rows a job could not
            # keep up with a burst that accepts thousands a job, and the
            # queue then stayed behind the file (and publishing starved)
            # for as long as the burst lasted.
            fetch = (after, max(self.fetch_limit, self.ready_max - len(self._ready)))
        self._busy = True
        self._in_job = len(rows)
        rewinds = self._rewinds
        self.writer.submit(self._loop(), lambda: self._write(rows, acks, fetch),
                           lambda future: self._written(future, len(acks), fetch, rewinds))

    def _write(self, rows: list[Message], acks: list[int], fetch: tuple[int, int] | None) -> _Written:
        """On the writer thread: one transaction, then maybe a read back."""
        store = self.store
        store.append_many(rows)
        store.ack_many(acks)
        accepted = store.last_accepted if store.commit() else []
        fetched = store.pending(fetch[1], after=fetch[0]) if fetch is not None else None
        return _Written(accepted, fetched, store.committed_rows, store.size, store.dropped,
                        store.uncommitted, store.in_memory)

    def _written(self, future: Future[_Written], acks: int, fetch: tuple[int, int] | None,
                 rewinds: int) -> None:
        """On the loop thread: the job is done; publish what it accepted."""
        self._busy = False
        self._in_job = 0
        self._acks_unwritten -= acks
        try:
            written = future.result()
        except Exception:
            # Not an SQLite error (the spool handles those itself): a bug.
            # The rows it held may be lost; the next job starts clean.
            log.exception("spool %s: the writer job failed", self.store.path)
            self._schedule_retry()
            return
        self._rows, self._size = written.rows, written.size
        self._store_dropped, self._uncommitted = written.dropped, written.uncommitted
        self.in_memory = written.in_memory
        self.committed += len(written.accepted)
        self.commits += 1
        current = rewinds == self._rewinds
        if fetch is not None:
            self.fetches += 1
            if current:
                last = self._ready[-1][0] if self._ready else self._cursor
                self._ready.extend(row for row in written.fetched or () if row[0] > last)
                # A short read reached the end of the file: from here on
                # newly accepted rows are the next ones, kept in memory.
                self._behind = len(written.fetched or ()) >= fetch[1]
        elif current and not self._behind and written.accepted:
            room = self.ready_max - len(self._ready)
            self._ready.extend(written.accepted[:room])
            if len(written.accepted) > room:
                self._behind = True
        if self._uncommitted:
            self._schedule_retry()
        else:
            self.flush()
        self._on_accepted()

    def _schedule_retry(self) -> None:
        if self._retry is None and not self._closed:
            self._retry = self._loop().call_later(self.retry_delay, self._retry_now)

    def _retry_now(self) -> None:
        self._retry = None
        if not self._busy and not self._closed:
            self._submit()  # commits what the spool's own buffer kept, even if nothing is new

    # -- lifetime ----------------------------------------------------------
    def close(self, timeout: float | None = 30.0) -> None:
        """Write what was handed over and close the file; waits for the writer
        (shutdown only, idempotent)."""
        if self._closed:
            return
        self._closed = True
        for timer in (self._retry, self._ack_timer):
            if timer is not None:
                timer.cancel()
        self._retry = self._ack_timer = None
        rows, acks = list(self._handover), self._acks
        self._handover, self._acks = deque(), []
        store = self.store

        def last() -> None:
            for topic, payload, qos in rows:
                store.append(topic, payload, qos)
            for row_id in acks:
                store.ack(row_id)
            store.close()
        try:
            self.writer.run(last, timeout)
        except Exception:
            log.exception("spool %s: the last batch could not be written", store.path)
