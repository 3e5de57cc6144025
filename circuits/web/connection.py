"""Per-connection state of the HTTP component.

One :class:`Connection` binds a socket's transport to its sans-I/O
:class:`~circuits.protocols.h1.RequestParser`, and remembers the request in
flight, the body being received and the body being streamed out.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import IO, Any

from ..protocols.h1 import RequestParser

__all__ = ["Connection", "BodySpool"]


class BodySpool:
    """A request body being received: in memory while small, then a temporary file.

    Uploads larger than ``threshold`` never sit in memory as a whole: once
    the threshold is crossed everything moves to an anonymous file on disk.
    """

    __slots__ = ("file", "size", "threshold")

    def __init__(self, threshold: int) -> None:
        self.file: IO[bytes] = io.BytesIO()
        self.size = 0
        self.threshold = threshold

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.threshold and isinstance(self.file, io.BytesIO):
            import tempfile  # here: with shutil, bz2, lzma and random ~0.9 MB, for large bodies only

            disk = tempfile.TemporaryFile()
            disk.write(self.file.getbuffer())
            self.file = disk
        self.file.write(data)

    def finish(self) -> IO[bytes]:
        """The body file, rewound for reading."""
        self.file.seek(0)
        return self.file


class Connection:
    """What the HTTP component knows about one client connection."""

    __slots__ = (
        "sock", "transport", "parser", "write", "request", "response", "spool", "busy",
        "head_started", "last_active", "continue_sent", "pending", "paused", "iterator",
        "frame", "finish_frame", "backlog", "head_out", "remaining", "waiting_drain", "closed", "linger_until", "close_after",
        "body_started", "body_max", "drain_since",
    )

    def __init__(self, sock: Any, transport: Any, parser: RequestParser,
                 write: Callable[[bytes], None], now: float) -> None:
        self.sock = sock
        #: The circuits.core Transport (None when the server offers none).
        self.transport = transport
        self.parser = parser
        self.write = write
        #: The request whose head was parsed and whose response is not done.
        self.request: Any = None
        self.response: Any = None
        self.spool: BodySpool | None = None
        #: A request was fired and its response is not complete: later
        #: (pipelined) bytes wait in the parser so responses stay in order.
        self.busy = False
        #: When the first byte of a not yet complete head arrived (0: none).
        self.head_started = 0.0
        self.last_active = now
        self.continue_sent = False
        #: Bytes received while busy (bounded, then reading pauses).
        self.pending = 0
        self.paused = False
        # Streaming out: the iterator of body chunks and how to frame them.
        self.iterator: Iterator[Any] | None = None
        self.frame: Callable[[bytes], bytes] | None = None
        self.finish_frame = b""
        #: The current response's head was written.
        self.head_out = False
        #: ``stream`` data fired before the response head went out.
        self.backlog: list[Any] = []
        #: Bytes still allowed by a declared Content-Length (None: unbounded).
        self.remaining: int | None = None
        self.waiting_drain = False
        #: When the stream out started waiting for the client to read.
        self.drain_since = 0.0
        self.closed = False
        #: Lingering close: discard input until this time, then close.
        self.linger_until = 0.0
        #: Close once the current response is complete.
        self.close_after = False
        #: When the head of the request whose body is being received was parsed.
        self.body_started = 0.0
        #: A per-request limit on a chunked body (``body_limit``), else None.
        self.body_max: int | None = None

    @property
    def buffered(self) -> int:
        """Bytes queued for writing on this connection."""
        transport = self.transport
        return transport.buffered if transport is not None else 0

    def stop_streaming(self) -> None:
        """Drop the outgoing stream, closing its iterator (and file)."""
        iterator = self.iterator
        self.iterator = None
        close = getattr(iterator, "close", None)
        if close is not None:
            try:
                close()
            except Exception:  # noqa: BLE001 - a failing close must not break the connection's cleanup
                pass
