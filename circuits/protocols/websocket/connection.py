"""Sans-I/O RFC 6455 connection: message assembly, control frames, closing.

Feed the bytes read from the transport to :meth:`WebSocketConnection.receive_data`
(``b""`` at EOF), then take events with :meth:`~WebSocketConnection.next_event`
or by iterating.  Sending methods return the bytes to write.  Nothing here
performs I/O.

Protocol violations raise :class:`WebSocketError` from ``next_event`` carrying
the close code to send (``conn.close(err.code)``) before dropping the
transport (section 7.1.7).  Every check that can be made from a frame header
is made before the frame's payload is waited for, so a hostile peer cannot
make us buffer more than ``max_frame_size`` bytes.
"""

from __future__ import annotations

import codecs
import os
from collections.abc import Iterator
from enum import Enum

from .errors import CloseCode, LocalProtocolError, WebSocketError
from .events import BytesMessage, CloseReceived, Event, Ping, Pong, TextMessage
from .frames import MAX_CONTROL_PAYLOAD, FrameHeader, Opcode, apply_mask, build_frame, parse_header

__all__ = ["ConnectionState", "WebSocketConnection", "is_valid_close_code"]


class ConnectionState(Enum):
    OPEN = "OPEN"
    CLOSING = "CLOSING"  # a Close frame was sent or received, not both
    CLOSED = "CLOSED"  # both Close frames exchanged, or the connection failed/ended


def is_valid_close_code(code: int) -> bool:
    """True if ``code`` may appear in a Close frame (sections 7.4.1, 7.4.2).

    1004 is reserved; 1005, 1006 and 1015 "MUST NOT be set as a status code
    in a Close control frame"; 1016-2999 are reserved for future revisions of
    the protocol; 3000-4999 are for libraries and applications; anything
    below 1000 or above 4999 is not a defined status code.  1012-1014 were
    registered with IANA after RFC 6455 (section 11.7 registry).
    """
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


_CONT = Opcode.CONTINUATION
_TEXT = Opcode.TEXT
_BINARY = Opcode.BINARY
_CLOSE = Opcode.CLOSE
_PING = Opcode.PING
_PONG = Opcode.PONG


class WebSocketConnection:
    """One end of a WebSocket connection after the opening handshake."""

    def __init__(
        self,
        client: bool,
        max_message_size: int = 1 << 20,
        max_frame_size: int = 1 << 20,
        *,
        fragment_size: int | None = None,
    ) -> None:
        """``client``: True if we are the client (we mask, the peer must not).

        ``fragment_size``: if set, outgoing messages longer than this are sent
        as several frames of at most this many payload bytes (section 5.4).
        """
        if max_message_size < 0 or max_frame_size < 0:
            raise ValueError("limits must be >= 0")
        if fragment_size is not None and fragment_size < 1:
            raise ValueError("fragment_size must be >= 1")
        self.client = client
        self.max_message_size = max_message_size
        self.max_frame_size = max_frame_size
        self.fragment_size = fragment_size
        self._buf = bytearray()
        self._header: FrameHeader | None = None
        # Message being reassembled (section 5.4).
        self._msg_opcode: Opcode | None = None
        self._byte_parts: list[bytes] = []
        self._text_parts: list[str] = []
        self._msg_size = 0
        self._decoder: codecs.IncrementalDecoder | None = None
        self._close_sent = False
        self._close_received = False
        self._eof = False
        self._eof_reported = False
        self._error: WebSocketError | None = None
        self._messages_received = 0
        self._messages_sent = 0

    # -- state ---------------------------------------------------------------

    @property
    def state(self) -> ConnectionState:
        if self._eof_reported or (self._close_sent and (self._close_received or self._error is not None)):
            return ConnectionState.CLOSED
        if self._close_sent or self._close_received or self._error is not None:
            return ConnectionState.CLOSING
        return ConnectionState.OPEN

    @property
    def close_sent(self) -> bool:
        return self._close_sent

    @property
    def close_received(self) -> bool:
        return self._close_received

    def statistics(self) -> dict[str, int | str]:
        return {
            "state": self.state.value,
            "buffered": len(self._buf),
            "message_bytes_buffered": self._msg_size,
            "messages_received": self._messages_received,
            "messages_sent": self._messages_sent,
        }

    # -- receiving -----------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Add bytes read from the transport; ``b""`` signals EOF."""
        if not data:
            self._eof = True  # repeated EOFs are harmless
            return
        if self._eof:
            raise LocalProtocolError("receive_data() after EOF")
        if self._error is not None:
            return  # the connection failed: input is irrelevant now (7.1.7)
        self._buf += data

    def __iter__(self) -> Iterator[Event]:
        """Drain the events available now (may raise :class:`WebSocketError`)."""
        while True:
            event = self.next_event()
            if event is None:
                return
            yield event

    def next_event(self) -> Event | None:
        """Return the next event, or None if more data is needed."""
        if self._error is not None:
            raise self._error
        try:
            return self._next_event()
        except WebSocketError as exc:
            self._error = exc
            self._buf.clear()
            self._byte_parts = []
            self._text_parts = []
            raise

    def _next_event(self) -> Event | None:
        buf = self._buf
        while True:
            if self._close_received:
                # Section 5.5.1: after sending a Close frame the peer "MUST
                # NOT send any more data frames"; the Close is its last frame.
                if buf:
                    raise WebSocketError(CloseCode.PROTOCOL_ERROR, "data after Close frame")
                return None
            header = self._header
            if header is None:
                header = parse_header(buf, expect_masked=not self.client)
                if header is None:
                    return self._need_data()
                self._check_header(header)
                self._header = header
            end = header.header_length + header.payload_length
            if len(buf) < end:
                return self._need_data()
            payload = bytes(buf[header.header_length : end])
            del buf[:end]
            self._header = None
            if header.masking_key is not None:
                payload = apply_mask(payload, header.masking_key)
            event = self._process(header, payload)
            if event is not None:
                return event

    def _need_data(self) -> Event | None:
        if self._eof and not self._eof_reported:
            # Section 7.1.5: the transport closed without a Close frame (or
            # mid-frame): the close code is considered to be 1006.
            self._eof_reported = True
            self._buf.clear()
            return CloseReceived(CloseCode.ABNORMAL_CLOSURE, "")
        return None

    def _check_header(self, header: FrameHeader) -> None:
        """Checks that need connection state; all before the payload arrives."""
        opcode = header.opcode
        length = header.payload_length
        if opcode is _CONT:
            # Section 5.4: a continuation frame only continues a message.
            if self._msg_opcode is None:
                raise WebSocketError(CloseCode.PROTOCOL_ERROR, "continuation frame without a message")
        elif opcode is _TEXT or opcode is _BINARY:
            # Section 5.4: "the fragments of one message MUST NOT be
            # interleaved between the fragments of another message".
            if self._msg_opcode is not None:
                raise WebSocketError(CloseCode.PROTOCOL_ERROR, "new message inside a fragmented message")
        elif opcode is _CLOSE and length == 1:
            # Section 5.5.1: a Close body starts with a 2-byte status code.
            raise WebSocketError(CloseCode.PROTOCOL_ERROR, "1-byte Close payload")
        # Section 10.4: implementations should impose limits on frame and
        # message size; exceeding them is answered with 1009 (section 7.4.1).
        if length > self.max_frame_size:
            raise WebSocketError(
                CloseCode.MESSAGE_TOO_BIG, f"frame of {length} bytes exceeds {self.max_frame_size}"
            )
        if not (opcode & 0x8):
            total = (self._msg_size if opcode is _CONT else 0) + length
            if total > self.max_message_size:
                raise WebSocketError(
                    CloseCode.MESSAGE_TOO_BIG, f"message of {total}+ bytes exceeds {self.max_message_size}"
                )

    def _process(self, header: FrameHeader, payload: bytes) -> Event | None:
        opcode = header.opcode
        if opcode is _PING:
            return Ping(payload)
        if opcode is _PONG:
            return Pong(payload)
        if opcode is _CLOSE:
            return self._process_close(payload)
        if opcode is not _CONT:
            if header.fin:
                # Unfragmented message: the common case, no reassembly state.
                self._messages_received += 1
                if opcode is _TEXT:
                    return TextMessage(_decode_utf8(payload))
                return BytesMessage(payload)
            self._msg_opcode = opcode
            self._msg_size = 0
            if opcode is _TEXT:
                self._decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self._msg_size += len(payload)
        decoder = self._decoder
        if decoder is not None:
            # Section 5.6: a text frame may end inside a UTF-8 sequence, but
            # the whole message MUST be valid UTF-8 (section 8.1: otherwise
            # fail with 1007).  The incremental decoder validates fragment by
            # fragment and, with final=True, rejects a truncated sequence.
            try:
                text = decoder.decode(payload, header.fin)
            except UnicodeDecodeError as exc:
                raise WebSocketError(
                    CloseCode.INVALID_FRAME_PAYLOAD_DATA, "invalid UTF-8 in text message"
                ) from exc
            self._text_parts.append(text)
        else:
            self._byte_parts.append(payload)
        if not header.fin:
            return None
        self._msg_opcode = None
        self._msg_size = 0
        self._messages_received += 1
        if decoder is not None:
            self._decoder = None
            text = "".join(self._text_parts)
            self._text_parts = []
            return TextMessage(text)
        data = b"".join(self._byte_parts)
        self._byte_parts = []
        return BytesMessage(data)

    def _process_close(self, payload: bytes) -> CloseReceived:
        if not payload:
            # Section 7.1.5: no status code -> considered 1005.
            code = int(CloseCode.NO_STATUS_RCVD)
            reason = ""
        else:
            code = int.from_bytes(payload[:2], "big")
            if not is_valid_close_code(code):
                raise WebSocketError(CloseCode.PROTOCOL_ERROR, f"invalid close code {code}")
            # Section 5.5.1: the reason "is not guaranteed to be human
            # readable" but is UTF-8; invalid UTF-8 fails with 1007 (8.1).
            reason = _decode_utf8(payload[2:])
        self._close_received = True
        return CloseReceived(code, reason)

    # -- sending -------------------------------------------------------------

    def _frame(self, opcode: Opcode, payload: bytes, fin: bool = True) -> bytes:
        # Section 5.3: a client masks every frame with a fresh key "derived
        # from a strong source of entropy"; section 5.1: a server never masks.
        key = os.urandom(4) if self.client else None
        return build_frame(opcode, payload, fin=fin, masking_key=key)

    def _check_can_send(self) -> None:
        # Section 5.5.1: "After sending a Close frame, the application MUST
        # NOT send any more data frames."
        if self._close_sent:
            raise LocalProtocolError("cannot send after a Close frame was sent")
        if self._eof:
            raise LocalProtocolError("cannot send after the transport closed")

    def _message(self, opcode: Opcode, payload: bytes, fragment_size: int | None) -> bytes:
        self._check_can_send()
        size = fragment_size if fragment_size is not None else self.fragment_size
        self._messages_sent += 1
        n = len(payload)
        if size is None or n <= size:
            return self._frame(opcode, payload)
        if size < 1:
            raise ValueError("fragment_size must be >= 1")
        # Section 5.4: first frame carries the opcode, the rest are
        # continuations, the last has FIN set.
        view = memoryview(payload)
        frames = [
            self._frame(opcode if start == 0 else _CONT, bytes(view[start : start + size]), start + size >= n)
            for start in range(0, n, size)
        ]
        return b"".join(frames)

    def send_text(self, data: str, *, fragment_size: int | None = None) -> bytes:
        """Bytes of a text message.  Fragments may split a UTF-8 sequence (section 5.6)."""
        return self._message(_TEXT, data.encode("utf-8"), fragment_size)

    def send_bytes(self, data: bytes, *, fragment_size: int | None = None) -> bytes:
        """Bytes of a binary message."""
        return self._message(_BINARY, bytes(data), fragment_size)

    def ping(self, payload: bytes = b"") -> bytes:
        self._check_can_send()
        if len(payload) > MAX_CONTROL_PAYLOAD:
            raise ValueError("ping payload longer than 125 bytes (section 5.5)")
        return self._frame(_PING, bytes(payload))

    def pong(self, payload: bytes = b"") -> bytes:
        # Section 5.5.3: the Pong echoes the Ping's "Application data".
        self._check_can_send()
        if len(payload) > MAX_CONTROL_PAYLOAD:
            raise ValueError("pong payload longer than 125 bytes (section 5.5)")
        return self._frame(_PONG, bytes(payload))

    def close(self, code: int | None = 1000, reason: str = "") -> bytes:
        """Bytes of a Close frame; ``b""`` if one was already sent or the transport is gone.

        Use it to start the closing handshake, to answer the peer's Close
        (section 5.5.1: "the endpoint MUST send a Close frame in response"),
        or after a :class:`WebSocketError` with ``err.code``.  ``code=None``
        sends a Close without a body.
        """
        if self._close_sent or self._eof:
            return b""
        if code is None:
            if reason:
                raise ValueError("a close reason needs a close code")
            payload = b""
        else:
            if not is_valid_close_code(code):
                raise ValueError(f"close code {code} may not be sent (section 7.4)")
            payload = int(code).to_bytes(2, "big") + reason.encode("utf-8")
            if len(payload) > MAX_CONTROL_PAYLOAD:
                raise ValueError("close reason longer than 123 bytes (section 5.5)")
        self._close_sent = True
        return self._frame(_CLOSE, payload)

    # -- conveniences ----------------------------------------------------------

    def auto_pong(self, event: Event) -> bytes:
        """Bytes answering ``event`` if it is a :class:`Ping`, else ``b""``.

        Section 5.5.2: "Upon receipt of a Ping frame, an endpoint MUST send a
        Pong frame in response"; nothing is sent once we have sent a Close.
        """
        if isinstance(event, Ping) and not self._close_sent and not self._eof:
            return self.pong(event.payload)
        return b""

    def auto_reply(self, event: Event) -> bytes:
        """Like :meth:`auto_pong`, and also answer a peer's Close once.

        Section 5.5.1: the reply "typically echos the status code it
        received"; a Close without a code is answered with one without a code.
        """
        if isinstance(event, CloseReceived):
            if event.code == CloseCode.ABNORMAL_CLOSURE:
                return b""
            code = None if event.code == CloseCode.NO_STATUS_RCVD else event.code
            return self.close(code)
        return self.auto_pong(event)


def _decode_utf8(payload: bytes) -> str:
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        # Section 8.1: invalid UTF-8 in a text message -> fail with 1007.
        raise WebSocketError(CloseCode.INVALID_FRAME_PAYLOAD_DATA, "invalid UTF-8") from exc
