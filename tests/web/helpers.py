"""Run a circuits.web server in a thread and talk to it over real sockets."""

from __future__ import annotations

import http.client
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from circuits.protocols import h1
from circuits.web import BaseServer, Server

#: Generous bound for anything a test waits on; a healthy run takes milliseconds.
TIMEOUT = 5.0


class Running:
    """A started server: its port, and ways to reach it."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.port: int = app.port
        self.host = "127.0.0.1"

    def conn(self, timeout: float = TIMEOUT) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
                ) -> tuple[http.client.HTTPResponse, bytes]:
        conn = self.conn()
        try:
            conn.request(method, path, body=body, headers=headers or {})
            res = conn.getresponse()
            return res, res.read()
        finally:
            conn.close()

    def get(self, path: str, **kwargs: Any) -> tuple[http.client.HTTPResponse, bytes]:
        return self.request("GET", path, **kwargs)

    def raw(self, timeout: float = TIMEOUT) -> socket.socket:
        sock = socket.create_connection((self.host, self.port), timeout=timeout)
        return sock


@contextmanager
def serve(*components: Any, base: bool = False, **kwargs: Any) -> Iterator[Running]:
    """A Server (or BaseServer) on a free port with ``components``, in a thread."""
    cls = BaseServer if base else Server
    app = cls(("127.0.0.1", 0), **kwargs)
    for component in components:
        component.register(app)
    app.start()
    try:
        yield Running(app)
    finally:
        app.stop()
        app.join(TIMEOUT)


def parse_responses(data: bytes, methods: list[str] | None = None, eof: bool = True) -> list[Reply]:
    """Every complete response in ``data`` (parsed with the codec), 1xx ones included."""
    methods = list(methods or [])
    parser = h1.ResponseParser(request_method=methods.pop(0) if methods else "GET")
    parser.receive_data(data)
    if eof:
        parser.receive_data(b"")
    replies: list[Reply] = []
    current: Reply | None = None
    pieces = []
    while True:
        try:
            event = parser.next_event()
        except h1.ProtocolError:
            break  # a response cut short
        if event is h1.PAUSED:
            if parser.state != "DONE":
                break
            parser.start_next_cycle(methods.pop(0) if methods else "GET")
            continue
        if event is h1.NEED_DATA or isinstance(event, h1.ConnectionClosed):
            break
        if isinstance(event, h1.InformationalResponse):
            replies.append(Reply(event.status, _headers(event.headers), b""))
            if event.status == 101:
                break
        elif isinstance(event, h1.Response):
            current = Reply(event.status, _headers(event.headers), b"")
            pieces: list[bytes] = []
        elif isinstance(event, h1.Data):
            pieces.append(event.data)  # joined once: += would copy quadratically
        elif isinstance(event, h1.EndOfMessage):
            assert current is not None
            current.body = b"".join(pieces)
            replies.append(current)
            current = None
    return replies


def _headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in raw}


class Reply:
    """One parsed response: status, headers (lower-case names), body."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def __repr__(self) -> str:
        return f"Reply({self.status}, {self.headers}, {self.body[:60]!r})"


def recv_all(sock: socket.socket, timeout: float = TIMEOUT) -> bytes:
    """Everything the server sends until it closes the connection."""
    sock.settimeout(timeout)
    chunks = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            data = sock.recv(65536)
        except ConnectionResetError:
            break
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks)


def recv_until(sock: socket.socket, marker: bytes, timeout: float = TIMEOUT) -> bytes:
    """Bytes up to and including ``marker`` (or whatever came before a close)."""
    sock.settimeout(timeout)
    data = b""
    while marker not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def wait_closed(sock: socket.socket, timeout: float = TIMEOUT) -> tuple[bytes, bool]:
    """What the server sent, and whether it closed (EOF or reset) before ``timeout``."""
    deadline = time.monotonic() + timeout
    chunks = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return b"".join(chunks), False
        sock.settimeout(left)
        try:
            data = sock.recv(65536)
        except TimeoutError:
            return b"".join(chunks), False
        except ConnectionResetError:
            return b"".join(chunks), True
        if not data:
            return b"".join(chunks), True
        chunks.append(data)
