"""The socket paho sees: a thin face on the loop's shared buffered Transport.

paho pulls bytes with ``recv`` and pushes them with ``send``; the gateway's
descriptors all go through :class:`circuits.core.transport.Transport`, which
pushes received data and owns the write queue, backpressure, TLS handshake
and close-after-drain. This class joins the two:

* received data is buffered here and paho's ``loop_read`` is run until the
  buffer is empty -- paho reads a packet a few bytes at a time, which costs
  a system call per read on a real socket and a slice here;
* what paho sends in one ``loop_write`` is collected and handed to the
  transport in one ``write`` (one system call per pass, not per packet).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from circuits.core.loop import Loop
from circuits.core.transport import Transport, TransportOwner

__all__ = ["TransportSocket"]


class TransportSocket(TransportOwner):
    """Socket-like object for paho over a Transport (see module doc).

    ``on_data()`` is called after bytes arrive (the client runs paho's
    ``loop_read``); ``on_closed(reason)`` once, when the transport is gone.
    """

    def __init__(self, loop: Loop, sock: Any, on_data: Callable[[], None],
                 on_closed: Callable[[str], None], *, handshake: bool = False,
                 max_buffer: int = 16 << 20) -> None:
        self._in = bytearray()
        self._out = bytearray()
        self._eof = False
        self._on_data = on_data
        self._on_closed: Callable[[str], None] | None = on_closed
        self.error: BaseException | None = None
        self.transport = Transport(loop, sock, self, max_buffer=max_buffer, handshake=handshake)

    # -- what paho calls ---------------------------------------------------
    def recv(self, bufsize: int) -> bytes:
        data = self._in
        if not data:
            if self._eof:
                return b""  # paho: connection lost
            raise BlockingIOError
        chunk = bytes(data[:bufsize])
        del data[:bufsize]
        return chunk

    def send(self, buf: bytes | bytearray | memoryview) -> int:
        if self.transport.closing:
            raise BrokenPipeError("MQTT connection closed")
        self._out += buf
        return len(buf)

    def pending(self) -> int:
        """Bytes received and not yet read by paho (the selector cannot see them)."""
        return len(self._in)

    def setblocking(self, flag: bool) -> None:
        """Always non-blocking: the transport never blocks."""

    def fileno(self) -> int:
        return self.transport.fd

    def close(self) -> None:
        """Close after what was sent is written (paho closes after DISCONNECT)."""
        self.flush()
        self.transport.close()

    # -- what the client calls --------------------------------------------
    def flush(self) -> None:
        """Hand what paho sent since the last flush to the transport, in one write."""
        if self._out:
            out, self._out = self._out, bytearray()
            self.transport.write(out)

    def abort(self) -> None:
        """Close now, dropping anything unsent."""
        self._on_closed = None
        self._out.clear()
        self.transport.abort("aborted")

    # -- what the transport calls -----------------------------------------
    def transport_data(self, transport: Transport, data: bytes) -> None:
        self._in += data
        self._on_data()

    def transport_error(self, transport: Transport, error: BaseException) -> None:
        self.error = error

    def transport_closed(self, transport: Transport, reason: str | None) -> None:
        self._eof = True
        on_closed, self._on_closed = self._on_closed, None
        if on_closed is not None:
            detail = f": {self.error}" if self.error is not None else ""
            on_closed(f"connection closed ({reason or 'by us'}){detail}")
