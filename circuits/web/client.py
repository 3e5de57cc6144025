"""circuits.web.client: an HTTP/1.1 client component.

Fire ``request(method, url, body=None, headers=None)`` on the Client's
channel; the complete response arrives as a ``response(response)`` event on
that channel *and* becomes the request event's value, so inside a handler::

    value = yield self.call(request("GET", "http://example.org/"), "client")
    response = value.value          # a ClientResponse

Requests are sent one at a time per Client (no pipelining: RFC 9112
section 9.3.2 lets a client pipeline, but a failure then loses every
request behind it). A connection is kept open between requests to the same
origin (RFC 9112 section 9.3 persistence) and replaced when the origin
changes. Each connection is its own small component with a private channel,
so a late ``disconnected`` from an old connection can never be mistaken for
the new one failing. Parsing is the sans-I/O codec ``circuits.protocols.h1``;
I/O is a ``circuits.net`` TCPClient (TLS for https URLs).
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Generator, Iterable, Mapping
from typing import Any

from ..core.components import BaseComponent
from ..core.events import Event
from ..core.handlers import handler
from ..core.loop import TimerHandle
from ..core.manager import Manager
from ..core.tasks import Suspension, Task
from ..net.client import TCPClient
from ..net.events import connected, disconnected
from ..protocols.h1 import (
    NEED_DATA,
    PAUSED,
    Data,
    EndOfMessage,
    InformationalResponse,
    Limits,
    ProtocolError,
    ResponseParser,
    serialize_request_head,
)
from ..protocols.h1 import Response as ResponseHead
from ..version import __version__
from .client_response import ClientResponse, ParsedURL, ResponseHeaders, parse_url

__all__ = ["Client", "ClientResponse", "Request", "Response", "parse_url", "request", "response"]

USER_AGENT = f"circuits.web.client/{__version__}"
#: Methods that may be retried on a fresh connection when a kept-alive one
#: turned out to be closed by the server (RFC 9110 section 9.2.2 idempotent
#: methods; RFC 9112 section 9.3.1 allows the automatic retry).
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"})


class request(Event):
    """Send an HTTP request: (method, url, body=None, headers=None)."""

    failure = True

    def __init__(self, method: str, url: str, body: bytes | str | None = None,
                 headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None) -> None:
        super().__init__(method, url, body, headers)


class response(Event):
    """A complete response arrived: (response,), a :class:`ClientResponse`."""


# 2.x names.
Request = request
Response = response


class _Exchange(Suspension):
    """One request in flight (or queued) and the task waiting for its answer."""

    def __init__(self, method: str, url: str, target: ParsedURL, head: bytes, body: bytes) -> None:
        self.method = method
        self.url = url
        self.target = target
        self.head = head
        self.body = body
        self.outcome: tuple[Any, BaseException | None] | None = None
        self.retried = False
        self.started = False  # response bytes arrived (no silent retry then)
        self.head_event: ResponseHead | None = None
        self.chunks: list[bytes] = []
        self.timer: TimerHandle | None = None

    def attach(self, manager: Manager, task: Task) -> None:
        super().attach(manager, task)
        if self.outcome is not None:
            self._wake()

    def settle(self, value: Any, exc: BaseException | None = None) -> None:
        if self.outcome is not None:
            return
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.outcome = (value, exc)
        if self.task is not None:
            self._wake()

    def _wake(self) -> None:
        # Resume on the next loop pass rather than re-entering the task here.
        manager, task = self.manager, self.task
        if manager is None or task is None or self.outcome is None:
            return
        self.manager = self.task = None
        value, exc = self.outcome
        manager.root._circuits_ready.append((task, value, exc))


class _Connection(BaseComponent):
    """One TCP(/TLS) connection of a Client, on a channel of its own."""

    def __init__(self, owner: Client, origin: tuple[bool, str, int], channel: Any, limits: Limits) -> None:
        super().__init__(channel=channel)
        self.owner = owner
        self.origin = origin
        self.tcp = TCPClient(channel=channel, bufsize=65536).register(self)
        self.parser = ResponseParser(limits)
        self.open = False
        self.done = False
        self.exchanges = 0
        self.error: BaseException | None = None

    @handler("connected")
    def _on_connected(self, host: Any, port: Any) -> None:
        self.open = True
        self.owner._connection_open(self)

    @handler("read")
    def _on_read(self, data: bytes) -> None:
        self.owner._connection_data(self, data)

    @handler("error")
    def _on_error(self, err: BaseException) -> None:
        self.error = err

    @handler("unreachable")
    def _on_unreachable(self, host: Any, port: Any, reason: Any = None) -> None:
        self.owner._connection_lost(self, reason if isinstance(reason, BaseException) else OSError(str(reason)))

    @handler("disconnected")
    def _on_disconnected(self) -> None:
        self.owner._connection_lost(self, self.error)

    def write(self, data: bytes) -> None:
        self.tcp.write(data)

    def shutdown(self) -> None:
        """Close and forget: later events of this connection are ignored."""
        if not self.done:
            self.done = True
            self.tcp.close()
            self.unregister()


class Client(BaseComponent):
    """An HTTP/1.1 client (see module doc).

    ``url`` (optional) is a base URL: relative request URLs are resolved
    against it and ``connect`` without arguments opens a connection to it.
    ``timeout`` bounds each exchange (connect + response) in seconds;
    ``max_body`` bounds a response body (413-style ProtocolError past it).
    TLS settings (``verify``, ``ca_certs``, ``context``...) are passed to
    ``circuits.net.tls.client_context``.
    """

    channel: Any = "client"

    def __init__(self, url: str | None = None, channel: Any = channel, *, timeout: float | None = 30.0,
                 max_body: int | None = 64 << 20, headers: Mapping[str, str] | None = None,
                 **tls: Any) -> None:
        super().__init__(channel=channel)
        self.url = url
        self.timeout = timeout
        self.limits = Limits(max_body=max_body)
        self.default_headers = dict(headers or {})
        self.tls = tls
        self._waiting: deque[_Exchange] = deque()
        self._in_flight: _Exchange | None = None
        self._conn: _Connection | None = None
        self._ids = itertools.count(1)
        self.requests = 0
        self.responses = 0
        #: The last complete response (None until one arrives), as 3.x code
        #: polls it: ``while client.response is None: ...``.
        self.response: ClientResponse | None = None

    # -- public state ------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self._conn is not None and self._conn.open and not self._conn.done

    def statistics(self) -> dict[str, Any]:
        return {"requests": self.requests, "responses": self.responses, "queued": len(self._waiting),
                "in_flight": self._in_flight is not None, "connected": self.connected}

    # -- requests ----------------------------------------------------------
    @handler("request")
    def request(self, method: str, url: str, body: bytes | str | None = None,
                headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
                ) -> Generator[Any, Any, ClientResponse]:
        exchange = self._prepare(method, url, body, headers)
        self._waiting.append(exchange)
        self.requests += 1
        self._pump()
        result = yield exchange
        return result

    @handler("connect")
    def connect(self, host: str | None = None, port: int | None = None, secure: bool | None = None) -> None:
        """Open a connection ahead of the first request (to ``url`` by default)."""
        if host is None:
            if self.url is None:
                raise ValueError("connect() needs a host, or a Client(url=...)")
            target = parse_url(self.url)
        else:
            target = ParsedURL(host, port or (443 if secure else 80), "/", bool(secure))
        if self._conn is None or self._conn.done:
            self._open(target)

    @handler("close")
    def close(self) -> None:
        """Close the connection; requests still queued or in flight fail."""
        self._drop_connection()
        self._fail_all(ConnectionError("client closed"))

    def _prepare(self, method: str, url: str, body: bytes | str | None,
                 headers: Mapping[str, str] | Iterable[tuple[str, str]] | None) -> _Exchange:
        if self.url is not None and not url.lower().startswith(("http://", "https://")):
            base = self.url.rstrip("/")
            url = base + (url if url.startswith("/") else "/" + url)
        if not url.lower().startswith(("http://", "https://")):
            raise ValueError(f"not an http(s) URL: {url!r}")
        target = parse_url(url)
        payload = body.encode("utf-8") if isinstance(body, str) else bytes(body or b"")
        fields: dict[str, tuple[str, str]] = {}

        def put(name: str, value: str) -> None:
            fields[name.lower()] = (name, value)

        # RFC 9112 section 3.2: a client MUST send Host in every HTTP/1.1 request.
        put("Host", target.netloc)
        put("User-Agent", USER_AGENT)
        put("Accept-Encoding", "identity")
        for name, value in self.default_headers.items():
            put(name, value)
        items = headers.items() if isinstance(headers, Mapping) else (headers or ())
        for name, value in items:
            put(name, str(value))
        # RFC 9110 section 8.6: send Content-Length when there is content
        # (and for a POST/PUT without content, say 0 so the server need not wait).
        if payload or method.upper() in ("POST", "PUT", "PATCH"):
            put("Content-Length", str(len(payload)))
            fields.pop("transfer-encoding", None)
        head = serialize_request_head(method, target.resource, list(fields.values()))
        return _Exchange(method.upper(), url, target, head, payload)

    # -- scheduling ----------------------------------------------------------
    def _pump(self) -> None:
        """Start the next queued exchange if nothing is in flight."""
        if self._in_flight is not None or not self._waiting:
            return
        exchange = self._in_flight = self._waiting.popleft()
        if self.timeout:
            exchange.timer = self.loop.call_later(self.timeout, lambda: self._timed_out(exchange))
        conn = self._conn
        if conn is not None and not conn.done and conn.origin == exchange.target.origin:
            if conn.open:
                self._send(conn, exchange)
            return  # still connecting: sent on ``connected``
        self._drop_connection()
        self._open(exchange.target)

    def _open(self, target: ParsedURL) -> None:
        channel = (self.channel, "connection", next(self._ids))
        conn = self._conn = _Connection(self, target.origin, channel, self.limits).register(self)
        kwargs = dict(self.tls)
        conn.tcp.connect(target.host, target.port, target.secure, **kwargs)

    def _send(self, conn: _Connection, exchange: _Exchange) -> None:
        conn.exchanges += 1
        conn.parser.request_method = exchange.method
        conn.write(exchange.head + exchange.body if len(exchange.body) < 65536 else exchange.head)
        if len(exchange.body) >= 65536:
            conn.write(exchange.body)

    def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.shutdown()

    # -- connection callbacks -------------------------------------------------
    def _connection_open(self, conn: _Connection) -> None:
        if conn is not self._conn or conn.done:
            return
        self.fire(connected(*conn.origin[1:]))
        if self._in_flight is not None:
            self._send(conn, self._in_flight)

    def _connection_data(self, conn: _Connection, data: bytes) -> None:
        if conn is not self._conn or conn.done:
            return
        parser = conn.parser
        parser.receive_data(data)
        try:
            self._parse(conn)
        except ProtocolError as e:
            self._drop_connection()
            self._finish(None, e)

    def _parse(self, conn: _Connection) -> None:
        parser = conn.parser
        while conn is self._conn:
            event = parser.next_event()
            if event is NEED_DATA:
                return
            if event is PAUSED:
                if parser.state == "SWITCHED":
                    raise ProtocolError("server switched protocols on a plain HTTP request")
                return
            exchange = self._in_flight
            if exchange is None:
                # RFC 9112 section 9.3: a response with no request is an error.
                raise ProtocolError("response data without a request in flight")
            exchange.started = True
            if isinstance(event, InformationalResponse):
                continue  # RFC 9110 section 15.2: 1xx precede the final answer
            if isinstance(event, ResponseHead):
                exchange.head_event = event
            elif isinstance(event, Data):
                exchange.chunks.append(event.data)
            elif isinstance(event, EndOfMessage):
                head = exchange.head_event
                assert head is not None
                result = ClientResponse(
                    head.status, head.reason, ResponseHeaders.from_wire(head.headers),
                    b"".join(exchange.chunks), head.http_version, exchange.method, exchange.url,
                    ResponseHeaders.from_wire(event.trailers))
                if parser.keep_alive:
                    parser.start_next_cycle()
                else:
                    self._drop_connection()
                self._finish(result, None)
            else:  # ConnectionClosed between messages
                return

    def _connection_lost(self, conn: _Connection, reason: BaseException | None) -> None:
        if conn is not self._conn or conn.done:
            return
        was_open = conn.open
        exchange = self._in_flight
        if exchange is not None and exchange.started:
            # The server may delimit the body by closing (RFC 9112 6.3 item 8).
            conn.parser.receive_data(b"")
            try:
                self._parse(conn)
            except ProtocolError as e:
                self._drop_connection()
                self._finish(None, e)
                return
        if self._conn is not conn:
            return  # the EOF completed the response
        self._drop_connection()
        if was_open:
            self.fire(disconnected())
        exchange = self._in_flight
        if exchange is None:
            return
        if (was_open and conn.exchanges > 1 and not exchange.started and not exchange.retried
                and exchange.method in IDEMPOTENT):
            # A kept-alive connection the server had already closed: retry once
            # on a new one (RFC 9112 section 9.3.1).
            exchange.retried = True
            self._in_flight = None
            if exchange.timer is not None:
                exchange.timer.cancel()
                exchange.timer = None
            self._waiting.appendleft(exchange)
            self._pump()
            return
        error = reason if isinstance(reason, BaseException) else ConnectionError(
            f"connection to {exchange.target.netloc} closed before the response was complete")
        self._finish(None, error)

    def _timed_out(self, exchange: _Exchange) -> None:
        exchange.timer = None
        if exchange is self._in_flight:
            self._drop_connection()
            self._finish(None, TimeoutError(f"{exchange.method} {exchange.url} timed out"))

    def _finish(self, result: ClientResponse | None, error: BaseException | None) -> None:
        exchange, self._in_flight = self._in_flight, None
        if exchange is not None:
            if result is not None:
                self.responses += 1
                self.response = result
                self.fire(response(result))
            exchange.settle(result, error)
        self._pump()

    def _fail_all(self, error: BaseException) -> None:
        pending = ([self._in_flight] if self._in_flight is not None else []) + list(self._waiting)
        self._in_flight = None
        self._waiting.clear()
        for exchange in pending:
            exchange.settle(None, error)

    @handler("stopped", channel="*")
    def _on_stopped(self, component: Any) -> None:
        if component is self.root:
            self._drop_connection()
