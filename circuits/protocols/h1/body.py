"""Body readers: one small state machine per framing of RFC 9112 section 6.

A reader's ``read(buf)`` returns a :class:`Data`, the final
:class:`EndOfMessage`, or ``NEED_DATA``.  When the peer has closed and
``read`` wants more, the parser calls ``at_eof()``, which either ends the
message (read-until-close) or raises because the body was cut short.
"""

from __future__ import annotations

from typing import Protocol

from .abnf import CHUNK_SIZE_LINE
from .errors import BadRequest, ContentTooLarge, HeaderFieldsTooLarge
from .events import NEED_DATA, Data, EndOfMessage, Sentinel
from .headers import parse_header_block
from .limits import Limits
from .receivebuffer import ReceiveBuffer

__all__ = ["BodyReader", "ContentLengthReader", "ChunkedReader", "UntilCloseReader"]

_match_chunk_size = CHUNK_SIZE_LINE.fullmatch

# More hex digits than this cannot be a size any limit allows (16 hex
# digits already exceed 2**63); refusing early keeps int() cheap.
_MAX_HEX_DIGITS = 16


class BodyReader(Protocol):
    def read(self, buf: ReceiveBuffer) -> Data | EndOfMessage | Sentinel: ...

    def at_eof(self) -> EndOfMessage: ...


class ContentLengthReader:
    """Exactly ``length`` bytes (RFC 9112 section 6.3, item 6); also used with 0 for "no body"."""

    __slots__ = ("_remaining", "length")

    def __init__(self, length: int) -> None:
        self._remaining = length
        #: The declared length (the body's size).
        self.length = length

    def read(self, buf: ReceiveBuffer) -> Data | EndOfMessage | Sentinel:
        remaining = self._remaining
        if not remaining:
            return EndOfMessage()
        if not buf:
            return NEED_DATA
        data = buf.take(remaining)
        self._remaining = remaining - len(data)
        return Data(data)

    def at_eof(self) -> EndOfMessage:
        # RFC 9112 section 8: a message with a declared length that is cut
        # short by a close is incomplete and MUST NOT be taken as complete.
        raise BadRequest(f"connection closed with {self._remaining} body bytes still expected")


class UntilCloseReader:
    """Everything until the connection closes (RFC 9112 section 6.3, items 4 and 8; responses only)."""

    __slots__ = ("_total", "_max")

    def __init__(self, limits: Limits) -> None:
        self._total = 0
        self._max = limits.max_body

    def read(self, buf: ReceiveBuffer) -> Data | EndOfMessage | Sentinel:
        if not buf:
            return NEED_DATA
        data = buf.take_all()
        self._total += len(data)
        if self._max is not None and self._total > self._max:
            raise ContentTooLarge(f"body larger than {self._max} bytes")
        return Data(data)

    def at_eof(self) -> EndOfMessage:
        return EndOfMessage()


_SIZE, _DATA, _DATA_END, _TRAILERS = range(4)


class ChunkedReader:
    """The chunked transfer coding (RFC 9112 section 7.1)."""

    __slots__ = ("_state", "_remaining", "_total", "_limits")

    def __init__(self, limits: Limits) -> None:
        self._state = _SIZE
        self._remaining = 0
        self._total = 0
        self._limits = limits

    def read(self, buf: ReceiveBuffer) -> Data | EndOfMessage | Sentinel:
        while True:
            state = self._state
            if state == _DATA:
                if not buf:
                    return NEED_DATA
                data = buf.take(self._remaining)
                self._remaining -= len(data)
                if not self._remaining:
                    self._state = _DATA_END
                return Data(data)
            if state == _SIZE:
                if not self._read_size(buf):
                    return NEED_DATA
            elif state == _DATA_END:
                # chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
                done = buf.skip_line_end()
                if done is None:
                    return NEED_DATA
                if not done:
                    raise BadRequest("chunk data not followed by CRLF")
                self._state = _SIZE
            else:
                return self._read_trailers(buf)

    def _read_size(self, buf: ReceiveBuffer) -> bool:
        limits = self._limits
        line = buf.take_line()
        if line is None:
            if len(buf) > limits.max_chunk_size_line + 1:
                raise BadRequest(f"chunk-size line longer than {limits.max_chunk_size_line} bytes")
            return False
        if len(line) > limits.max_chunk_size_line + 1:
            raise BadRequest(f"chunk-size line longer than {limits.max_chunk_size_line} bytes")
        m = _match_chunk_size(line)
        if m is None:
            raise BadRequest("invalid chunk-size line")
        digits = m[1]
        if len(digits) > _MAX_HEX_DIGITS:
            raise ContentTooLarge("chunk size too large")
        size = int(digits, 16)
        # Check the running total before reading the chunk, so an oversized
        # body is refused without buffering it.
        self._total += size
        if limits.max_body is not None and self._total > limits.max_body:
            raise ContentTooLarge(f"body larger than {limits.max_body} bytes")
        if size:
            self._remaining = size
            self._state = _DATA
        else:
            # last-chunk = 1*("0") [ chunk-ext ] CRLF, then the trailer section.
            self._state = _TRAILERS
        return True

    def _read_trailers(self, buf: ReceiveBuffer) -> EndOfMessage | Sentinel:
        # RFC 9112 section 7.1.2: trailer-section = *( field-line CRLF ), then
        # CRLF.  It is bounded by the same limits as the header section.
        limits = self._limits
        block = buf.take_block()
        if block is None:
            first, current = buf.pending_line_lengths()
            if max(current, first, buf.longest_line) > limits.max_header_line + 1:
                raise HeaderFieldsTooLarge(f"trailer field line longer than {limits.max_header_line} bytes")
            if len(buf) > limits.max_head_size + 1:  # +1: see _Parser._check_partial_head
                raise HeaderFieldsTooLarge(f"trailer section larger than {limits.max_head_size} bytes")
            return NEED_DATA
        if len(block) > limits.max_head_size:
            raise HeaderFieldsTooLarge(f"trailer section larger than {limits.max_head_size} bytes")
        return EndOfMessage(parse_header_block(block, limits))

    def at_eof(self) -> EndOfMessage:
        raise BadRequest("connection closed in the middle of a chunked body")
