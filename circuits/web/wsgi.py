"""WSGI (PEP 3333) support: circuits apps as WSGI apps, WSGI apps in circuits.

* :class:`Application` turns a circuits.web component tree into a WSGI
  application: ``app = Application() + Root()``; ``app(environ,
  start_response)``. Each call builds a Request/Response from the environ,
  fires ``request`` and runs the tree's loop until the ``response`` event.
* :class:`Gateway` hosts WSGI applications inside a circuits.web server:
  ``Gateway({"/": app, "/admin": admin_app})``. Requests under a mount
  point (the longest prefix wins) go to that application with
  ``SCRIPT_NAME`` set to the prefix.

Blocking, on purpose: a WSGI application is synchronous by definition, so
the Gateway calls it *inline*, on the loop's thread. While it runs, nothing
else on that loop runs: keep hosted applications fast, or put the slow ones
behind a worker (a threaded WSGI server) instead. Response bodies that are
iterators are streamed by the HTTP component with backpressure, one chunk
per pass, so a large or slow body does not stall other connections.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ..core.components import BaseComponent
from ..core.events import Event
from ..core.handlers import handler
from .dispatchers.dispatcher import Dispatcher
from .events import request as request_event
from .headers import Headers
from .http import HTTP
from .output import body_bytes
from .wrappers import Response, file_generator
from .wsgi_environ import HOP_BY_HOP, environ_for, request_from

__all__ = ["Application", "Gateway", "WSGIApp"]

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
StartResponse = Callable[..., Callable[[bytes], None]]

#: Gateway's ``request`` priority: above the default Dispatcher, so a mounted
#: application sees its requests first; below WebSockets and the RPC
#: dispatchers, which own a single path each.
GATEWAY_PRIORITY = 0.2


class Application(BaseComponent):
    """A circuits.web tree as a WSGI application (see module doc).

    ``Application(channel="web", encoding="utf-8", timeout=30.0)``. Calls
    are serialized (one request at a time through the tree); a handler that
    is still not done after ``timeout`` seconds gets a 504.
    """

    channel: Any = "web"

    def init(self, channel: Any = "web", encoding: str = "utf-8", timeout: float = 30.0,
             max_body: int | None = 10 * 1024 * 1024, **kwargs: Any) -> None:
        self.encoding = encoding
        self.timeout = timeout
        self.max_body = max_body
        self._finished: set[int] = set()
        self._lock = threading.Lock()
        # HTTP turns the handlers' results (str, Response, errors, Values)
        # into ``response`` events; it sends nothing here (no connections).
        self.http = HTTP(None, encoding, channel=self.channel).register(self)
        self.dispatcher = Dispatcher(channel=self.channel).register(self)

    @handler("response", priority=1.0)
    def _on_response(self, response: Response) -> None:
        self._finished.add(id(response))

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        with self._lock:
            try:
                req = request_from(environ, self.max_body)
            except ValueError:
                start_response("413 Content Too Large", [("Content-Type", "text/plain")])
                return [b"request body too large\n"]
            req.server = self
            res = Response(req, self.encoding)
            self.fire(request_event(req, res), self.channel)
            self._run_until_done(res)
            return self._reply(req, res, start_response)

    def _run_until_done(self, res: Response) -> None:
        key = id(res)
        root = self.root
        loop = root.loop
        deadline = loop.clock.now() + self.timeout
        while key not in self._finished:
            left = deadline - loop.clock.now()
            if left <= 0:
                res.status = 504
                res.body = "the application did not answer in time\n"
                res.headers["Content-Type"] = "text/plain; charset=utf-8"
                break
            # A pass dispatches what is queued; it waits (at most ``left``)
            # only when handlers wait on timers or I/O.
            root.tick(min(left, 0.5))
        self._finished.discard(key)

    def _reply(self, req: Any, res: Response, start_response: StartResponse) -> Iterable[bytes]:
        headers = [(name, value) for name, value in res.headers.items() if name.lower() not in HOP_BY_HOP]
        headers.extend(("Set-Cookie", morsel.OutputString()) for morsel in res.cookie.values())
        status = f"{res.code} {res.reason}"
        no_body = req.method == "HEAD" or res.code < 200 or res.code in (204, 304)
        body = res.body
        data = body_bytes(body, res.encoding)
        if data is not None:
            if not no_body or req.method == "HEAD":
                headers = [(n, v) for n, v in headers if n.lower() != "content-length"]
                headers.append(("Content-Length", str(len(data))))
            start_response(status, headers)
            return [] if no_body else [data]
        start_response(status, headers)
        if no_body:
            _close(body)
            return []
        chunks = file_generator(body) if hasattr(body, "read") else iter(body)
        return _encoded(chunks, res.encoding)


def _encoded(chunks: Iterator[Any], encoding: str) -> Iterator[bytes]:
    try:
        for chunk in chunks:
            if chunk:
                yield chunk.encode(encoding) if isinstance(chunk, str) else bytes(chunk)
    finally:
        _close(chunks)


def _close(body: Any) -> None:
    close = getattr(body, "close", None)
    if close is not None:
        close()


class _WSGICall:
    """One call of a WSGI application: start_response, write() and the body."""

    def __init__(self, response: Response) -> None:
        self.response = response
        self.started = False  # start_response was called
        self.sent = False  # the head has been handed to the HTTP component
        self.written: list[bytes] = []
        self.wrote = False  # the application used the write() callable

    def start_response(self, status: str, headers: list[tuple[str, str]],
                       exc_info: Any = None) -> Callable[[bytes], None]:
        if exc_info is not None:
            try:
                if self.sent:
                    # PEP 3333: too late to change the head, re-raise.
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif self.started:
            raise AssertionError("start_response() called twice without exc_info")
        self.started = True
        res = self.response
        res.status = status
        fields = Headers()
        for name, value in headers:
            if name.lower() in HOP_BY_HOP:
                raise ValueError(f"a WSGI application may not set hop-by-hop header {name!r}")
            fields.append(name, value)
        res.headers = fields
        return self.write

    def write(self, data: bytes | str) -> None:
        """The legacy write() callable: data goes out before the iterable's."""
        if not self.started:
            raise AssertionError("write() before start_response()")
        self.wrote = True
        if data:
            self.written.append(_chunk(data, self.response.encoding))


class Gateway(BaseComponent):
    """Hosts WSGI applications by path prefix (see module doc).

    ``Gateway(apps={"/": app, "/blog": blog_app}, channel="web")``; a single
    application may be given as ``apps=app`` (mounted at "/").
    """

    channel: Any = "web"

    def init(self, apps: dict[str, WSGIApp] | WSGIApp | None = None, channel: Any = "web",
             **kwargs: Any) -> None:
        if apps is None:
            apps = {}
        elif callable(apps) and not isinstance(apps, dict):
            apps = {"/": apps}
        self.apps: dict[str, WSGIApp] = {}
        for prefix, app in apps.items():
            self.mount(prefix, app)

    def mount(self, prefix: str, app: WSGIApp) -> None:
        prefix = "/" + prefix.strip("/") if prefix.strip("/") else "/"
        self.apps[prefix] = app
        # Longest prefix first: "/a/b" before "/a" before "/".
        self.apps = dict(sorted(self.apps.items(), key=lambda item: len(item[0]), reverse=True))

    def match(self, path: str) -> tuple[str, WSGIApp] | None:
        for prefix, app in self.apps.items():
            if prefix == "/" or path == prefix or path.startswith(prefix + "/"):
                return prefix, app
        return None

    @handler("request", priority=GATEWAY_PRIORITY)
    def _on_request(self, event: Event, request: Any, response: Response) -> Any:
        found = self.match(request.path)
        if found is None:
            return None
        prefix, app = found
        environ = environ_for(request, "" if prefix == "/" else prefix)
        call = _WSGICall(response)
        result = app(environ, call.start_response)
        try:
            first = self._first_chunk(call, result)
        except BaseException:
            _close(result)
            raise
        if not call.started:
            _close(result)
            raise RuntimeError(f"WSGI application {app!r} returned without calling start_response()")
        call.sent = True
        if first is None:  # the whole body is known
            _close(result)
            response.body = b"".join(call.written)
        else:
            response.body = self._stream(call, first, result)
        return response

    @staticmethod
    def _first_chunk(call: _WSGICall, result: Iterable[bytes] | str) -> Iterator[bytes] | None:
        """Run the application up to its first non-empty chunk (PEP 3333: the
        head must not go out before it), buffering everything so far.

        Returns None when the body is complete, else the live iterator. A
        ``str`` result is one whole body (3.x applications return one; PEP
        3333 would iterate it character by character), and ``str`` chunks
        are encoded with the response's encoding.
        """
        encoding = call.response.encoding
        if isinstance(result, (str, bytes, bytearray)):
            result = [result]
        if isinstance(result, (list, tuple)) and not call.wrote:
            call.written.extend(_chunk(c, encoding) for c in result if c)
            return None
        iterator = iter(result)
        for chunk in iterator:
            if chunk:
                call.written.append(_chunk(chunk, encoding))
                return iterator
        # write() was used: PEP 3333 says its data is sent at once, unbuffered,
        # so the body goes out as it came (chunked), not as one Content-Length.
        return iterator if call.wrote else None

    @staticmethod
    def _stream(call: _WSGICall, iterator: Iterator[bytes], result: Any) -> Iterator[bytes]:
        encoding = call.response.encoding
        try:
            while True:
                while call.written:
                    yield call.written.pop(0)
                chunk = next(iterator, None)
                if chunk is None:
                    if call.written:
                        continue
                    return
                if chunk:
                    call.written.append(_chunk(chunk, encoding))
        finally:
            _close(result)


def _chunk(data: Any, encoding: str) -> bytes:
    """A body chunk as bytes (``str`` is accepted, as 3.x did, and encoded)."""
    return data.encode(encoding) if isinstance(data, str) else bytes(data)
