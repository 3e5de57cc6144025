"""A sans-I/O HTTP/1.1 codec (RFC 9110 semantics, RFC 9112 message syntax).

Bytes in, events out (``RequestParser`` / ``ResponseParser``); events or
parameters in, bytes out (``writer``).  It never touches a socket, so the
same code serves ``circuits.web``, the HTTP client and the tests.
"""

from __future__ import annotations

from .errors import (
    BadRequest,
    ContentTooLarge,
    HeaderFieldsTooLarge,
    NotImplementedCoding,
    ProtocolError,
    URITooLong,
    VersionNotSupported,
)
from .events import (
    NEED_DATA,
    PAUSED,
    ConnectionClosed,
    Data,
    EndOfMessage,
    Event,
    Headers,
    InformationalResponse,
    Request,
    Response,
    Sentinel,
)
from .headers import connection_tokens, expects_continue, get_all, get_header, keep_alive, split_list
from .limits import CLIENT_LIMITS, DEFAULT_LIMITS, Limits
from .parser import RequestParser, ResponseParser, TrailingData
from .reasons import REASONS, reason_phrase
from .writer import (
    BodyWriter,
    ChunkedWriter,
    ContentLengthWriter,
    HeaderInput,
    UntilCloseWriter,
    body_writer,
    chunk,
    last_chunk,
    serialize,
    serialize_fields,
    serialize_head,
    serialize_request_head,
)

__all__ = [
    "BadRequest",
    "BodyWriter",
    "CLIENT_LIMITS",
    "ChunkedWriter",
    "ConnectionClosed",
    "ContentLengthWriter",
    "ContentTooLarge",
    "DEFAULT_LIMITS",
    "Data",
    "EndOfMessage",
    "Event",
    "HeaderFieldsTooLarge",
    "HeaderInput",
    "Headers",
    "InformationalResponse",
    "Limits",
    "NEED_DATA",
    "NotImplementedCoding",
    "PAUSED",
    "ProtocolError",
    "REASONS",
    "Request",
    "RequestParser",
    "Response",
    "ResponseParser",
    "Sentinel",
    "TrailingData",
    "URITooLong",
    "UntilCloseWriter",
    "VersionNotSupported",
    "body_writer",
    "chunk",
    "connection_tokens",
    "expects_continue",
    "get_all",
    "get_header",
    "keep_alive",
    "last_chunk",
    "reason_phrase",
    "serialize",
    "serialize_fields",
    "serialize_head",
    "serialize_request_head",
    "split_list",
]
