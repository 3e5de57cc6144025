"""Sans-I/O SLIP framing (RFC 1055, "A Nonstandard for Transmission of IP
Datagrams over Serial Lines").

SLIP delimits frames with ``END`` (0xC0) and escapes payload bytes that would
be mistaken for framing: ``END`` becomes ``ESC ESC_END`` and ``ESC`` becomes
``ESC ESC_ESC`` (RFC 1055, "PROTOCOL").

The decoder never raises on input: garbage is reported as events
(:class:`FrameTooLong`, :class:`InvalidEscape`) and counted, so a serial link
with line noise cannot crash the component driving it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = [
    "END",
    "ESC",
    "ESC_END",
    "ESC_ESC",
    "FrameTooLong",
    "InvalidEscape",
    "SlipDecoder",
    "slip_encode",
]

# RFC 1055, "PROTOCOL": the special characters (octal 300, 333, 334, 335).
END = 0xC0
ESC = 0xDB
ESC_END = 0xDC
ESC_ESC = 0xDD

_END = bytes([END])
_ESC = bytes([ESC])
_ESC_SEQ_END = bytes([ESC, ESC_END])
_ESC_SEQ_ESC = bytes([ESC, ESC_ESC])

# RFC 1055, "MAXIMUM PACKET SIZE": "it is probably best to accept the maximum
# packet size used by the Berkeley UNIX SLIP drivers: 1006 bytes".
DEFAULT_MAX_LENGTH = 1006


@dataclass(frozen=True, slots=True)
class FrameTooLong:
    """A frame whose decoded payload exceeds ``max_length`` was discarded.

    ``dropped`` is the number of raw (still escaped) bytes of that frame
    discarded when the report was made.
    """

    dropped: int


@dataclass(frozen=True, slots=True)
class InvalidEscape:
    """A frame held an ``ESC`` not followed by ``ESC_END`` or ``ESC_ESC``.

    In strict mode the frame is discarded and this event replaces it;
    ``length`` is the raw frame length and ``offset`` the position of the
    first bad ``ESC`` in it.  In lenient mode the frame is delivered too (see
    :class:`SlipDecoder`) and this event precedes it.
    """

    length: int
    offset: int


SlipEvent = bytes | FrameTooLong | InvalidEscape


def slip_encode(payload: bytes, *, leading_end: bool = True) -> bytes:
    """Encode one frame.

    ``leading_end`` sends an ``END`` before the frame as well as after it: RFC
    1055 ("SEND_PACKET") recommends it so that line noise received before the
    frame is flushed as a separate (empty or bogus) frame.
    """
    # Escape ESC first, so the ESCs introduced for END are not escaped again.
    body = bytes(payload).replace(_ESC, _ESC_SEQ_ESC).replace(_END, _ESC_SEQ_END)
    return (_END + body + _END) if leading_end else (body + _END)


class SlipDecoder:
    """Decode a SLIP byte stream into frames.

    ``strict`` (default True): a frame with an invalid escape sequence is
    dropped and reported with :class:`InvalidEscape`.  With ``strict=False``
    the RFC 1055 reference receiver's behaviour is followed instead: "if
    'c' is not one of these two, then we have a protocol violation.  The best
    bet seems to be to leave the byte alone and just stuff it into the
    packet" -- the frame is delivered after an :class:`InvalidEscape` event.

    Empty frames (consecutive ``END`` bytes) are ignored, as in the RFC 1055
    reference receiver.
    """

    __slots__ = (
        "_buf",
        "_scan",
        "_escapes",
        "_events",
        "_discarding",
        "_max_length",
        "_strict",
        "_frames",
        "_too_long",
        "_invalid",
    )

    def __init__(self, max_length: int = DEFAULT_MAX_LENGTH, *, strict: bool = True) -> None:
        if max_length < 1:
            raise ValueError("max_length must be >= 1")
        self._max_length = max_length
        self._strict = strict
        self._buf = bytearray()
        self._scan = 0  # no END in _buf before this offset
        self._escapes = 0  # ESC bytes in _buf[:_scan]
        self._events: deque[SlipEvent] = deque()
        self._discarding = False
        self._frames = 0
        self._too_long = 0
        self._invalid = 0

    @property
    def buffered(self) -> int:
        """Raw bytes of the current partial frame held in memory."""
        return len(self._buf)

    @property
    def frames(self) -> int:
        """Frames returned by :meth:`next_event` so far."""
        return self._frames

    @property
    def dropped_frames(self) -> int:
        """:class:`FrameTooLong` events returned so far."""
        return self._too_long

    @property
    def invalid_escapes(self) -> int:
        """:class:`InvalidEscape` events returned so far."""
        return self._invalid

    def statistics(self) -> dict[str, int]:
        return {
            "buffered": len(self._buf),
            "pending_events": len(self._events),
            "frames": self._frames,
            "dropped_frames": self._too_long,
            "invalid_escapes": self._invalid,
        }

    def receive_data(self, data: bytes) -> None:
        if not data:
            return
        buf = self._buf
        buf += data
        if self._discarding:
            i = buf.find(_END)
            if i < 0:
                buf.clear()
                return
            del buf[: i + 1]
            self._discarding = False
            self._scan = self._escapes = 0
        if buf.find(_END, self._scan) >= 0:
            parts = bytes(buf).split(_END)
            rest = parts.pop()
            for raw in parts:
                if raw:  # RFC 1055: empty frames between ENDs are skipped
                    self._frame(raw)
            buf[:] = rest
            self._scan = self._escapes = 0
        # Each ESC stands for one decoded byte together with the byte after
        # it, so the decoded length of the partial frame is at least
        # len - escapes.  Count escapes only in the new bytes (linear time).
        self._escapes += buf.count(_ESC, self._scan)
        self._scan = len(buf)
        decoded = len(buf) - self._escapes
        if decoded > self._max_length:
            self._events.append(FrameTooLong(len(buf)))
            buf.clear()
            self._discarding = True
            self._scan = self._escapes = 0

    def _frame(self, raw: bytes) -> None:
        escapes = raw.count(_ESC)
        # Oversize first, by the same measure receive_data applies to a partial
        # frame (raw length minus ESC bytes), so a frame that is both too long
        # and badly escaped is reported the same way however it was chunked.
        if len(raw) - escapes > self._max_length:
            self._events.append(FrameTooLong(len(raw)))
            return
        if escapes == 0:
            frame = raw
        else:
            ends = raw.count(_ESC_SEQ_END)
            escs = raw.count(_ESC_SEQ_ESC)
            if ends + escs == escapes:
                # Every ESC is followed by ESC_END or ESC_ESC; the second byte
                # of a pair is never ESC, so the replacements cannot overlap.
                frame = raw.replace(_ESC_SEQ_END, _END).replace(_ESC_SEQ_ESC, _ESC)
            else:
                decoded, offset = _decode_lenient(raw)
                self._events.append(InvalidEscape(len(raw), offset))
                if self._strict:
                    return
                if not decoded:
                    return  # nothing left (a lone ESC): like an empty frame
                frame = decoded
        if len(frame) > self._max_length:
            self._events.append(FrameTooLong(len(raw)))
            return
        self._events.append(frame)

    def next_event(self) -> SlipEvent | None:
        """Next frame, :class:`FrameTooLong` or :class:`InvalidEscape`; None if more data is needed."""
        if not self._events:
            return None
        event = self._events.popleft()
        if type(event) is bytes:
            self._frames += 1
        elif type(event) is FrameTooLong:
            self._too_long += 1
        else:
            self._invalid += 1
        return event

    def __iter__(self) -> Iterator[SlipEvent]:
        while True:
            event = self.next_event()
            if event is None:
                return
            yield event

    def feed(self, data: bytes) -> list[SlipEvent]:
        self.receive_data(data)
        return list(self)

    def flush(self) -> bytes:
        """Discard and return the raw bytes of an unterminated frame (e.g. at EOF)."""
        data = b"" if self._discarding else bytes(self._buf)
        self._buf.clear()
        self._scan = self._escapes = 0
        self._discarding = False
        return data


def _decode_lenient(raw: bytes) -> tuple[bytes, int]:
    """Decode a frame holding bad escapes; return (payload, first bad offset).

    Per the RFC 1055 reference receiver the byte after a bad ESC is kept as
    is; an ESC at the very end of a frame is dropped.  Only used on the error
    path, so a loop over the ESC-separated pieces is fine.
    """
    pieces = raw.split(_ESC)
    out = [pieces[0]]
    pos = len(pieces[0])
    bad = -1
    skip = False
    for piece in pieces[1:]:
        if skip:
            # This ESC was the byte right after a bad ESC: kept literally.
            out.append(_ESC + piece)
            skip = False
        elif not piece:
            # ESC followed by ESC (or by the end of the frame).
            if bad < 0:
                bad = pos
            skip = True
        else:
            first = piece[0]
            if first == ESC_END:
                out.append(_END + piece[1:])
            elif first == ESC_ESC:
                out.append(_ESC + piece[1:])
            else:
                if bad < 0:
                    bad = pos
                out.append(piece)
        pos += 1 + len(piece)
    return b"".join(out), bad
