"""Request and Response objects: what the ``request`` event carries.

Both are built for every request, so anything not needed by every request
(parsed headers, cookies, addresses, the body file) is computed on first
access and then kept.
"""

from __future__ import annotations

import io
import os
import stat
import time
from collections.abc import Callable, Iterator
from http.cookies import CookieError, SimpleCookie
from typing import IO, Any
from urllib.parse import SplitResult, urlsplit

from .constants import HTTP_STATUS_CODES, SERVER_PROTOCOL
from .headers import Headers

__all__ = ["Body", "Host", "Request", "Response", "file_generator"]

#: Default Content-Type of a response nobody set one for.
DEFAULT_CONTENT_TYPE = "text/html; charset=utf-8"


class Host:
    """An internet address; ``name`` is the host name, or the IP when unknown."""

    __slots__ = ("ip", "port", "name")

    def __init__(self, ip: str, port: int, name: str | None = None) -> None:
        self.ip = ip
        self.port = port
        self.name = name or ip

    def __repr__(self) -> str:
        return f"Host({self.ip!r}, {self.port!r}, {self.name!r})"


def _host_from(address: Any) -> Host:
    if isinstance(address, tuple) and len(address) >= 2:
        return Host(str(address[0]), int(address[1]))
    return Host(str(address or ""), 0)


class Request:
    """One HTTP request (see the module doc; built by the HTTP component).

    ``path`` is the percent-decoded path, ``qs`` the raw query string,
    ``protocol`` the client's HTTP version as a tuple, ``body`` a binary
    file positioned at the start of the (de-chunked) body.
    """

    #: The web server (BaseServer) this request arrived at.
    server: Any = None

    def __init__(self, sock: Any, method: str = "GET", scheme: str = "http", path: str = "/",
                 protocol: tuple[int, int] = (1, 1), qs: str = "", headers: Any = None,
                 server: Any = None, target: str | None = None) -> None:
        self.sock = sock
        self.method = method
        self.scheme = scheme
        self.path = path
        self.protocol = protocol
        self.qs = qs
        #: The request-target exactly as sent (still percent-encoded).
        self.target = target if target is not None else (path + ("?" + qs if qs else ""))
        if server is not None:
            self.server = server
        self.script_name = ""
        self.login: str | None = None
        self.handled = False
        # Error pages carry the traceback when this is set: only for a
        # server made with debug=True (a handler may also set it).
        self.print_debug = bool(getattr(server, "debug", False))
        self.args: tuple[Any, ...] = ()
        self.kwargs: dict[str, Any] = {}
        self.index = False
        self.session: Any = None
        self.peer_cert: Any = None
        #: The body was refused on the head (``HTTP(body_limit=...)``) and never read.
        self.body_refused = False
        # Lazy: raw codec headers until someone asks for .headers.
        if headers is None or isinstance(headers, Headers):
            self._raw_headers: Any = None
            self._headers: Headers | None = headers if headers is not None else Headers()
        elif isinstance(headers, dict):
            self._raw_headers = None
            self._headers = Headers(headers)
        else:
            self._raw_headers = headers
            self._headers = None
        self._body: IO[bytes] | None = None
        self._cookie: SimpleCookie | None = None
        self._remote: Host | None = None
        self._local: Host | None = None

    # -- lazily computed parts -------------------------------------------
    @property
    def headers(self) -> Headers:
        headers = self._headers
        if headers is None:
            headers = self._headers = Headers.from_raw(self._raw_headers)
            self._raw_headers = None
        return headers

    @headers.setter
    def headers(self, value: Any) -> None:
        self._headers = value if isinstance(value, Headers) else Headers(value)
        self._raw_headers = None

    @property
    def body(self) -> IO[bytes]:
        body = self._body
        if body is None:
            body = self._body = io.BytesIO()
        return body

    @body.setter
    def body(self, value: IO[bytes] | bytes | None) -> None:
        self._body = io.BytesIO(value) if isinstance(value, (bytes, bytearray)) else value

    @property
    def cookie(self) -> SimpleCookie:
        """The request's cookies (a malformed Cookie header gives none, not an error)."""
        cookie = self._cookie
        if cookie is None:
            cookie = self._cookie = SimpleCookie()
            for value in self.headers.get_all("Cookie"):
                try:
                    cookie.load(value)
                except CookieError:
                    pass
        return cookie

    @property
    def remote(self) -> Host:
        """The client's address."""
        if self._remote is None:
            try:
                self._remote = _host_from(self.sock.getpeername())
            except (OSError, AttributeError):
                self._remote = Host("", 0)
        return self._remote

    @remote.setter
    def remote(self, value: Host) -> None:
        self._remote = value

    @property
    def local(self) -> Host:
        """The server's address for this connection."""
        if self._local is None:
            try:
                self._local = _host_from(self.sock.getsockname())
            except (OSError, AttributeError):
                self._local = Host("", 0)
        return self._local

    @local.setter
    def local(self, value: Host) -> None:
        self._local = value

    @property
    def host(self) -> str:
        """The Host header (name[:port]), or the local address."""
        host = self.headers.get("Host")
        if host:
            return host
        local = self.local
        return local.name if not local.port else f"{local.name}:{local.port}"

    @property
    def base(self) -> str:
        """scheme://host of this request."""
        return f"{self.scheme}://{self.host}"

    @property
    def uri(self) -> SplitResult:
        """The full URL of this request, split (scheme, netloc, path, query, fragment)."""
        return urlsplit(self.url)

    @property
    def url(self) -> str:
        return self.base + self.script_name + self.target

    @property
    def xhr(self) -> bool:
        return self.headers.get("X-Requested-With", "").lower() == "xmlhttprequest"

    @property
    def server_protocol(self) -> tuple[int, int]:
        return SERVER_PROTOCOL

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.path!r} HTTP/{self.protocol[0]}.{self.protocol[1]}>"


class Body:
    """The ``response.body`` descriptor: bodies that are files or iterators stream."""

    def __get__(self, response: Any, owner: Any = None) -> Any:
        if response is None:
            return self
        return response._body

    def __set__(self, response: Any, value: Any) -> None:
        response._body = value
        if value is not None and value.__class__ not in (str, bytes):
            if hasattr(value, "read") or (
                    hasattr(value, "__next__") and not isinstance(value, (list, tuple, bytearray))):
                response.stream = True


class Response:
    """The response to one request: status, headers, cookies and body.

    ``body`` may be str, bytes, a list of those, a binary file (streamed with
    backpressure, never loaded whole) or an iterator/generator of chunks.
    Set ``close`` to end the connection after this response.
    """

    body = Body()
    #: A response or error event was made for this response (see ``HTTP``).
    answered = False

    def __init__(self, request: Request, encoding: str = "utf-8", code: int | None = None,
                 message: str | None = None) -> None:
        self.request = request
        self.encoding = encoding
        self.code = 200 if code is None else code
        self.message = message
        self.protocol = "HTTP/{}.{}".format(*SERVER_PROTOCOL)
        self._body: Any = None
        self._headers: Headers | None = None
        self._cookie: SimpleCookie | None = None
        self.close = False
        self.chunked = False
        self.stream = False
        self.done = False
        #: Set by the HTTP component once the status line went out.
        self.started = False
        #: Bytes of body sent so far (for loggers).
        self.sent = 0
        self.time = time.time()

    @property
    def status(self) -> int:
        return self.code

    @status.setter
    def status(self, value: int | str) -> None:
        if isinstance(value, str):
            code, _, message = value.strip().partition(" ")
            self.code = int(code)
            self.message = message or None
        else:
            self.code = int(value)
            self.message = None

    @property
    def reason(self) -> str:
        return self.message or HTTP_STATUS_CODES.get(self.code, "")

    @property
    def headers(self) -> Headers:
        headers = self._headers
        if headers is None:
            headers = self._headers = Headers([("Content-Type", DEFAULT_CONTENT_TYPE)])
        return headers

    @headers.setter
    def headers(self, value: Any) -> None:
        self._headers = value if isinstance(value, Headers) else Headers(value)

    @property
    def cookie(self) -> SimpleCookie:
        """Cookies to set (each becomes a Set-Cookie field)."""
        cookie = self._cookie
        if cookie is None:
            cookie = self._cookie = SimpleCookie()
        return cookie

    def __repr__(self) -> str:
        return f"<Response {self.code} {self.reason} ({self.headers.get('Content-Type')})>"

    def __str__(self) -> str:
        return f"{self.protocol} {self.code} {self.reason}\r\n"


def file_generator(input: IO[bytes], chunkSize: int = 65536) -> Iterator[bytes]:  # noqa: A002 - 3.x name
    """Yield ``input`` in chunks, closing it at the end."""
    try:
        read: Callable[[int], bytes] = input.read
        while True:
            chunk = read(chunkSize)
            if not chunk:
                return
            yield chunk
    finally:
        input.close()


def file_size(fileobj: Any) -> int | None:
    """Bytes left to read in a regular file (None if unknown, e.g. a pipe)."""
    try:
        st = os.fstat(fileobj.fileno())
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        if isinstance(fileobj, io.BytesIO):
            return len(fileobj.getbuffer()) - fileobj.tell()
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    try:
        return max(0, st.st_size - fileobj.tell())
    except (OSError, ValueError):
        return None
