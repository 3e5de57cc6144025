"""Decide how a message body is delimited (RFC 9112 section 6.3).

``scan_headers`` makes one pass over the field list and keeps only what the
framing and connection logic needs; ``request_body_reader`` and
``response_body_reader`` then apply the numbered rules of section 6.3 and
return the matching body reader.
"""

from __future__ import annotations

from collections.abc import Iterable

from .body import BodyReader, ChunkedReader, ContentLengthReader, UntilCloseReader
from .errors import BadRequest, ContentTooLarge, NotImplementedCoding
from .headers import split_list
from .limits import Limits

__all__ = [
    "HeadInfo",
    "scan_headers",
    "parse_content_length",
    "request_body_reader",
    "response_body_reader",
]

# Lengths with more digits than this are larger than any sane limit (and
# int() on a huge digit string is itself a denial-of-service vector).
_MAX_LENGTH_DIGITS = 18


class HeadInfo:
    """The framing-relevant fields of one header section."""

    __slots__ = ("content_length", "transfer_encoding", "connection", "expect", "host_count")

    def __init__(self) -> None:
        self.content_length: list[bytes] | None = None
        self.transfer_encoding: list[bytes] | None = None
        self.connection: list[bytes] | None = None
        self.expect: list[bytes] | None = None
        self.host_count = 0

    def keep_alive(self, http_version: str) -> bool:
        """RFC 9112 section 9.3 (see ``headers.keep_alive``)."""
        connection = self.connection
        if connection is None:
            return http_version != "1.0"
        if len(connection) == 1:
            # Fast path for the usual single "keep-alive" or "close".
            value = connection[0].lower()
            if value == b"keep-alive":
                return True
            if value == b"close":
                return False
        tokens: list[bytes] = []
        for value in connection:
            tokens += split_list(value)
        if b"close" in tokens:
            return False
        return http_version != "1.0" or b"keep-alive" in tokens

    def expects_continue(self) -> bool:
        """RFC 9110 section 10.1.1: the expectation is case-insensitive."""
        if self.expect is None:
            return False
        return any(b"100-continue" in split_list(value) for value in self.expect)


_SLOTS = {
    b"content-length": "content_length",
    b"transfer-encoding": "transfer_encoding",
    b"connection": "connection",
    b"expect": "expect",
}
_NAMES = frozenset(_SLOTS) | {b"host"}


def scan_headers(headers: Iterable[tuple[bytes, bytes]]) -> HeadInfo:
    info = HeadInfo()
    names = _NAMES
    for name, value in headers:
        # One set lookup for the many fields framing does not care about.
        if name in names:
            if name == b"host":
                info.host_count += 1
                continue
            slot = _SLOTS[name]
            values = getattr(info, slot)
            if values is None:
                setattr(info, slot, [value])
            else:
                values.append(value)
    return info


def parse_content_length(values: list[bytes], limits: Limits) -> int:
    """RFC 9110 section 8.6: ``Content-Length = 1*DIGIT``.

    Several lines or a list are accepted only when every element is the same
    valid number; anything else is an unrecoverable framing error (RFC 9112
    section 6.3, item 5) and gets 400.  A length above ``limits.max_body``
    gets 413 before any body byte is read.
    """
    seen: set[bytes] = set()
    for value in values:
        seen.update(part.strip(b" \t") for part in value.split(b","))
    if len(seen) != 1:
        raise BadRequest("conflicting Content-Length values")
    (text,) = seen
    # bytes.isdigit() is ASCII-only, so "+1", "-1", "1.0" and "" all fail.
    if not text.isdigit():
        raise BadRequest(f"invalid Content-Length {text[:40]!r}")
    if len(text) > _MAX_LENGTH_DIGITS:
        if limits.max_body is not None:
            raise ContentTooLarge(f"body larger than {limits.max_body} bytes")
        raise BadRequest("Content-Length too large")
    length = int(text)
    if limits.max_body is not None and length > limits.max_body:
        raise ContentTooLarge(f"Content-Length {length} larger than {limits.max_body} bytes")
    return length


def _codings(values: list[bytes]) -> list[bytes]:
    # transfer-coding = token *( OWS ";" OWS transfer-parameter )  (RFC 9110 section 10.1.4)
    codings = []
    for value in values:
        for item in split_list(value):
            coding, semi, _ = item.partition(b";")
            coding = coding.rstrip(b" \t")
            if semi and coding == b"chunked":
                # RFC 9112 section 7: chunked defines no parameters, and
                # their presence SHOULD be treated as an error.
                raise BadRequest("parameters on the chunked transfer coding")
            codings.append(coding)
    if not codings:
        raise BadRequest("empty Transfer-Encoding")
    return codings


def request_body_reader(info: HeadInfo, http_version: str, limits: Limits) -> BodyReader:
    """RFC 9112 section 6.3 for a request; raises on any ambiguity."""
    if info.transfer_encoding is not None:
        if http_version == "1.0":
            # RFC 9112 section 6.1: Transfer-Encoding in an HTTP/1.0 message
            # MUST be treated as faulty framing.
            raise BadRequest("Transfer-Encoding in an HTTP/1.0 request")
        if info.content_length is not None:
            # RFC 9112 section 6.1/6.3 item 3: both fields is the classic
            # request-smuggling vector; a server MAY reject it, and we do,
            # rather than let either field win.
            raise BadRequest("both Transfer-Encoding and Content-Length in a request")
        codings = _codings(info.transfer_encoding)
        for coding in codings:
            if coding != b"chunked":
                # RFC 9112 section 6.1: a coding we do not understand -> 501.
                raise NotImplementedCoding(f"unsupported transfer coding {coding[:40]!r}")
        if len(codings) > 1:
            # RFC 9112 section 6.1: chunked MUST NOT be applied more than once.
            raise BadRequest("chunked applied more than once")
        return ChunkedReader(limits)
    if info.content_length is not None:
        return ContentLengthReader(parse_content_length(info.content_length, limits))
    # RFC 9112 section 6.3 item 7: no framing field -> no body.
    return ContentLengthReader(0)


def response_body_reader(
    info: HeadInfo, http_version: str, status: int, request_method: str, limits: Limits
) -> tuple[BodyReader, bool, bool]:
    """RFC 9112 section 6.3 for a final response.

    Returns ``(reader, must_close, tunnel)``: ``must_close`` when the framing
    makes the connection unusable afterwards, ``tunnel`` for a successful
    CONNECT, after which the bytes are no longer HTTP.
    """
    # Item 1: HEAD responses, 204 and 304 never have a body.
    if request_method == "HEAD" or status == 204 or status == 304:
        return ContentLengthReader(0), False, False
    # Item 2: a 2xx answer to CONNECT turns the connection into a tunnel.
    if request_method == "CONNECT" and 200 <= status < 300:
        return ContentLengthReader(0), False, True
    if info.transfer_encoding is not None:
        if http_version == "1.0":
            # Section 6.1: faulty framing; fall back to reading until close.
            return UntilCloseReader(limits), True, False
        codings = _codings(info.transfer_encoding)
        if codings[-1] == b"chunked":
            if codings.count(b"chunked") > 1:
                raise BadRequest("chunked applied more than once")
            # Item 3: Transfer-Encoding overrides Content-Length, and the
            # connection MUST NOT be reused after such a message.
            return ChunkedReader(limits), info.content_length is not None, False
        # Item 4: chunked not final -> read until the server closes.  Other
        # codings are passed through undecoded.
        return UntilCloseReader(limits), True, False
    if info.content_length is not None:
        return ContentLengthReader(parse_content_length(info.content_length, limits)), False, False
    # Item 8: no framing -> the body runs until the connection closes.
    return UntilCloseReader(limits), True, False
