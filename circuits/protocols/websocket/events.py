"""Events produced by :class:`~circuits.protocols.websocket.WebSocketConnection`."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BytesMessage", "CloseReceived", "Event", "Ping", "Pong", "TextMessage"]


@dataclass(frozen=True, slots=True)
class TextMessage:
    """A complete text message (opcode 0x1 plus continuations), decoded as UTF-8."""

    data: str


@dataclass(frozen=True, slots=True)
class BytesMessage:
    """A complete binary message (opcode 0x2 plus continuations)."""

    data: bytes


@dataclass(frozen=True, slots=True)
class Ping:
    """A Ping control frame (section 5.5.2); answer with ``connection.pong(payload)``."""

    payload: bytes = b""


@dataclass(frozen=True, slots=True)
class Pong:
    """A Pong control frame (section 5.5.3)."""

    payload: bytes = b""


@dataclass(frozen=True, slots=True)
class CloseReceived:
    """The peer sent a Close frame (section 5.5.1), or the transport ended.

    ``code`` is 1005 if the Close frame carried no status code, and 1006 if
    the transport reached EOF without a Close frame (section 7.1.5); neither
    ever appears on the wire.
    """

    code: int
    reason: str = ""


Event = TextMessage | BytesMessage | Ping | Pong | CloseReceived
