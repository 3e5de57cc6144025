"""Turning a Response into bytes: the head, and how its body is framed.

The head is serialized once, in one join. Every field an application set
goes through the codec's validation (no CR/LF in names or values), so no
header value can split the response (RFC 9110 section 5.5); the fields the
server adds itself are constants or digits and are appended as is.
"""

from __future__ import annotations

import time
from typing import Any

from ..protocols.h1 import reason_phrase, serialize_fields
from .constants import SERVER_VERSION
from .httpdate import format_http_date
from .wrappers import DEFAULT_CONTENT_TYPE

__all__ = ["http_date", "status_line", "render_head", "body_bytes"]

_status_lines: dict[int, bytes] = {}
_SERVER = f"Server: {SERVER_VERSION}\r\n".encode("ascii")
_DEFAULT_TYPE = f"Content-Type: {DEFAULT_CONTENT_TYPE}\r\n".encode("ascii")
_CLOSE = b"Connection: close\r\n"
_KEEP_ALIVE = b"Connection: keep-alive\r\n"
_CHUNKED = b"Transfer-Encoding: chunked\r\n"
# Fields the server computes; values an application set for them are replaced.
_FRAMING = frozenset({"content-length", "transfer-encoding", "connection"})

_date_second = -1
_date_line = b""


def http_date(when: float | None = None) -> str:
    """An IMF-fixdate (RFC 9110 section 5.6.7), e.g. 'Sun, 06 Nov 1994 08:49:37 GMT'."""
    return format_http_date(when)


def _date_field() -> bytes:
    # Formatting a date costs more than the rest of a small response: once a second is enough.
    global _date_second, _date_line
    now = time.time()
    second = int(now)
    if second != _date_second:
        _date_second = second
        _date_line = f"Date: {format_http_date(now)}\r\n".encode("ascii")
    return _date_line


def status_line(code: int, reason: str | None = None) -> bytes:
    """``HTTP/1.1 <code> <reason>\\r\\n`` (cached for registered reasons)."""
    if reason is None:
        line = _status_lines.get(code)
        if line is None:
            if not 100 <= code <= 999:
                raise ValueError(f"invalid status code {code!r}")
            line = _status_lines[code] = b"HTTP/1.1 %d %s\r\n" % (code, reason_phrase(code).encode("ascii"))
        return line
    text = reason.encode("latin-1")
    if b"\r" in text or b"\n" in text:
        raise ValueError(f"invalid reason phrase {reason!r}")
    return b"HTTP/1.1 %d %s\r\n" % (code, text)


def render_head(response: Any, length: int | None, chunked: bool, close: bool, keep_alive_10: bool) -> bytes:
    """The response head: status line, fields and the empty line.

    ``length`` becomes Content-Length (None: none is sent), ``chunked``
    adds Transfer-Encoding, ``close`` says Connection: close and
    ``keep_alive_10`` says Connection: keep-alive (to an HTTP/1.0 client).
    """
    parts = [status_line(response.code, response.message)]
    headers = response._headers
    has_date = has_server = False
    if headers is None:
        parts.append(_DEFAULT_TYPE)
    else:
        fields = []
        for name, value in headers._fields:
            lname = name.lower()
            if lname in _FRAMING:
                if lname == "connection" and response.code == 101:
                    fields.append((name, value))  # "Connection: Upgrade" (RFC 9110 section 7.8)
                    continue
                if lname == "content-length" and length is not None and response.request.method == "HEAD":
                    # HEAD: the application may announce the length of the GET body.
                    length = None
                    fields.append((name, value))
                continue
            if lname == "date":
                has_date = True
            elif lname == "server":
                has_server = True
            fields.append((name, value))
        parts.append(serialize_fields(fields))
    cookie = response._cookie
    if cookie:
        parts.append(serialize_fields([("Set-Cookie", m.OutputString()) for m in cookie.values()]))
    if length is not None:
        parts.append(b"Content-Length: %d\r\n" % length)
    if chunked:
        parts.append(_CHUNKED)
    if not has_date:
        parts.append(_date_field())
    if not has_server:
        parts.append(_SERVER)
    if close:
        parts.append(_CLOSE)
    elif keep_alive_10:
        parts.append(_KEEP_ALIVE)
    parts.append(b"\r\n")
    return b"".join(parts)


def body_bytes(body: Any, encoding: str) -> bytes | None:
    """A body that is sent in one piece as bytes, or None if it must stream."""
    cls = body.__class__
    if cls is bytes:
        return body
    if cls is str:
        return body.encode(encoding)
    if body is None:
        return b""
    if isinstance(body, (list, tuple)):
        return b"".join(x.encode(encoding) if isinstance(x, str) else bytes(x) for x in body if x is not None)
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    if isinstance(body, str):
        return body.encode(encoding)
    if hasattr(body, "read") or hasattr(body, "__next__") or hasattr(body, "__iter__"):
        return None
    return str(body).encode(encoding)
