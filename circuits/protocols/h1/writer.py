"""Serialize HTTP/1.1 heads and frame bodies.

Every field name and value is validated before it is written: a name must be
a token and a value must not contain CR, LF, NUL or other control characters
(RFC 9110 section 5.5), so caller-supplied data cannot inject extra fields or
split a response.  Violations raise ``ValueError``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from .abnf import FIELD_VALUE_FULL, REASON_FULL, TARGET_FULL, TOKEN_FULL
from .events import InformationalResponse, Request, Response
from .headers import split_list
from .reasons import reason_phrase

__all__ = [
    "HeaderInput",
    "serialize_head",
    "serialize_request_head",
    "serialize_fields",
    "serialize",
    "chunk",
    "last_chunk",
    "BodyWriter",
    "ContentLengthWriter",
    "ChunkedWriter",
    "UntilCloseWriter",
    "body_writer",
]

HeaderInput = Iterable[tuple[bytes | str, bytes | str | int]]

_token = TOKEN_FULL.fullmatch
_field_value = FIELD_VALUE_FULL.fullmatch
_VERSIONS = {"1.1": b"HTTP/1.1", "1.0": b"HTTP/1.0"}
_status_lines: dict[tuple[int, str], bytes] = {}


def _as_bytes(value: bytes | str | int) -> bytes:
    if isinstance(value, str):
        # Field values are octets; Latin-1 maps obs-text 1:1 (RFC 9110 section 5.5).
        return value.encode("latin-1")
    if isinstance(value, int):
        return str(value).encode("ascii")
    return bytes(value)


def _append_fields(out: list[bytes], headers: HeaderInput) -> None:
    for name, value in headers:
        if name.__class__ is not bytes:
            name = _as_bytes(name)
        if value.__class__ is not bytes:
            value = _as_bytes(value)
        if _token(name) is None:  # type: ignore[arg-type]
            raise ValueError(f"invalid header field name {name!r}")
        if _field_value(value) is None:  # type: ignore[arg-type]
            raise ValueError(f"invalid header field value for {name!r}: {value!r}")
        out += (name, b": ", value, b"\r\n")  # type: ignore[list-item]


def _version(http_version: str) -> bytes:
    try:
        return _VERSIONS[http_version]
    except KeyError:
        raise ValueError(f"unsupported HTTP version {http_version!r}") from None


def _status_line(status: int, reason: str | bytes | None, http_version: str) -> bytes:
    if not reason:
        key = (status, http_version)
        line = _status_lines.get(key)
        if line is not None:
            return line
    if status.__class__ is not int or not 100 <= status <= 999:
        raise ValueError(f"invalid status code {status!r}")
    phrase = _as_bytes(reason) if reason else reason_phrase(status).encode("ascii")
    if REASON_FULL.fullmatch(phrase) is None:
        raise ValueError(f"invalid reason phrase {phrase!r}")
    # status-line = HTTP-version SP status-code SP [ reason-phrase ] CRLF (RFC 9112 section 4)
    line = b"%s %d %s\r\n" % (_version(http_version), status, phrase)
    if not reason:
        _status_lines[(status, http_version)] = line
    return line


def serialize_head(
    status: int, reason: str | bytes | None = None, headers: HeaderInput = (), http_version: str = "1.1"
) -> bytes:
    """A response head: status-line, field lines and the empty line (RFC 9112 section 4).

    An empty ``reason`` uses the registered phrase.  Framing fields
    (Content-Length / Transfer-Encoding) are the caller's job.
    """
    out = [_status_line(status, reason, http_version)]
    _append_fields(out, headers)
    out.append(b"\r\n")
    return b"".join(out)


def serialize_request_head(
    method: str, target: str, headers: HeaderInput = (), http_version: str = "1.1"
) -> bytes:
    """A request head (RFC 9112 section 3).  ``method`` must be a token, ``target`` visible ASCII."""
    m = _as_bytes(method)
    t = _as_bytes(target)
    if _token(m) is None:
        raise ValueError(f"invalid method {method!r}")
    if TARGET_FULL.fullmatch(t) is None:
        raise ValueError(f"invalid request target {target!r}")
    out = [b"%s %s %s\r\n" % (m, t, _version(http_version))]
    _append_fields(out, headers)
    out.append(b"\r\n")
    return b"".join(out)


def serialize_fields(headers: HeaderInput) -> bytes:
    """Field lines only (each ending in CRLF), e.g. for a trailer section."""
    out: list[bytes] = []
    _append_fields(out, headers)
    return b"".join(out)


def serialize(event: Request | Response | InformationalResponse) -> bytes:
    """The head for a parsed (or constructed) head event."""
    if isinstance(event, Request):
        return serialize_request_head(event.method, event.target, event.headers, event.http_version)
    if isinstance(event, InformationalResponse) and not 100 <= event.status < 200:
        raise ValueError("InformationalResponse needs a 1xx status")
    if isinstance(event, Response) and event.status < 200:
        raise ValueError("Response needs a final (>= 200) status")
    return serialize_head(event.status, event.reason, event.headers, event.http_version)


# -- body framing --------------------------------------------------------------


def chunk(data: bytes) -> bytes:
    """One chunk: ``chunk-size CRLF chunk-data CRLF`` (RFC 9112 section 7.1).

    Empty data yields ``b""``: a zero-size chunk would end the body.
    """
    if not data:
        return b""
    return b"%x\r\n%s\r\n" % (len(data), data)


def last_chunk(trailers: HeaderInput | None = None) -> bytes:
    """The last chunk, optional trailer fields and the final CRLF (RFC 9112 section 7.1.2)."""
    if not trailers:
        return b"0\r\n\r\n"
    return b"0\r\n" + serialize_fields(trailers) + b"\r\n"


class BodyWriter(Protocol):
    def write(self, data: bytes) -> bytes: ...

    def end(self, trailers: HeaderInput | None = None) -> bytes: ...


class ContentLengthWriter:
    """Passes data through and checks it adds up to the declared Content-Length."""

    __slots__ = ("_remaining",)

    def __init__(self, length: int) -> None:
        self._remaining = length

    def write(self, data: bytes) -> bytes:
        if len(data) > self._remaining:
            raise ValueError("body longer than its Content-Length")
        self._remaining -= len(data)
        return data

    def end(self, trailers: HeaderInput | None = None) -> bytes:
        if self._remaining:
            raise ValueError(f"body ended {self._remaining} bytes short of its Content-Length")
        if trailers:
            raise ValueError("trailers need chunked transfer coding")
        return b""


class ChunkedWriter:
    """Frames data as chunks and ends with the last chunk plus trailers."""

    __slots__ = ()

    def write(self, data: bytes) -> bytes:
        return chunk(data)

    def end(self, trailers: HeaderInput | None = None) -> bytes:
        return last_chunk(trailers)


class UntilCloseWriter:
    """No framing: the body ends when the server closes (RFC 9112 section 6.3 item 8)."""

    __slots__ = ()

    def write(self, data: bytes) -> bytes:
        return data

    def end(self, trailers: HeaderInput | None = None) -> bytes:
        if trailers:
            raise ValueError("trailers need chunked transfer coding")
        return b""


def body_writer(
    headers: HeaderInput, *, request_method: str | None = None, status: int | None = None
) -> BodyWriter:
    """The writer matching the framing fields in ``headers``.

    Give ``status`` (and the ``request_method`` it answers) for a response;
    omit ``status`` for a request.  Mirrors RFC 9112 section 6.3.
    """
    if status is not None and (
        status < 200
        or status in (204, 304)
        or request_method == "HEAD"
        or (request_method == "CONNECT" and status < 300)
    ):
        return ContentLengthWriter(0)
    length: int | None = None
    for name, value in headers:
        lname = _as_bytes(name).lower()
        if lname == b"transfer-encoding":
            if split_list(_as_bytes(value))[-1:] == [b"chunked"]:
                return ChunkedWriter()
            if status is None:
                raise ValueError("a request's Transfer-Encoding must end with chunked")
            return UntilCloseWriter()
        if lname == b"content-length":
            length = int(_as_bytes(value))
    if length is not None:
        return ContentLengthWriter(length)
    return ContentLengthWriter(0) if status is None else UntilCloseWriter()
