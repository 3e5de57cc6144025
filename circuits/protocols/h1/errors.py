"""Errors raised by the HTTP/1.1 codec.

The parsers raise *only* :class:`ProtocolError` (or a subclass) for bad input,
so a server can catch one type and answer with ``error.status``.  Each subclass
fixes the status code the RFC asks a server to send for that kind of fault.
Misuse of the API by the caller (e.g. feeding data after EOF) raises
``RuntimeError`` instead, because it is a bug, not hostile input.
"""

from __future__ import annotations

__all__ = [
    "ProtocolError",
    "BadRequest",
    "ContentTooLarge",
    "URITooLong",
    "HeaderFieldsTooLarge",
    "NotImplementedCoding",
    "VersionNotSupported",
]


class ProtocolError(Exception):
    """A peer sent bytes that are not valid HTTP/1.x.

    ``status`` is the response status a server should answer with before it
    closes the connection.  On the client side (``ResponseParser``) it only
    classifies the fault; a proxy would answer 502 instead.
    """

    status: int = 400

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status={self.status})"


class BadRequest(ProtocolError):
    """Malformed syntax or framing (RFC 9110 section 15.5.1)."""

    status = 400


class ContentTooLarge(ProtocolError):
    """The body is larger than ``Limits.max_body`` (RFC 9110 section 15.5.14)."""

    status = 413


class URITooLong(ProtocolError):
    """The request-line is longer than ``Limits.max_request_line``.

    RFC 9112 section 3: "A server that receives a request-target longer than
    any URI it wishes to parse MUST respond with a 414 (URI Too Long)".
    """

    status = 414


class HeaderFieldsTooLarge(ProtocolError):
    """A field line, the field count or the whole head is too large (RFC 6585 section 5)."""

    status = 431


class NotImplementedCoding(ProtocolError):
    """A transfer coding we do not implement (RFC 9112 section 6.1: SHOULD answer 501)."""

    status = 501


class VersionNotSupported(ProtocolError):
    """A major HTTP version other than 1 (RFC 9110 section 15.6.6)."""

    status = 505
