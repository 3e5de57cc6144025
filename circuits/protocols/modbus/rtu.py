"""Sans-I/O Modbus RTU framing (Modbus over Serial Line v1.02, section 2.5.1).

An RTU frame is ``unit, PDU, CRC`` and is delimited on the wire by a silent
interval of at least 3.5 character times (2.5.1.1).  The decoder works with
both signals a real bus gives: the length a frame must have (predicted from
its function code and byte count, as every practical master does because USB
adapters and ptys blur the timing) and the silence between frames (when
timestamps are passed, a gap longer than the silent interval ends whatever
partial frame was being collected).  A frame whose CRC does not match is not
fatal: the decoder drops one byte and looks for a frame at the next offset,
so it resynchronises after garbage or a torn frame.  Input never raises;
what cannot be a frame is reported with :class:`Discarded`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Literal

from .crc import append_crc, check_crc
from .errors import ModbusError
from .pdu import MAX_PDU

__all__ = [
    "MAX_FRAME",
    "MAX_UNIT",
    "RtuFrame",
    "Discarded",
    "RtuDecoder",
    "encode_frame",
    "character_time",
    "silent_interval",
]

# 2.5.1: address (1) + PDU (<= 253) + CRC (2) = 256 bytes.
MAX_FRAME = 256
# 2.2: 0 is broadcast, 1..247 are device addresses, 248..255 are reserved.
MAX_UNIT = 247


@dataclass(frozen=True, slots=True)
class RtuFrame:
    """A frame whose CRC checked: ``unit`` and the ``pdu`` without the CRC."""

    unit: int
    pdu: bytes


@dataclass(frozen=True, slots=True)
class Discarded:
    """``count`` bytes that were not part of any valid frame, and why."""

    count: int
    reason: str


RtuEvent = RtuFrame | Discarded


def encode_frame(unit: int, pdu: bytes) -> bytes:
    """The RTU frame for ``pdu`` addressed to (or answered by) ``unit``."""
    if not 0 <= unit <= MAX_UNIT:
        raise ModbusError(f"unit {unit} outside 0..{MAX_UNIT}")
    if not 1 <= len(pdu) <= MAX_PDU:
        raise ModbusError(f"PDU of {len(pdu)} bytes outside 1..{MAX_PDU}")
    return append_crc(bytes((unit,)) + bytes(pdu))


def character_time(baudrate: int, bytesize: int = 8, parity: str = "E", stopbits: float = 1) -> float:
    """Seconds one character takes on the wire: start bit, data, parity, stop bits."""
    if baudrate <= 0:
        raise ValueError("baudrate must be positive")
    bits = 1 + bytesize + (0 if parity.upper() == "N" else 1) + stopbits
    return bits / baudrate


def silent_interval(baudrate: int, bytesize: int = 8, parity: str = "E", stopbits: float = 1) -> float:
    """t3.5, the inter-frame silence, in seconds (2.5.1.1).

    "If the baud rate is greater than 19200 Bps, fixed values for the 2
    timers should be used: ... 1.750ms for inter-frame delay (t3.5)."
    """
    if baudrate > 19200:
        return 0.00175
    return 3.5 * character_time(baudrate, bytesize, parity, stopbits)


Role = Literal["master", "slave"]


def _response_length(buf: bytearray) -> int | None:
    """Predicted length of a response frame in ``buf``; None: need more; 0: impossible."""
    fc = buf[1]
    if fc & 0x80:
        return 5 if fc & 0x7F else 0
    if fc in (1, 2, 3, 4, 23):
        if len(buf) < 3:
            return None
        nbytes = buf[2]
        if nbytes == 0 or (fc in (3, 4, 23) and nbytes % 2) or nbytes > 250:
            return 0
        return 3 + nbytes + 2
    if fc in (5, 6, 15, 16):
        return 8
    return 0


def _request_length(buf: bytearray) -> int | None:
    """Predicted length of a request frame in ``buf``; None: need more; 0: impossible."""
    fc = buf[1]
    if 1 <= fc <= 6:
        return 8
    if fc in (15, 16):
        if len(buf) < 7:
            return None
        return 7 + buf[6] + 2
    if fc == 23:
        if len(buf) < 11:
            return None
        return 11 + buf[10] + 2
    return 0


class RtuDecoder:
    """Split an RTU byte stream into :class:`RtuFrame` and :class:`Discarded` events.

    ``role="master"`` decodes responses, ``"slave"`` requests.  ``silence``
    is the silent interval (see :func:`silent_interval`); when given, and
    ``receive_data`` is passed the monotonic time the bytes were read, bytes
    arriving after a longer gap start a new frame.  A master may call
    :meth:`expect` with the unit and function it is waiting for, so garbage
    is skipped quickly and a stray frame from another unit is not taken for
    the answer.
    """

    __slots__ = (
        "_buf",
        "_events",
        "_garbage",
        "_last",
        "_length",
        "_silence",
        "_expect",
        "_resyncing",
    )

    def __init__(self, role: Role = "master", silence: float | None = None) -> None:
        if role not in ("master", "slave"):
            raise ValueError(f"role must be 'master' or 'slave', not {role!r}")
        self._length = _response_length if role == "master" else _request_length
        self._silence = silence
        self._buf = bytearray()
        self._events: deque[RtuEvent] = deque()
        self._garbage = 0
        self._last: float | None = None
        self._expect: tuple[int, int] | None = None
        # True after bytes were skipped and no frame was found since: the
        # candidate at the head of the buffer may be a phantom (garbage that
        # predicts a long frame), so a complete frame further on wins.
        self._resyncing = False

    def expect(self, unit: int | None, function: int | None = None) -> None:
        """Accept only a frame from ``unit`` answering ``function`` (None: any)."""
        self._expect = None if unit is None or function is None else (unit, function & 0x7F)

    def reset(self) -> None:
        """Forget a partial frame (reported as discarded), e.g. before a new request."""
        self._garbage += len(self._buf)
        self._buf.clear()
        self._resyncing = False
        self._flush_garbage("not a frame")

    def receive_data(self, data: bytes, now: float | None = None) -> None:
        """Feed bytes read from the port; ``now`` is when they were read."""
        if now is not None:
            if self._silence is not None and self._buf and self._last is not None:
                if now - self._last > self._silence:
                    self._garbage += len(self._buf)
                    self._buf.clear()
                    self._resyncing = False
                    self._flush_garbage("partial frame ended by silence")
            self._last = now
        self._buf += data
        self._parse()

    def next_event(self) -> RtuEvent | None:
        return self._events.popleft() if self._events else None

    def __iter__(self):
        while self._events:
            yield self._events.popleft()

    @property
    def buffered(self) -> int:
        """Bytes held for a frame that is not complete yet."""
        return len(self._buf)

    def _flush_garbage(self, reason: str) -> None:
        if self._garbage:
            self._events.append(Discarded(self._garbage, reason))
            self._garbage = 0

    def _skip(self, n: int = 1) -> None:
        del self._buf[:n]
        self._garbage += n
        self._resyncing = True

    def _acceptable(self, offset: int) -> int:
        """Length of a complete, CRC-valid frame at ``offset`` in the buffer, else 0."""
        buf = self._buf
        expect = self._expect
        if len(buf) - offset < 4 or buf[offset] > MAX_UNIT:
            return 0
        if expect is not None and (buf[offset] != expect[0] or buf[offset + 1] & 0x7F != expect[1]):
            return 0
        n = self._length(buf[offset:])
        if not n or n > MAX_FRAME or offset + n > len(buf):
            return 0
        return n if check_crc(buf[offset : offset + n]) else 0

    def _later_frame(self) -> int:
        """Offset of the first complete valid frame after the head, or 0."""
        for offset in range(1, len(self._buf) - 3):
            if self._acceptable(offset):
                return offset
        return 0

    def _parse(self) -> None:
        buf = self._buf
        expect = self._expect
        while len(buf) >= 2:
            if expect is not None and (buf[0] != expect[0] or buf[1] & 0x7F != expect[1]):
                self._skip()
                continue
            if buf[0] > MAX_UNIT:
                self._skip()
                continue
            n = self._length(buf)
            if n == 0 or (n is not None and n > MAX_FRAME):
                self._skip()
                continue
            if n is None or len(buf) < n:
                # Incomplete. Right after garbage the head may be a phantom
                # frame that will never complete; a real one behind it wins.
                later = self._later_frame() if self._resyncing else 0
                if later:
                    self._skip(later)
                    continue
                break
            if check_crc(buf[:n]):
                self._flush_garbage("not a frame")
                self._events.append(RtuFrame(buf[0], bytes(buf[1 : n - 2])))
                self._resyncing = False
                del buf[:n]
                continue
            self._skip()
        if expect is not None and len(buf) == 1 and buf[0] != expect[0]:
            self._skip()
        if not buf:
            self._resyncing = False
        self._flush_garbage("not a frame")
