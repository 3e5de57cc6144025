"""DiskWriter: the one thread that commits the gateway's SQLite files.

An fsync takes 10-100 ms on a Raspberry Pi's SD card; on the loop thread
that would stall every bridge, WebSocket and HTTP client for as long. So
the stores (spool, history, sequence numbers) hand their batches to this
thread and hear back on the loop: a job runs here, in submission order, and
its outcome (a finished :class:`concurrent.futures.Future`) is handed to
``done`` in the loop's thread through :meth:`circuits.core.loop.Loop.call_soon_threadsafe`
-- the loop's own inbox and wake-up socket, so there is still one loop and
one poller, and ``done`` runs like any other callback of a pass.

One thread for every store: the jobs are short and mostly wait on the
disk, and one FIFO keeps each store's batches in order without locks.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

__all__ = ["DiskWriter"]

log = logging.getLogger(__name__)

T = TypeVar("T")


class _Loop(Protocol):
    def call_soon_threadsafe(self, callback: Callable[[], Any]) -> None: ...


class DiskWriter:
    """Runs jobs on one thread, in order; results come back on the loop."""

    def __init__(self, name: str = "gateway-disk") -> None:
        # A pool of one is a thread with a FIFO queue and Futures, started
        # on the first job (no thread for a gateway that never writes).
        self._executor: ThreadPoolExecutor | None = ThreadPoolExecutor(1, thread_name_prefix=name)
        self.jobs = 0

    @property
    def closed(self) -> bool:
        return self._executor is None

    def submit(self, loop: _Loop, job: Callable[[], T], done: Callable[[Future[T]], Any]) -> Future[T]:
        """Run ``job()`` on the writer thread, then ``done(future)`` on ``loop``."""
        if self._executor is None:
            raise RuntimeError("DiskWriter is closed")
        future = self._executor.submit(job)
        self.jobs += 1

        def finished(future: Future[T]) -> None:
            loop.call_soon_threadsafe(lambda: done(future))
        future.add_done_callback(finished)
        return future

    def run(self, job: Callable[[], T], timeout: float | None = None) -> T:
        """Run ``job()`` after everything already submitted and wait for it.

        For shutdown only (the last batch, closing a file): the loop is
        stopping, so waiting costs nobody a stall.
        """
        if self._executor is None:
            return job()  # no thread left that could be using the store
        return self._executor.submit(job).result(timeout)

    def close(self) -> None:
        """Finish the jobs submitted so far, then end the thread (idempotent)."""
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)

    def statistics(self) -> dict[str, Any]:
        return {"jobs": self.jobs, "closed": self.closed}
