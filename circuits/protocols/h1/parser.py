"""Sans-I/O HTTP/1.x parsers: ``RequestParser`` (server side) and ``ResponseParser`` (client side).

Usage::

    parser.receive_data(chunk)          # b"" signals EOF
    while (event := parser.next_event()) not in (NEED_DATA, PAUSED):
        ...

One parser handles one connection.  After ``EndOfMessage`` it returns
``PAUSED`` until ``start_next_cycle()``; pipelined bytes stay buffered and
are parsed in the next cycle.  Any malformed input raises a
:class:`~.errors.ProtocolError` whose ``status`` says how a server should
answer; the parser then stays failed and re-raises the same error.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from .abnf import ANY_VERSION, REQUEST_LINE, STATUS_LINE
from .body import BodyReader, ContentLengthReader
from .errors import BadRequest, HeaderFieldsTooLarge, ProtocolError, URITooLong, VersionNotSupported
from .events import (
    NEED_DATA,
    PAUSED,
    ConnectionClosed,
    EndOfMessage,
    Event,
    InformationalResponse,
    Request,
    Response,
    Sentinel,
)
from .framing import HeadInfo, request_body_reader, response_body_reader, scan_headers
from .headers import parse_header_block
from .limits import CLIENT_LIMITS, DEFAULT_LIMITS, Limits
from .receivebuffer import ReceiveBuffer
from .target import validate_target

__all__ = ["RequestParser", "ResponseParser", "TrailingData"]

_HEAD, _BODY, _DONE, _SWITCHED, _CLOSED, _ERROR = range(6)
_STATE_NAMES = ("HEAD", "BODY", "DONE", "SWITCHED", "CLOSED", "ERROR")

_match_request_line = REQUEST_LINE.fullmatch
_match_status_line = STATUS_LINE.fullmatch


class TrailingData(NamedTuple):
    """Bytes received but not yet parsed, and whether the peer closed."""

    data: bytes
    closed: bool


class _Parser:
    __slots__ = ("_limits", "_buf", "_eof", "_state", "_reader", "_error", "_keep_alive", "_tunnel")

    def __init__(self, limits: Limits) -> None:
        self._limits = limits
        self._buf = ReceiveBuffer()
        self._eof = False
        self._state = _HEAD
        self._reader: BodyReader = ContentLengthReader(0)
        self._error: ProtocolError | None = None
        self._keep_alive = True
        self._tunnel = False

    # -- feeding -------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Add bytes from the peer; ``b""`` means the peer closed (EOF)."""
        if data:
            if self._eof:
                raise RuntimeError("received data after EOF")
            self._buf.feed(data)
        else:
            self._eof = True

    def next_event(self) -> Event | Sentinel:
        """The next event, ``NEED_DATA`` or ``PAUSED``; raises ProtocolError on bad input."""
        if self._error is not None:
            raise self._error
        try:
            state = self._state
            if state == _BODY:
                event = self._reader.read(self._buf)
                if event is NEED_DATA:
                    if not self._eof:
                        return NEED_DATA
                    event = self._reader.at_eof()
                if event.__class__ is EndOfMessage:
                    self._state = _SWITCHED if self._tunnel else _DONE
                else:
                    self._on_data()
                return event
            if state == _HEAD:
                return self._read_head()
            if state == _CLOSED:
                return ConnectionClosed()
            return PAUSED
        except ProtocolError as exc:
            self._error = exc
            self._state = _ERROR
            raise

    def events(self) -> Iterator[Event]:
        """Yield events until the parser needs data or pauses."""
        while True:
            event = self.next_event()
            if event is NEED_DATA or event is PAUSED:
                return
            yield event  # type: ignore[misc]
            if event.__class__ is ConnectionClosed:
                return

    def _on_data(self) -> None:
        pass

    # -- cycle control ---------------------------------------------------------

    def _check_next_cycle(self) -> None:
        if self._state == _SWITCHED:
            raise RuntimeError("the connection switched protocols; take trailing_data instead")
        if self._state != _DONE:
            raise RuntimeError(f"start_next_cycle() in state {self.state}, expected DONE")
        self._state = _HEAD
        self._keep_alive = True
        self._tunnel = False

    @property
    def trailing_data(self) -> TrailingData:
        """Buffered, unparsed bytes and whether EOF was seen (e.g. after a protocol switch)."""
        return TrailingData(bytes(self._buf), self._eof)

    @property
    def state(self) -> str:
        """One of HEAD, BODY, DONE, SWITCHED, CLOSED, ERROR (for debugging and tests)."""
        return _STATE_NAMES[self._state]

    @property
    def keep_alive(self) -> bool:
        """Whether the connection may carry another message after the current one."""
        return self._keep_alive

    @property
    def limits(self) -> Limits:
        return self._limits

    # -- head ------------------------------------------------------------------

    def _read_head(self) -> Event | Sentinel:
        buf = self._buf
        buf.strip_leading_blank_lines()
        block = buf.take_block()
        if block is None:
            self._check_partial_head()
            if self._eof:
                if not buf:
                    self._state = _CLOSED
                    return ConnectionClosed()
                raise BadRequest("connection closed in the middle of a message head")
            return NEED_DATA
        limits = self._limits
        # The checks in the order the bytes come (start line first), as
        # _check_partial_head makes them: the answer must not depend on
        # whether the head arrived whole or in pieces.
        nl = block.find(b"\n")
        start_line = block[:nl]
        if nl > limits.max_request_line and len(start_line.rstrip(b"\r")) > limits.max_request_line:
            raise self._start_line_too_long()
        if len(block) > limits.max_head_size:
            raise HeaderFieldsTooLarge(f"message head larger than {limits.max_head_size} bytes")
        return self._on_head(start_line, parse_header_block(block[nl + 1 :], limits))

    def _check_partial_head(self) -> None:
        """Enforce the head limits while its end has not arrived (bounded buffering)."""
        buf = self._buf
        limits = self._limits
        first, current = buf.pending_line_lengths()
        if first < 0:
            if current > limits.max_request_line + 1:  # +1: a CR may precede the LF
                raise self._start_line_too_long()
        else:
            if first > limits.max_request_line + 1:
                raise self._start_line_too_long()
            if current > limits.max_header_line + 1 or buf.longest_line > limits.max_header_line + 1:
                raise HeaderFieldsTooLarge(f"header field line longer than {limits.max_header_line} bytes")
        # +1: the CR of the final empty line may be here without its LF. A
        # complete head is measured without that line (take_block drops it),
        # so one limit holds however the bytes were split.
        if len(buf) > limits.max_head_size + 1:
            raise HeaderFieldsTooLarge(f"message head larger than {limits.max_head_size} bytes")

    def _start_line_too_long(self) -> ProtocolError:
        raise NotImplementedError

    def _on_head(self, start_line: bytes, headers: list[tuple[bytes, bytes]]) -> Event:
        raise NotImplementedError


def _version_error(start_line: bytes) -> ProtocolError:
    """505 when the line is well formed except for its major version, else 400."""
    m = ANY_VERSION.fullmatch(start_line)
    if m is not None and m[1] != b"1":
        return VersionNotSupported(f"HTTP/{m[1].decode()}.{m[2].decode()} is not supported")
    return BadRequest(f"malformed start line {start_line[:60]!r}")


def _version(major: bytes, minor: bytes) -> str:
    # RFC 9110 section 2.5: a higher minor version of a major version we
    # implement is processed as the highest minor version we support.
    if major != b"1":
        raise VersionNotSupported(f"HTTP/{major.decode()}.{minor.decode()} is not supported")
    return "1.0" if minor == b"0" else "1.1"


class RequestParser(_Parser):
    """Parses requests arriving at a server.

    ``require_host`` enforces RFC 9112 section 3.2: an HTTP/1.1 request MUST
    carry exactly one Host field (400 otherwise); more than one Host is
    rejected for every version.
    """

    __slots__ = ("_require_host", "_expect_continue", "_body_started", "_declared")

    def __init__(self, limits: Limits | None = None, *, require_host: bool = True) -> None:
        super().__init__(DEFAULT_LIMITS if limits is None else limits)
        self._require_host = require_host
        self._expect_continue = False
        self._body_started = False
        self._declared: int | None = 0

    def start_next_cycle(self) -> None:
        """Begin the next request on this connection (pipelined bytes are kept)."""
        self._check_next_cycle()
        self._expect_continue = False
        self._body_started = False

    @property
    def expects_continue(self) -> bool:
        """True while the current request asked for ``100-continue`` and no body byte arrived.

        RFC 9110 section 10.1.1: the server should then send ``100 Continue``
        (or a final status) before the client sends the body.  Never true for
        HTTP/1.0 clients, which must not receive 1xx (RFC 9110 section 15.2).
        """
        return self._expect_continue and self._state == _BODY and not self._body_started

    @property
    def declared_length(self) -> int | None:
        """The current request's body size as its head declares it: 0 for none, None when chunked.

        Known once the ``Request`` event was returned, before any body byte is
        read: a server can refuse a body it will not take without reading it.
        """
        return self._declared

    def _on_data(self) -> None:
        self._body_started = True

    def _start_line_too_long(self) -> ProtocolError:
        return URITooLong(f"request line longer than {self._limits.max_request_line} bytes")

    def _on_head(self, start_line: bytes, headers: list[tuple[bytes, bytes]]) -> Event:
        m = _match_request_line(start_line)
        if m is None:
            raise _version_error(start_line)
        method, target, major, minor = m.groups()
        version = _version(major, minor)
        method_str = method.decode("ascii")
        validate_target(method_str, target)
        info: HeadInfo = scan_headers(headers)
        if info.host_count != 1:
            if info.host_count > 1:
                raise BadRequest("more than one Host header field")
            if version == "1.1" and self._require_host:
                raise BadRequest("HTTP/1.1 request without a Host header field")
        reader = self._reader = request_body_reader(info, version, self._limits)
        self._declared = reader.length if isinstance(reader, ContentLengthReader) else None
        self._keep_alive = info.keep_alive(version)
        if info.expect is not None:
            self._expect_continue = version == "1.1" and info.expects_continue()
        self._state = _BODY
        return Request(method_str, target.decode("ascii"), version, headers)


class ResponseParser(_Parser):
    """Parses responses arriving at a client.

    The framing of a response depends on the request it answers (HEAD and
    CONNECT, RFC 9112 section 6.3), so give the method of the request whose
    response comes next, here or to ``start_next_cycle``.  By default the
    body size is unbounded (``CLIENT_LIMITS``).
    """

    __slots__ = ("request_method",)

    def __init__(self, limits: Limits | None = None, *, request_method: str = "GET") -> None:
        super().__init__(CLIENT_LIMITS if limits is None else limits)
        #: Method of the request the next response answers (may be changed
        #: until that response's head has been parsed).
        self.request_method = request_method

    def start_next_cycle(self, request_method: str | None = None) -> None:
        """Begin the next response; pass the method of the request it answers."""
        self._check_next_cycle()
        if request_method is not None:
            self.request_method = request_method

    def _start_line_too_long(self) -> ProtocolError:
        return HeaderFieldsTooLarge(f"status line longer than {self._limits.max_request_line} bytes")

    def _on_head(self, start_line: bytes, headers: list[tuple[bytes, bytes]]) -> Event:
        m = _match_status_line(start_line)
        if m is None:
            raise _version_error(start_line)
        major, minor, code, reason_bytes = m.groups()
        version = _version(major, minor)
        status = int(code)
        # RFC 9110 section 15: values outside 100..599 are invalid.
        if not 100 <= status <= 599:
            raise BadRequest(f"invalid status code {status}")
        # RFC 9112 section 4: the reason-phrase is informational; decode it
        # as Latin-1 so obs-text survives.
        reason = reason_bytes.decode("latin-1") if reason_bytes else ""
        if status < 200:
            # RFC 9110 section 15.2: any number of 1xx may precede the final
            # response; 101 hands the connection to another protocol.
            if status == 101:
                self._state = _SWITCHED
            return InformationalResponse(status, reason, version, headers)
        info = scan_headers(headers)
        reader, must_close, tunnel = response_body_reader(
            info, version, status, self.request_method, self._limits
        )
        self._reader = reader
        self._tunnel = tunnel
        self._keep_alive = not must_close and info.keep_alive(version)
        self._state = _BODY
        return Response(status, reason, version, headers)
