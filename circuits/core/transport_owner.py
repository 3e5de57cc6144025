"""The component side of a :class:`~circuits.core.transport.Transport`:
the callbacks it makes (:class:`TransportOwner`) and the helper for a
component that holds one transport at a time (:class:`TransportHolder`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .transport import Transport


class TransportOwner:
    """The callbacks a transport makes (override what you need)."""

    def transport_data(self, transport: Transport, data: bytes) -> None: ...

    def transport_eof(self, transport: Transport) -> bool | None:
        """The peer sent EOF. Return True to keep the (half-closed) transport
        open for writing: reading stops and the owner calls close() later."""

    def transport_error(self, transport: Transport, error: BaseException) -> None: ...

    def transport_closed(self, transport: Transport, reason: str | None) -> None: ...

    def transport_drained(self, transport: Transport) -> None: ...

    def transport_writable(self, transport: Transport) -> None:
        """The write queue fell to the mark given to ``notify_below`` (once per call)."""

    def transport_ready(self, transport: Transport) -> None:
        """A TLS handshake finished (plain transports never call this)."""


class TransportHolder:
    """For a component that owns (at most) one transport at a time."""

    _transport: Transport | None = None

    @property
    def buffered(self) -> int:
        """Bytes waiting to be written."""
        return self._transport.buffered if self._transport is not None else 0

    @property
    def dropped(self) -> int:
        """Bytes dropped because the write queue was full (devices only)."""
        return self._transport.dropped if self._transport is not None else 0

    def _root_changed(self, old: Any, new: Any) -> None:
        if self._transport is not None:
            self._transport.move_to(new.loop)
