"""Parsing and inspecting header (and trailer) sections.

``parse_header_block`` validates a whole block of field lines with one
regular-expression pass; only when that fails does it walk the lines in
Python to say precisely what was wrong.  The helpers below answer the few
questions the framing and connection logic asks of a header list.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .abnf import FIELD_VALUE, TOKEN
from .errors import BadRequest, HeaderFieldsTooLarge, ProtocolError
from .limits import Limits

__all__ = [
    "parse_header_block",
    "get_header",
    "get_all",
    "split_list",
    "connection_tokens",
    "keep_alive",
    "expects_continue",
]

_Headers = list[tuple[bytes, bytes]]

# One field line anchored at a line start (RFC 9112 section 5).  With the
# count check in ``parse_header_block`` this proves every line is valid: each
# match spans exactly one line from its start to its LF, so n matches for n
# LFs leave no line unmatched.
_FIELD_LINE = re.compile(rb"^(" + TOKEN + rb"):[\t ]*(" + FIELD_VALUE + rb")[\t ]*\r?\n", re.M)
_TOKEN_FULL = re.compile(TOKEN)
_VALUE_FULL = re.compile(FIELD_VALUE)


def parse_header_block(block: bytes, limits: Limits) -> _Headers:
    """Parse field lines, each ending in LF (the terminating empty line excluded).

    Returns ``[(lower-cased name, value), ...]`` in received order.  Raises
    :class:`HeaderFieldsTooLarge` for too many or too long lines and
    :class:`BadRequest` for anything RFC 9112 section 5 does not allow.
    """
    if not block:
        return []
    if block[-1] != 0x0A:
        raise BadRequest("header section not terminated by a line ending")
    count = block.count(b"\n")
    if count > limits.max_headers:
        raise HeaderFieldsTooLarge(f"more than {limits.max_headers} header fields")
    # A short block cannot hold a long line, so the common case skips this.
    if len(block) > limits.max_header_line:
        for line in block.split(b"\n"):
            if len(line.rstrip(b"\r")) > limits.max_header_line:
                raise HeaderFieldsTooLarge(f"header field line longer than {limits.max_header_line} bytes")
    found = _FIELD_LINE.findall(block)
    if len(found) != count:
        raise _diagnose(block)
    return [(name.lower(), value) for name, value in found]


def _diagnose(block: bytes) -> ProtocolError:
    """Explain why a header block failed validation (slow path, errors only)."""
    for raw in block.split(b"\n")[:-1]:
        line = raw[:-1] if raw.endswith(b"\r") else raw
        if line[:1] in (b" ", b"\t"):
            # RFC 9112 section 5.2: a server MUST reject obs-fold with 400
            # (or replace it, which would change the message).
            return BadRequest("obsolete line folding (obs-fold) is not allowed")
        if b"\r" in line:
            return BadRequest("bare CR in header section")
        name, colon, value = line.partition(b":")
        if not colon:
            return BadRequest("header field line without a colon")
        if name[-1:] in (b" ", b"\t"):
            # RFC 9112 section 5.1: no whitespace between field name and colon.
            return BadRequest("whitespace between header field name and colon")
        if _TOKEN_FULL.fullmatch(name) is None:
            return BadRequest(f"invalid header field name {name[:40]!r}")
        if _VALUE_FULL.fullmatch(value.strip(b" \t")) is None:
            # RFC 9110 section 5.5: CR, LF, NUL and other CTLs are not allowed.
            return BadRequest(f"invalid character in value of header field {name[:40]!r}")
    return BadRequest("malformed header section")


def get_all(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> list[bytes]:
    """All values of field ``name`` (lower-case bytes) in received order."""
    return [v for n, v in headers if n == name]


def get_header(
    headers: Iterable[tuple[bytes, bytes]], name: bytes, default: bytes | None = None
) -> bytes | None:
    """The values of field ``name`` combined with ", " (RFC 9110 section 5.3), or ``default``."""
    values = get_all(headers, name)
    return b", ".join(values) if values else default


def split_list(value: bytes) -> list[bytes]:
    """Split a ``#token`` list value into lower-cased elements, skipping empty ones.

    RFC 9110 section 5.6.1: recipients MUST accept empty list elements.
    """
    return [item for item in (part.strip(b" \t").lower() for part in value.split(b",")) if item]


def connection_tokens(headers: Iterable[tuple[bytes, bytes]]) -> set[bytes]:
    """The lower-cased connection options from all Connection fields (RFC 9110 section 7.6.1)."""
    tokens: set[bytes] = set()
    for name, value in headers:
        if name == b"connection":
            tokens.update(split_list(value))
    return tokens


def keep_alive(http_version: str, headers: Iterable[tuple[bytes, bytes]]) -> bool:
    """Whether the connection persists after this message (RFC 9112 section 9.3).

    "close" always ends it; HTTP/1.1 persists by default; HTTP/1.0 persists
    only with "keep-alive" (RFC 9112 section 9.3 and appendix C.2.2).
    """
    tokens = connection_tokens(headers)
    if b"close" in tokens:
        return False
    if http_version == "1.0":
        return b"keep-alive" in tokens
    return True


def expects_continue(headers: Iterable[tuple[bytes, bytes]]) -> bool:
    """Whether an Expect field asks for ``100-continue`` (RFC 9110 section 10.1.1, case-insensitive)."""
    for name, value in headers:
        if name == b"expect" and b"100-continue" in split_list(value):
            return True
    return False
