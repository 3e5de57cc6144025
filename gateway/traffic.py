"""The recent traffic of one device, both directions, for the device page's hex view.

A :class:`TrafficRing` keeps the last chunks read from (``"rx"``) and
written to (``"tx"``) a port, with their wall-clock time, bounded both in
bytes and in chunks: a chatty device costs a fixed amount of memory, a
quiet one next to nothing.  Recording is one append (and, past the bound,
one pop); nothing is encoded or sent unless a page watches, which it says
by setting :attr:`TrafficRing.listener`.

Pure bookkeeping: no I/O, no events (the web side streams it).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import NamedTuple

__all__ = ["DEFAULT_BYTES", "DEFAULT_CHUNKS", "MAX_CHUNK", "Chunk", "TrafficRing"]

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
        self._chunks: deque[Chunk] = deque()
        self._bytes = 0
        #: Called with each new chunk while a page watches (else None: no cost).
        self.listener: Callable[[Chunk], None] | None = None
        self.recorded = {RX: 0, TX: 0}
        self.evicted = 0

    def record(self, direction: str, data: bytes) -> None:
        """Remember ``data`` as sent in ``direction`` (``"rx"`` or ``"tx"``) now."""
        if not data:
            return
        self.recorded[direction] += len(data)
        cut = max(0, len(data) - self.max_chunk)
        chunk = Chunk(self._clock(), direction, bytes(data[cut:]), cut)
        self._chunks.append(chunk)
        self._bytes += len(chunk.data)
        while self._bytes > self.max_bytes or len(self._chunks) > self.max_chunks:
            self._bytes -= len(self._chunks.popleft().data)
            self.evicted += 1
        if self.listener is not None:
            self.listener(chunk)

    def __iter__(self) -> Iterator[Chunk]:
        """The chunks kept, oldest first."""
        return iter(list(self._chunks))

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
        return {"chunks": len(self._chunks), "bytes": self._bytes, "rx": self.recorded[RX],
                "tx": self.recorded[TX], "evicted": self.evicted}
