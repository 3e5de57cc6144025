"""The recent traffic of one device, both directions, for the device page's hex view.

A :class:`TrafficRing` keeps the last chunks read from (``"rx"``) and
written to (``"tx"``) a port, with their wall-clock time, bounded both in
bytes and in chunks: a chatty device costs a fixed amount of memory, a
quiet one next to nothing.  Recording is on the bridge's round trip twice
per echo, so it is kept to one clock read, one plain tuple appended and
two int additions: the :class:`Chunk` records are built only when someone
reads the ring (or a page watches it, which it says by setting
:attr:`TrafficRing.listener`), and the bytes are kept by reference, not
copied (``bytes`` are immutable; anything else is copied once).

Pure bookkeeping: no I/O, no events (the web side streams it).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator
from functools import partial
from typing import NamedTuple

__all__ = ["DEFAULT_BYTES", "DEFAULT_CHUNKS", "MAX_CHUNK", "RX", "TX", "Chunk", "TrafficRing"]

#: Bytes kept per device: a few screens of hex.
DEFAULT_BYTES = 16 * 1024
#: Chunks kept per device (one byte per read at 9600 baud is many chunks).
DEFAULT_CHUNKS = 512
#: Longest chunk kept whole; a longer one keeps its tail (the newest bytes),
#: so one 64 KB read cannot push out everything else only to be cut anyway.
MAX_CHUNK = 4096

RX, TX = "rx", "tx"


class Chunk(NamedTuple):
    ts: float
    direction: str  # "rx": from the device; "tx": to the device
    data: bytes
    #: Bytes of the original chunk left out (only its tail is kept).
    cut: int = 0


class TrafficRing:
    """The last ``max_bytes`` / ``max_chunks`` of a device's traffic (see module doc)."""

    def __init__(self, max_bytes: int = DEFAULT_BYTES, max_chunks: int = DEFAULT_CHUNKS, *,
                 max_chunk: int = MAX_CHUNK, clock: Callable[[], float] = time.time) -> None:
        if max_bytes < 1 or max_chunks < 1 or max_chunk < 1:
            raise ValueError("the traffic ring's bounds must be at least 1")
        self.max_bytes = max_bytes
        self.max_chunks = max_chunks
        self.max_chunk = min(max_chunk, max_bytes)
        self._clock = clock
        # (ts, direction, data, cut): a Chunk's fields as a plain tuple,
        # which costs a fraction of a NamedTuple's __new__.
        self._chunks: deque[tuple[float, str, bytes, int]] = deque()
        self._bytes = 0
        #: Called with each new chunk while a page watches (else None: no cost).
        self.listener: Callable[[Chunk], None] | None = None
        #: Bytes recorded per direction, all time (not only those kept).
        self.rx = 0
        self.tx = 0
        self.evicted = 0
        # The two hot entry points as C-level partials: one Python frame per
        # chunk recorded instead of two.
        self.received = partial(self._record, RX)  # type: ignore[method-assign]
        self.sent = partial(self._record, TX)  # type: ignore[method-assign]

    @property
    def recorded(self) -> dict[str, int]:
        return {RX: self.rx, TX: self.tx}

    def record(self, direction: str, data: bytes | bytearray | memoryview) -> None:
        """Remember ``data`` as sent in ``direction`` (``"rx"`` or ``"tx"``) now."""
        if direction != RX and direction != TX:
            raise ValueError(f"direction must be {RX!r} or {TX!r}, not {direction!r}")
        self._record(direction, data)

    def received(self, data: bytes | bytearray | memoryview) -> None:
        """Remember ``data`` as read from the device now (``record(RX, data)``)."""
        self._record(RX, data)

    def sent(self, data: bytes | bytearray | memoryview) -> None:
        """Remember ``data`` as written to the device now (``record(TX, data)``)."""
        self._record(TX, data)

    def _record(self, direction: str, data: bytes | bytearray | memoryview) -> None:
        n = len(data)
        if not n:
            return
        if direction is RX:
            self.rx += n
        else:
            self.tx += n
        cut = 0
        if n > self.max_chunk:
            cut = n - self.max_chunk
            data = data[cut:]
            n -= cut
        if data.__class__ is not bytes:
            data = bytes(data)  # the caller may reuse its buffer
        chunks = self._chunks
        entry = (self._clock(), direction, data, cut)
        chunks.append(entry)
        self._bytes += n
        if self._bytes > self.max_bytes or len(chunks) > self.max_chunks:
            # A full ring (the steady state of a busy port) drops one
            # chunk per chunk kept: done here; more only after a big one.
            self._bytes -= len(chunks.popleft()[2])
            self.evicted += 1
            if self._bytes > self.max_bytes:
                self._evict()
        if self.listener is not None:
            self.listener(Chunk(*entry))

    def _evict(self) -> None:
        chunks = self._chunks
        while self._bytes > self.max_bytes or len(chunks) > self.max_chunks:
            self._bytes -= len(chunks.popleft()[2])
            self.evicted += 1

    def __iter__(self) -> Iterator[Chunk]:
        """The chunks kept, oldest first."""
        return iter([Chunk(*entry) for entry in self._chunks])

    def __len__(self) -> int:
        return len(self._chunks)

    @property
    def size(self) -> int:
        """Bytes kept."""
        return self._bytes

    def clear(self) -> None:
        self._chunks.clear()
        self._bytes = 0

    def statistics(self) -> dict[str, int]:
        return {"chunks": len(self._chunks), "bytes": self._bytes, "rx": self.rx, "tx": self.tx,
                "evicted": self.evicted}
