"""The client side of HTTP/1.1 as a protocol component (2.x ``circuits.net.protocols.http``).

``HTTP`` sits on the channel of a connection component (a TCPClient, say):
a ``request(method, path, body=None, headers=None)`` event is serialized
and written with a ``write`` event; bytes arriving as ``read(data)`` are
parsed with the sans-I/O codec (:mod:`circuits.protocols.h1`) and every
complete answer is fired as ``response(HTTPResponse)``. Requests may be
pipelined: answers are matched to them in order (which is how HEAD answers
are known to have no body). A malformed answer fires ``http_error(error)``
and the rest of that connection's bytes are ignored.

For a full client (connections, URLs, TLS, redirects of its own) use
:class:`circuits.web.client.Client`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from ..core.components import BaseComponent
from ..core.events import Event
from ..core.handlers import handler
from .h1 import (
    NEED_DATA,
    PAUSED,
    ConnectionClosed,
    Data,
    EndOfMessage,
    ProtocolError,
    ResponseParser,
    serialize_request_head,
)
from .h1 import Response as ResponseHead


class request(Event):
    """Send a request: args (method, path, body=None, headers=None)."""


class response(Event):
    """An answer arrived: args (HTTPResponse,)."""


class http_error(Event):
    """The peer's bytes are not HTTP/1.1: args (ProtocolError,)."""


class write(Event):
    """Bytes for the connection (handled by the connection component)."""


# 2.x names.
Request = request
Response = response


@dataclass
class HTTPResponse:
    """One complete answer."""

    status: int
    reason: str
    http_version: str
    headers: list[tuple[str, str]]
    body: bytes = b""
    trailers: list[tuple[str, str]] = field(default_factory=list)
    method: str = "GET"

    def header(self, name: str, default: str | None = None) -> str | None:
        """The first value of a header (case-insensitive)."""
        lname = name.lower()
        return next((v for k, v in self.headers if k.lower() == lname), default)

    def text(self, encoding: str = "utf-8") -> str:
        return self.body.decode(encoding, errors="replace")


def _decode(headers: list[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers]


class HTTP(BaseComponent):
    """HTTP/1.1 client protocol on a connection's channel (see module doc)."""

    channel: Any = "web"

    def __init__(self, encoding: str = "utf-8", channel: Any = channel, host: str | None = None,
                 max_body: int | None = None) -> None:
        super().__init__(channel=channel)
        self.encoding = encoding
        #: Sent as the Host field when a request has none (RFC 9112 section 3.2).
        self.host = host
        self._max_body = max_body
        self._new_parser()

    def _new_parser(self) -> None:
        self._parser = ResponseParser()
        self._methods: deque[str] = deque()
        self._head: ResponseHead | None = None
        self._body: list[bytes] = []
        self._size = 0
        self._failed = False

    @handler("request")
    def _on_request(self, method: str, path: str, body: bytes | str | None = None,
                    headers: Any = None) -> None:
        fields = list(headers.items() if isinstance(headers, dict) else headers or [])
        names = {str(k).lower() for k, _ in fields}
        if "host" not in names and self.host:
            fields.append(("Host", self.host))
        payload = body.encode(self.encoding) if isinstance(body, str) else (body or b"")
        if payload or method.upper() in ("POST", "PUT", "PATCH"):
            if "content-length" not in names and "transfer-encoding" not in names:
                fields.append(("Content-Length", str(len(payload))))
        self._methods.append(method.upper())
        if len(self._methods) == 1:
            self._parser.request_method = method.upper()
        self.fire(write(serialize_request_head(method.upper(), path, fields) + payload))

    @handler("read")
    def _on_read(self, *args: Any) -> None:
        # read(data) from a client; read(sock, data) if put on a server's channel.
        if not self._failed:
            self._feed(args[-1])

    @handler("disconnected", "closed")
    def _on_disconnected(self, *args: Any) -> None:
        if not self._failed:
            self._feed(b"")  # ends a body delimited by the connection closing
        self._new_parser()

    def _feed(self, data: bytes) -> None:
        parser = self._parser
        try:
            parser.receive_data(data)
            while True:
                event = parser.next_event()
                if event is NEED_DATA or isinstance(event, ConnectionClosed):
                    return
                if event is PAUSED:
                    if not self._methods:
                        return
                    parser.start_next_cycle(self._methods[0])
                    continue
                self._on_event(event)
        except ProtocolError as e:
            self._failed = True
            self.fire(http_error(e))

    def _on_event(self, event: Any) -> None:
        if isinstance(event, ResponseHead):
            self._head = event
            self._body = []
            self._size = 0
        elif isinstance(event, Data):
            self._size += len(event.data)
            if self._max_body is not None and self._size > self._max_body:
                raise ProtocolError(f"response body over {self._max_body} bytes", 502)
            self._body.append(event.data)
        elif isinstance(event, EndOfMessage) and self._head is not None:
            head = self._head
            method = self._methods.popleft() if self._methods else "GET"
            self._head = None
            self.fire(response(HTTPResponse(
                head.status, head.reason, head.http_version, _decode(head.headers),
                b"".join(self._body), _decode(event.trailers), method)))
