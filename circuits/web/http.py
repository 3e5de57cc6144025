"""The HTTP component: HTTP/1.1 on top of a stream server's connections.

It is a thin adapter: each connection gets a sans-I/O
:class:`~circuits.protocols.h1.RequestParser`; ``read`` events feed it, and
its events become a ``request(request, response)`` event once a request is
complete. The handlers' result comes back as ``request_success`` (or
``request_failure``), becomes ``response(response)``, and the response is
written to the connection's transport.

Rules that make it safe to expose:

* One request per connection is in flight at a time. Pipelined bytes wait
  in the parser until the response before them is complete, so responses
  always leave in request order, even when a handler is a coroutine that
  finishes later. Past ``pipeline_buffer`` waiting bytes reading pauses.
* The codec enforces the limits (request line, header lines, header count,
  body size) and rejects ambiguous framing; each failure is answered with
  its status (400, 413, 414, 431, 501, 505), then the connection closes.
* Every deadline starts at accept: the first head must be complete within
  ``header_timeout`` seconds of the connection (a peer that sends nothing
  is closed as surely as a slow-loris), later heads within
  ``header_timeout`` of their first byte; an idle keep-alive connection
  closes after ``keepalive_timeout``. A body must make progress: no byte
  for ``body_timeout`` seconds, or less than ``body_min_rate`` bytes a
  second on average once ``body_timeout`` has passed, is answered 408.
  A streamed response whose client has not taken the queued bytes
  (``high_water``) within ``send_timeout`` seconds is dropped (a client that never reads must not hold a
  connection and its open file forever). The deadlines are checked by one
  timer sweep, not per request.
* At most ``max_connections`` connections are kept (default: half the
  soft ``RLIMIT_NOFILE``, so other servers in the process keep descriptors
  of their own); past it, or when ``accept`` reports that descriptors ran
  out, the connections idle for longest are shed first.
* ``body_limit(request) -> int | None``, when given, decides on the head
  alone how large a body this request may have (None: ``max_body``). A
  body declared larger -- or any body when the limit is 0 -- is never read:
  the request is handled at once with an empty body and
  ``request.body_refused`` set (an authentication handler answers 401, the
  Dispatcher 413), and the connection closes after the answer. This is how
  a server authenticates before it accepts a byte of an upload.
* ``100 Continue`` is sent only when the server is about to read the body,
  i.e. the head passed every check (RFC 9110 section 10.1.1).
* Streamed bodies (files, generators) are written only while the
  connection's write buffer is below ``high_water``; the rest waits for
  the transport to drain. Nothing is read into memory whole.

Protocol switches: a ``101`` response hands the connection over after the
head is sent (``upgraded`` event); :meth:`HTTP.upgrade` does the same on
demand, returning the bytes already received.
"""

from __future__ import annotations

import errno
import resource
import socket
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlsplit

from ..core.components import BaseComponent
from ..core.events import exception
from ..core.handlers import handler
from ..core.values import Value
from ..net.events import close as close_event
from ..net.events import write as write_event
from ..protocols.h1 import (
    NEED_DATA,
    ConnectionClosed,
    ContentTooLarge,
    Data,
    EndOfMessage,
    Limits,
    ProtocolError,
    RequestParser,
    chunk,
    last_chunk,
)
from ..protocols.h1 import Request as H1Request
from .connection import BodySpool, Connection
from .constants import SERVER_PROTOCOL, SERVER_VERSION
from .errors import from_exception, httperror, notfound
from .events import request, response, upgraded
from .exceptions import HTTPException
from .output import body_bytes, render_head
from .wrappers import Request, Response, file_generator, file_size

__all__ = ["HTTP"]

_PROTOCOLS = {"1.1": (1, 1), "1.0": (1, 0)}
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_FALLBACK_500 = (b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\nContent-Length: 21\r\n"
                 b"Connection: close\r\n\r\nInternal Server Error")
#: Body bytes written per loop pass to one streaming client (fairness).
PUMP_BUDGET = 256 * 1024
#: Seconds to keep reading (and discarding) after an error response, so the
#: client sees the response instead of a reset (a "lingering close").
LINGER = 2.0
#: accept() errors that mean this process (or the system) ran out of descriptors.
_OUT_OF_DESCRIPTORS = frozenset({errno.EMFILE, errno.ENFILE})
#: Seconds a client has for its request head, counted from accept.
HEADER_TIMEOUT = 10.0


def default_max_connections() -> int:
    """Half the soft descriptor limit: the rest stays for files, devices and other servers."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft <= 0:
        soft = 65536
    return max(8, soft // 2)


class _Resume:
    """Waits for an event's Value (a handler returned ``self.fire(...)``)."""

    __slots__ = ("fn",)

    def __init__(self, fn: Callable[[Value], None]) -> None:
        self.fn = fn

    def done(self, value: Value) -> None:
        self.fn(value)


class HTTP(BaseComponent):
    """HTTP/1.1 server protocol (see the module doc).

    ``HTTP(server, encoding="utf-8", channel="web")``; ``server`` is the web
    server (for ``secure``, host and port) and may be omitted, in which case
    the stream server announcing ``ready`` on this channel is used.
    """

    channel = "web"

    def __init__(self, server: Any = None, encoding: str = "utf-8", channel: Any = channel, *,
                 limits: Limits | None = None, max_body: int | None = 10 * 1024 * 1024,
                 header_timeout: float = HEADER_TIMEOUT, keepalive_timeout: float = 60.0,
                 body_timeout: float = 30.0, body_min_rate: float = 1024.0, send_timeout: float = 60.0,
                 max_connections: int | None = None,
                 body_limit: Callable[[Request], int | None] | None = None, spool_size: int = 1024 * 1024, high_water: int = 256 * 1024,
                 pipeline_buffer: int = 256 * 1024, **kwargs: Any) -> None:
        if isinstance(server, str) and encoding == "utf-8":  # HTTP("latin-1") as documented
            server, encoding = None, server
        super().__init__(channel=channel)
        self._server = server
        self._tcp: Any = getattr(server, "server", None)
        self._encoding = encoding
        self.limits = limits if limits is not None else Limits(max_body=max_body)
        self.header_timeout = header_timeout
        self.keepalive_timeout = keepalive_timeout
        self.body_timeout = body_timeout
        self.body_limit = body_limit
        self.body_min_rate = body_min_rate
        self.send_timeout = send_timeout
        self.max_connections = max_connections if max_connections is not None else default_max_connections()
        #: Connections closed to make room (max_connections or out of descriptors).
        self.shed = 0
        #: Connections closed by a deadline (head, body progress).
        self.timed_out = 0
        self.spool_size = spool_size
        self.high_water = high_water
        self.pipeline_buffer = pipeline_buffer
        self._conns: dict[Any, Connection] = {}
        self._upgraded: set[Any] = set()
        self._sweeping = False
        self._scheme = "https" if getattr(server, "secure", False) else "http"
        self._uri: str | None = None

    # -- information -------------------------------------------------------
    @property
    def version(self) -> str:
        return SERVER_VERSION

    @property
    def protocol(self) -> tuple[int, int]:
        return SERVER_PROTOCOL

    @property
    def scheme(self) -> str:
        return self._scheme

    @property
    def base(self) -> str:
        return self._uri or ""

    @property
    def uri(self) -> str | None:
        return self._uri

    def statistics(self) -> dict[str, Any]:
        return {
            "connections": len(self._conns),
            "busy": sum(1 for c in self._conns.values() if c.busy),
            "streaming": sum(1 for c in self._conns.values() if c.iterator is not None),
            "upgraded": len(self._upgraded),
            "shed": self.shed,
            "timed_out": self.timed_out,
        }

    @handler("ready")
    def _on_ready(self, server: Any, bind: Any = None) -> None:
        if self._tcp is None and hasattr(server, "transport_for"):
            self._tcp = server
        if self._server is None:
            self._server = server
            self._scheme = "https" if getattr(server, "secure", False) else "http"
        hook = getattr(server, "set_drain_hook", None)
        if hook is not None and server is self._tcp:
            hook(self._on_drained)
        host, port = getattr(server, "host", None), getattr(server, "port", None)
        if port is None:
            self._uri = str(host)
        else:
            default = 443 if self._scheme == "https" else 80
            self._uri = f"{self._scheme}://{host or '0.0.0.0'}{'' if port == default else f':{port}'}"

    # -- connections -----------------------------------------------------
    def _open(self, sock: Any) -> Connection:
        tcp = self._tcp
        transport = tcp.transport_for(sock) if tcp is not None else None
        if transport is not None:
            write = transport.write
        else:
            def write(data: bytes, sock: Any = sock) -> None:
                self.fire(write_event(sock, data), self.channel)
        now = time.monotonic()
        conn = Connection(sock, transport, RequestParser(self.limits), write, now)
        # The first head's deadline runs from accept, not from its first byte.
        conn.head_started = now
        self._conns[sock] = conn
        if not self._sweeping:
            self._schedule_sweep()
        if len(self._conns) > self.max_connections:
            self._shed_idle(len(self._conns) - self.max_connections, keep=conn)
        return conn

    @handler("connect")
    def _on_connect(self, sock: Any, *peer: Any) -> None:
        if sock not in self._conns and sock not in self._upgraded:
            self._open(sock)

    @handler("error")
    def _on_error(self, sock: Any, err: Any = None) -> None:
        if isinstance(err, OSError) and err.errno in _OUT_OF_DESCRIPTORS:
            # accept() failed for want of descriptors: make room for the
            # connections waiting in the backlog (a tenth, at least one).
            self._shed_idle(max(1, len(self._conns) // 10))

    def _shed_idle(self, count: int, keep: Connection | None = None) -> None:
        """Close the ``count`` connections idle for longest (no request in progress)."""
        idle = [c for c in self._conns.values()
                if c is not keep and not c.busy and c.request is None and not c.linger_until]
        idle.sort(key=_last_active)
        victims = idle[:count]
        if len(victims) < count and keep is not None:
            victims.append(keep)  # everyone is busy: the newcomer cannot be served
        for conn in victims:
            self.shed += 1
            self._close(conn)

    def _close(self, conn: Connection, linger: bool = False, abort: bool = False) -> None:
        """Close after what is queued has been written (``abort``: drop it, close now)."""
        if conn.closed:
            return
        conn.stop_streaming()
        transport = conn.transport
        if linger and transport is not None and not conn.linger_until:
            # Half-close: the client gets our response and EOF, and we keep
            # draining what it still sends until it closes or LINGER passes.
            conn.linger_until = time.monotonic() + LINGER
            conn.busy = True
            if transport.buffered == 0:
                try:
                    conn.sock.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
            if conn.paused:
                conn.paused = False
                transport.resume_reading()
            return
        conn.closed = True
        self._conns.pop(conn.sock, None)
        if transport is not None:
            if abort:
                transport.abort("send timeout")
            else:
                transport.close()
        else:
            self.fire(close_event(conn.sock), self.channel)

    @handler("disconnect")
    def _on_disconnect(self, sock: Any) -> None:
        self._upgraded.discard(sock)
        conn = self._conns.pop(sock, None)
        if conn is not None:
            conn.closed = True
            conn.stop_streaming()

    def upgrade(self, sock: Any) -> bytes:
        """Hand ``sock`` over to another protocol; returns the bytes already received.

        From now on this component ignores the connection: its ``read``
        events are for whoever took it over (a WebSocket dispatcher, say),
        who also writes to it and closes it.
        """
        conn = self._conns.pop(sock, None)
        if conn is None:
            return b""
        self._upgraded.add(sock)
        conn.stop_streaming()
        if conn.paused and conn.transport is not None:
            conn.transport.resume_reading()
        return conn.parser.trailing_data.data

    # -- input -----------------------------------------------------------
    @handler("read")
    def _on_read(self, sock: Any, data: bytes) -> None:
        conn = self._conns.get(sock)
        if conn is None:
            if sock in self._upgraded:
                return
            conn = self._open(sock)
        if conn.linger_until:
            return  # discarding after an error response
        now = time.monotonic()
        conn.last_active = now
        conn.parser.receive_data(data)
        if conn.busy:
            conn.pending += len(data)
            if conn.pending > self.pipeline_buffer and not conn.paused and conn.transport is not None:
                conn.paused = True
                conn.transport.pause_reading()
            return
        if not conn.head_started and conn.request is None:
            conn.head_started = now  # a later request's head: its deadline runs from its first byte
        self._advance(conn)

    def _advance(self, conn: Connection) -> None:
        """Feed the parser's events to the request in progress."""
        parser = conn.parser
        try:
            while True:
                event = parser.next_event()
                cls = event.__class__
                if cls is H1Request:
                    if self._on_head(conn, event):  # type: ignore[arg-type]
                        return  # answered without its body
                elif cls is Data:
                    spool = conn.spool
                    if spool is None:
                        spool = conn.spool = BodySpool(self.spool_size)
                    spool.write(event.data)  # type: ignore[union-attr]
                    if conn.body_max is not None and spool.size > conn.body_max:
                        raise ContentTooLarge(f"body larger than {conn.body_max} bytes")
                elif cls is EndOfMessage:
                    self._dispatch(conn)
                    return
                elif event is NEED_DATA:
                    if conn.request is not None and not conn.continue_sent and parser.expects_continue:
                        # The head passed every check: the body will be read.
                        conn.continue_sent = True
                        conn.write(_CONTINUE)
                    return
                elif cls is ConnectionClosed:
                    self._close(conn)
                    return
                else:  # PAUSED
                    return
        except ProtocolError as e:
            self._reject(conn, e.status, e.message)

    def _on_head(self, conn: Connection, head: H1Request) -> bool:
        """Make the request; True when it was dispatched already, without its body."""
        target = head.target
        if target[0] == "/":
            path, _, qs = target.partition("?")
        elif target == "*":
            path, qs = "*", ""
        else:  # absolute-form (RFC 9112 section 3.2.2)
            parts = urlsplit(target)
            path, qs = parts.path or "/", parts.query
        if "%" in path:
            try:
                path = unquote(path, errors="strict")
            except UnicodeDecodeError:
                raise ProtocolError("request path is not valid UTF-8 once percent-decoded") from None
            if "\x00" in path:
                raise ProtocolError("NUL in request path")
        req = Request(conn.sock, head.method, self._scheme, path, _PROTOCOLS[head.http_version], qs,
                      head.headers, self._server, target)
        res = Response(req, self._encoding)
        res.close = not conn.parser.keep_alive
        conn.request = req
        conn.response = res
        conn.head_started = 0.0
        conn.body_started = time.monotonic()
        conn.body_max = None
        check = self.body_limit
        if check is not None and conn.parser.declared_length != 0:  # asked only when there is a body
            limit = check(req)
            if limit is not None:
                declared = conn.parser.declared_length
                if (declared is None and limit <= 0) or (declared is not None and declared > limit):
                    self._refuse_body(conn)
                    return True
                if declared is None:
                    conn.body_max = limit  # chunked: checked as it arrives
        return False

    def _refuse_body(self, conn: Connection) -> None:
        """Handle the request now, with an empty body that is never read; then close."""
        conn.request.body_refused = True
        conn.response.close = True
        transport = conn.transport
        if transport is not None and not conn.paused:
            conn.paused = True  # not a byte more until the answer is out
            transport.pause_reading()
        self._dispatch(conn)

    def _dispatch(self, conn: Connection) -> None:
        req = conn.request
        spool = conn.spool
        if spool is not None:
            req._body = spool.finish()
            conn.spool = None
        conn.busy = True
        conn.pending = 0
        sock = conn.sock
        if hasattr(sock, "getpeercert"):
            req.peer_cert = sock.getpeercert()
        self.fire(request(req, conn.response), self.channel)

    def _reject(self, conn: Connection, status: int, description: str = "") -> None:
        """Answer a protocol error with ``status``, then close."""
        req = conn.request
        if req is None:
            req = Request(conn.sock, "GET", self._scheme, "/", (1, 1), "", None, self._server)
            conn.request = req
            conn.response = Response(req, self._encoding)
        res = conn.response
        res.close = True
        conn.busy = True
        conn.head_started = 0.0
        conn.spool = None
        self.fire(httperror(req, res, status, description=description), self.channel)

    # -- timeouts --------------------------------------------------------
    def _schedule_sweep(self) -> None:
        interval = max(0.05, min(1.0, self.header_timeout / 4, self.keepalive_timeout / 4, self.body_timeout / 4))
        self._sweeping = True
        self.loop.call_later(interval, self._sweep)

    def _sweep(self) -> None:
        self._sweeping = False
        now = time.monotonic()
        for conn in list(self._conns.values()):
            if conn.linger_until:
                if now >= conn.linger_until:
                    conn.linger_until = 0.0
                    self._close(conn)
            elif conn.busy:
                if conn.waiting_drain and now - conn.drain_since > self.send_timeout:
                    self.timed_out += 1
                    # The client stopped reading: what is queued would never drain.
                    self._close(conn, abort=True)
                continue
            elif conn.head_started and now - conn.head_started > self.header_timeout:
                self.timed_out += 1
                if conn.parser.trailing_data.data:
                    self._reject(conn, 408, "The request head did not arrive in time.")
                else:
                    self._close(conn)  # it never said anything: nothing to answer
            elif conn.request is not None:
                if self._body_stalled(conn, now):
                    self.timed_out += 1
                    self._reject(conn, 408, "The request body did not arrive in time.")
            elif now - conn.last_active > self.keepalive_timeout:
                self._close(conn)
        if self._conns:
            self._schedule_sweep()

    def _body_stalled(self, conn: Connection, now: float) -> bool:
        """No body byte for ``body_timeout``, or slower than ``body_min_rate`` after it."""
        timeout = self.body_timeout
        if now - conn.last_active > timeout:
            return True
        elapsed = now - conn.body_started - timeout
        if elapsed <= 0 or not self.body_min_rate:
            return False
        received = conn.spool.size if conn.spool is not None else 0
        return received < self.body_min_rate * elapsed

    # -- results ---------------------------------------------------------
    @handler("request_success")
    def _on_request_success(self, e: Any, value: Any) -> None:
        req, res = e.args[0], e.args[1]
        self._respond_with(req, res, e.value._value)

    def _respond_with(self, req: Request, res: Response, value: Any) -> None:
        """Turn what the request handlers returned into a response."""
        if value is None:
            if not res.answered:  # else a handler fired the answer itself
                self.fire(notfound(req, res), self.channel)
        elif isinstance(value, (str, bytes)):
            res.body = value
            self.fire(response(res), self.channel)
        elif isinstance(value, httperror):
            self.fire(value, self.channel)
        elif isinstance(value, Response):
            self.fire(response(value), self.channel)
        elif isinstance(value, Value):
            if value.handled and not value.promise:
                if value.errors:
                    self._respond_error(req, res, value._value)
                else:
                    self._respond_with(req, res, value._value)
            else:
                event = value.event
                event.add_waiter(_Resume(lambda v: self._respond_with(req, res, v)))
        elif isinstance(value, BaseException):
            self._respond_error(req, res, (type(value), value, traceback.format_tb(value.__traceback__)))
        elif isinstance(value, bool):
            # Handlers that only answer yes/no produced no response.
            self.fire(notfound(req, res), self.channel)
        else:
            res.body = value
            self.fire(response(res), self.channel)

    @handler("request_failure")
    def _on_request_failure(self, e: Any, error: Any) -> None:
        req, res = e.args[0], e.args[1]
        if req.handled:
            return
        req.handled = True
        self._respond_error(req, res, error)

    def _respond_error(self, req: Request, res: Response, error: Any) -> None:
        evalue = error[1] if isinstance(error, tuple) and len(error) == 3 else error
        if isinstance(evalue, HTTPException):
            err = error if evalue.traceback and isinstance(error, tuple) else None
            self.fire(from_exception(req, res, evalue, err), self.channel)
        else:
            # The traceback was reported by the loop (``exception`` event);
            # the client only sees it when the request asks for debugging.
            self.fire(httperror(req, res, 500, error=error if isinstance(error, tuple) else None), self.channel)

    @handler("httperror")
    def _on_httperror(self, event: Any, req: Request, res: Response, code: Any = None, **kwargs: Any) -> None:
        """Render the error page into the response and send it."""
        res.body = str(event)
        self.fire(response(res), self.channel)

    @handler("response_failure")
    def _on_response_failure(self, e: Any, error: Any) -> None:
        res = e.args[0]
        conn = self._conns.get(res.request.sock)
        if conn is None or conn.response is not res:
            return
        if res.started:
            self._close(conn)  # the head is out: all we can do is end the connection
        else:
            fresh = Response(res.request, self._encoding)
            fresh.close = res.close
            conn.response = fresh
            self.fire(httperror(res.request, fresh, 500, error=error), self.channel)

    # -- output ----------------------------------------------------------
    @handler("response")
    def _on_response(self, res: Response) -> None:
        req = res.request
        conn = self._conns.get(req.sock)
        if conn is None or res.started or conn.request is not req:
            return  # the client went away, or this response was sent already
        if conn.response is not res:
            conn.response = res  # a handler answered with a Response of its own
        res.started = True
        conn.head_out = False
        try:
            self._send(conn, req, res)
        except Exception:
            self._internal_error(conn, sys.exc_info())

    def _internal_error(self, conn: Connection, exc_info: Any) -> None:
        """A response could not be sent (e.g. a header value with a line break, or a failing body)."""
        etype, evalue, etb = exc_info
        self.fire(exception(etype, evalue, traceback.format_tb(etb), handler=self._send), "*")
        if not conn.head_out:
            # Nothing went out yet: the client can still get a plain 500.
            conn.write(_FALLBACK_500)
        self._close(conn)

    def _send(self, conn: Connection, req: Request, res: Response) -> None:
        code = res.code
        body = res._body
        close = res.close or conn.close_after
        head_only = req.method == "HEAD"
        if code < 200 or code == 204 or code == 304:
            # RFC 9110 sections 15.2, 15.3.5, 15.4.5: these never carry content.
            _close_quietly(body)
            conn.write(render_head(res, None, False, close, req.protocol == (1, 0)))
            conn.head_out = True
            if code == 101:
                data = self.upgrade(conn.sock)
                self.fire(upgraded(req, res, data), self.channel)
                return
            self._complete(conn, close)
            return
        if res.stream and body is None:
            # The application streams with ``stream`` events.
            chunked = req.protocol >= (1, 1)
            close = close or not chunked
            res.chunked = chunked
            conn.write(render_head(res, None, chunked, close, req.protocol == (1, 0) and not close))
            conn.head_out = True
            conn.frame = chunk if chunked else _identity
            conn.finish_frame = last_chunk() if chunked else b""
            conn.close_after = close
            if head_only:
                self._complete(conn, close)
                return
            backlog, conn.backlog = conn.backlog, []
            for data in backlog:
                self._on_stream(res, data)
            return
        data = body_bytes(body, res.encoding)
        if data is not None:
            conn.write(render_head(res, len(data), False, close, req.protocol == (1, 0))
                       + (b"" if head_only else data))
            conn.head_out = True
            res.sent = 0 if head_only else len(data)
            self._complete(conn, close)
            return
        # A file or an iterator: stream it.
        length: int | None = None
        declared = res._headers.get("Content-Length") if res._headers is not None else None
        if declared is not None and declared.isdigit():
            length = int(declared)
        elif hasattr(body, "read"):
            length = file_size(body)
        iterator = file_generator(body, 65536) if hasattr(body, "read") else iter(body)
        chunked = length is None and req.protocol >= (1, 1)
        if length is None and not chunked:
            close = True  # HTTP/1.0: the end of the connection ends the body
        res.chunked = chunked
        conn.write(render_head(res, length, chunked, close, req.protocol == (1, 0) and not close))
        conn.head_out = True
        if head_only:
            _close_quietly(body)
            _close_quietly(iterator)
            self._complete(conn, close)
            return
        conn.iterator = iterator
        conn.frame = chunk if chunked else _identity
        conn.finish_frame = last_chunk() if chunked else b""
        conn.remaining = length
        conn.close_after = close
        self._pump(conn)

    def _pump(self, conn: Connection) -> None:
        """Write the next chunks of a streamed body, as far as backpressure allows."""
        conn.waiting_drain = False
        iterator = conn.iterator
        if iterator is None or conn.closed:
            return
        res = conn.response
        frame = conn.frame
        encoding = res.encoding
        budget = PUMP_BUDGET
        high_water = self.high_water
        try:
            while True:
                if conn.buffered > high_water:
                    if not conn.waiting_drain:
                        conn.waiting_drain = True
                        conn.drain_since = time.monotonic()
                    if self._tcp is None or not getattr(self._tcp, "has_drain_hook", False):
                        self.loop.call_later(0.005, lambda: self._pump(conn))
                    return
                if budget <= 0:
                    # Let the other connections have their turn.
                    self.loop.call_later(0, lambda: self._pump(conn))
                    return
                data = next(iterator)
                if not data:
                    continue
                if data.__class__ is not bytes:
                    data = data.encode(encoding) if isinstance(data, str) else bytes(data)
                remaining = conn.remaining
                if remaining is not None:
                    if len(data) > remaining:
                        data = data[:remaining]  # never send more than was announced
                    conn.remaining = remaining - len(data)
                conn.write(frame(data))  # type: ignore[misc]
                res.sent += len(data)
                budget -= len(data)
        except StopIteration:
            pass
        except Exception:
            # The head is out: the only honest signal left is to drop the connection.
            conn.iterator = None
            self._internal_error(conn, sys.exc_info())
            return
        conn.stop_streaming()
        if conn.remaining:
            self._close(conn)  # shorter than its Content-Length: the client must not reuse the connection
            return
        conn.write(conn.finish_frame)
        self._complete(conn, conn.close_after)

    def _on_drained(self, sock: Any) -> None:
        """The transport of ``sock`` wrote everything it had queued."""
        conn = self._conns.get(sock)
        if conn is not None:
            if conn.waiting_drain:
                self._pump(conn)
            elif conn.linger_until:
                try:
                    conn.sock.shutdown(socket.SHUT_WR)
                except OSError:
                    pass

    @handler("stream")
    def _on_stream(self, res: Response, data: Any) -> None:
        """Send one piece of a body streamed by the application; None ends it."""
        conn = self._conns.get(res.request.sock)
        if conn is None or conn.response is not res or conn.iterator is not None:
            return
        if conn.frame is None:
            if not res.started:
                # Fired before the response went out: sent right after its head.
                conn.backlog.append(data)
            return
        if data is None:
            conn.write(conn.finish_frame)
            self._complete(conn, conn.close_after)
            return
        if isinstance(data, str):
            data = data.encode(res.encoding)
        if data:
            conn.write(conn.frame(data))
            res.sent += len(data)

    def _complete(self, conn: Connection, close: bool) -> None:
        """The response is out: close, or go on with the next (pipelined) request."""
        res = conn.response
        if res is not None:
            res.done = True
        conn.request = conn.response = None
        conn.frame = None
        conn.backlog = []
        conn.remaining = None
        conn.continue_sent = False
        conn.close_after = False
        conn.last_active = time.monotonic()
        if close:
            self._close(conn, linger=not conn.parser.state == "DONE")
            return
        conn.busy = False
        conn.pending = 0
        conn.parser.start_next_cycle()
        if conn.paused:
            conn.paused = False
            if conn.transport is not None:
                conn.transport.resume_reading()
        self._advance(conn)


def _last_active(conn: Connection) -> float:
    return conn.last_active


def _identity(data: bytes) -> bytes:
    return data


def _close_quietly(body: Any) -> None:
    close = getattr(body, "close", None)
    if close is not None and not isinstance(body, (str, bytes)):
        try:
            close()
        except Exception:  # noqa: BLE001 - closing a body we will not send must not fail the response
            pass
