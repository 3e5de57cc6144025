"""Events produced by the parsers and consumed by the writer.

Events are plain slotted dataclasses: cheap to create on the hot path and
comparable in tests.  Field names are lower-cased bytes in received order;
values are bytes with surrounding whitespace removed (RFC 9110 section 5.5).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from .headers import expects_continue, keep_alive

__all__ = [
    "Headers",
    "Request",
    "Response",
    "InformationalResponse",
    "Data",
    "EndOfMessage",
    "ConnectionClosed",
    "Event",
    "Sentinel",
    "NEED_DATA",
    "PAUSED",
]

Headers = list[tuple[bytes, bytes]]


@dataclass(slots=True)
class Request:
    """A request head (RFC 9112 section 3)."""

    method: str
    target: str
    http_version: str = "1.1"
    headers: Headers = field(default_factory=list)

    @property
    def keep_alive(self) -> bool:
        """Whether the Connection field lets the connection persist (RFC 9112 section 9.3)."""
        return keep_alive(self.http_version, self.headers)

    @property
    def expects_continue(self) -> bool:
        """``Expect: 100-continue`` on an HTTP/1.1 request (RFC 9110 section 10.1.1)."""
        return self.http_version == "1.1" and expects_continue(self.headers)


@dataclass(slots=True)
class Response:
    """A final (non-1xx) response head (RFC 9112 section 4)."""

    status: int
    reason: str = ""
    http_version: str = "1.1"
    headers: Headers = field(default_factory=list)

    @property
    def keep_alive(self) -> bool:
        return keep_alive(self.http_version, self.headers)


@dataclass(slots=True)
class InformationalResponse:
    """A 1xx interim response head (RFC 9110 section 15.2); never has a body."""

    status: int
    reason: str = ""
    http_version: str = "1.1"
    headers: Headers = field(default_factory=list)


@dataclass(slots=True)
class Data:
    """A piece of the message body, with transfer coding already removed."""

    data: bytes


@dataclass(slots=True)
class EndOfMessage:
    """The body is complete; ``trailers`` holds a chunked trailer section (RFC 9112 section 7.1.2)."""

    trailers: Headers = field(default_factory=list)


@dataclass(slots=True)
class ConnectionClosed:
    """The peer closed the connection cleanly between two messages."""


class Sentinel:
    """A named singleton returned by ``next_event`` instead of an event."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return self._name

    def __reduce__(self) -> str:
        return self._name


#: More bytes are needed before another event can be produced.
NEED_DATA: Final = Sentinel("NEED_DATA")
#: One message is complete; bytes already received stay buffered until the
#: caller calls ``start_next_cycle()`` (pipelining), or takes them from
#: ``trailing_data`` after a protocol switch.
PAUSED: Final = Sentinel("PAUSED")

Event = Request | Response | InformationalResponse | Data | EndOfMessage | ConnectionClosed
