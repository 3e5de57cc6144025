"""The MQTT connection's end of the loop's shared buffered Transport.

The transport pushes what it received (``on_data(bytes)``) and owns the
write queue, backpressure, TLS handshake and close-after-drain; the client
writes what its protocol object queued, once per loop pass.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from circuits.core.loop import Loop
from circuits.core.transport import Transport
from circuits.core.transport_owner import TransportOwner

__all__ = ["Wire"]


class Wire(TransportOwner):
    """``on_data(data)`` for every chunk received; ``on_closed(reason)`` once,
    when the transport is gone (not after :meth:`abort`)."""

    def __init__(self, loop: Loop, sock: Any, on_data: Callable[[bytes], None],
                 on_closed: Callable[[str], None], *, handshake: bool = False,
                 max_buffer: int = 16 << 20) -> None:
        self._on_data = on_data
        self._on_closed: Callable[[str], None] | None = on_closed
        self.error: BaseException | None = None
        self.transport = Transport(loop, sock, self, max_buffer=max_buffer, handshake=handshake)

    def write(self, data: bytes) -> None:
        if data and not self.transport.closing:
            self.transport.write(data)

    def close(self) -> None:
        """Close after what was written is sent."""
        self.transport.close()

    def abort(self) -> None:
        """Close now, dropping anything unsent."""
        self._on_closed = None
        self.transport.abort("aborted")

    # -- what the transport calls -----------------------------------------
    def transport_data(self, transport: Transport, data: bytes) -> None:
        self._on_data(data)

    def transport_error(self, transport: Transport, error: BaseException) -> None:
        self.error = error

    def transport_closed(self, transport: Transport, reason: str | None) -> None:
        on_closed, self._on_closed = self._on_closed, None
        if on_closed is not None:
            detail = f": {self.error}" if self.error is not None else ""
            on_closed(f"connection closed ({reason or 'by us'}){detail}")
