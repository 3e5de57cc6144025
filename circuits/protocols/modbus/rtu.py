"""Sans-I/O Modbus RTU framing (Modbus over Serial Line v1.02, section 2.5.1).

An RTU frame is ``unit, PDU, CRC`` and is delimited on the wire by a silent
interval of at least 3.5 character times (2.5.1.1).  The decoder works with
both signals a real bus gives: the length a frame must have and the silence
between frames.  The length comes from the function code and byte count, or,
for a master that said which answer it awaits (:meth:`RtuDecoder.expect` with
:func:`expected_response_length`), from the request it sent: the answer is
complete the moment its last byte arrives, with no wait for t3.5 (USB
adapters and ptys blur the timing anyway, so the silence cannot be trusted
to *end* a frame).  When timestamps are passed, a gap longer than the silent
interval ends whatever partial frame was being collected, and after an
awaited answer failed its CRC everything is dropped until the line has been
silent (resynchronisation by silence, 2.5.1.1).  Without timestamps a frame
whose CRC does not match drops one byte and the decoder looks for a frame at
the next offset, so it resynchronises after garbage or a torn frame too.
Input never raises; what cannot be a frame is reported with
:class:`Discarded`.
"""

from __future__ import annotations

from collections import deque
from typing import Literal, NamedTuple

from .crc import append_crc, check_crc
from .errors import ModbusError
from .pdu import MAX_PDU, ReadRequest, ReadWriteRegisters, Request

__all__ = [
    "MAX_FRAME",
    "MAX_UNIT",
    "RtuFrame",
    "Discarded",
    "RtuDecoder",
    "encode_frame",
    "expected_response_length",
    "EXCEPTION_LENGTH",
    "character_time",
    "silent_interval",
]

# 2.5.1: address (1) + PDU (<= 253) + CRC (2) = 256 bytes.
MAX_FRAME = 256
# Unit, function | 0x80, exception code, CRC (Application Protocol 7).
EXCEPTION_LENGTH = 5
# 2.2: 0 is broadcast, 1..247 are device addresses, 248..255 are reserved.
MAX_UNIT = 247


class RtuFrame(NamedTuple):
    """A frame whose CRC checked: ``unit`` and the ``pdu`` without the CRC.

    A named tuple, not a frozen dataclass: one is made per frame, and a
    tuple is built in half the time (no object.__setattr__ per field).
    """

    unit: int
    pdu: bytes


class Discarded(NamedTuple):
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


def expected_response_length(request: Request) -> int:
    """Bytes in the RTU frame of a normal answer to ``request`` (an exception is
    :data:`EXCEPTION_LENGTH`): unit, PDU, CRC (Application Protocol 6.1-6.17)."""
    if isinstance(request, ReadRequest):
        if request.function in (1, 2):
            # Unit, function, byte count, ceil(count / 8) bytes of bits, CRC.
            return 5 + (request.count + 7) // 8
        return 5 + 2 * request.count
    if isinstance(request, ReadWriteRegisters):
        return 5 + 2 * request.read_count
    # 5 and 6 echo address and value; 15 and 16 answer address and quantity.
    return 8


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
    arriving after a longer gap start a new frame, and after a CRC failure
    of the awaited answer bytes are dropped until such a gap.  A master may
    call :meth:`expect` with the unit and function it is waiting for, so
    garbage is skipped quickly and a stray frame from another unit is not
    taken for the answer, and with the answer's length, so the answer is
    complete (or known damaged) as soon as that many bytes arrived.
    """

    __slots__ = (
        "_buf",
        "_events",
        "_garbage",
        "_last",
        "_length",
        "_silence",
        "_expect",
        "_answer",
        "_resyncing",
        "_hunting",
        "_timed",
        "answer_damaged",
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
        self._answer: int | None = None
        # True after bytes were skipped and no frame was found since: the
        # candidate at the head of the buffer may be a phantom (garbage that
        # predicts a long frame), so a complete frame further on wins.
        self._resyncing = False
        # True from a CRC failure of the awaited answer until the line was
        # silent for the silent interval (only with timestamps).
        self._hunting = False
        self._timed = False
        #: The awaited answer arrived in full (unit, function and length
        #: matched) but its CRC did not check; cleared by expect() and reset().
        self.answer_damaged = False

    def expect(self, unit: int | None, function: int | None = None, length: int | None = None) -> None:
        """Accept only a frame from ``unit`` answering ``function`` (None: any).

        ``length`` (see :func:`expected_response_length`) is the frame length
        of the normal answer; an exception answer is :data:`EXCEPTION_LENGTH`.
        """
        self._expect = None if unit is None or function is None else (unit, function & 0x7F)
        self._answer = length if self._expect is not None else None
        self.answer_damaged = False

    def reset(self) -> None:
        """Forget a partial frame (reported as discarded), e.g. before a new request."""
        self._garbage += len(self._buf)
        self._buf.clear()
        self._resyncing = False
        self._hunting = False
        self.answer_damaged = False
        self._flush_garbage("not a frame")

    def receive_data(self, data: bytes, now: float | None = None) -> None:
        """Feed bytes read from the port; ``now`` is when they were read."""
        answer = self._answer
        if answer is not None and now is None and len(data) == answer and not self._buf and not self._hunting:
            # The master's common case: one read holding exactly the awaited
            # answer.  The same checks as _parse (unit, function, the frame's
            # own length agreeing with the request's, CRC), without its
            # general machinery; anything else takes the general path.
            expect = self._expect
            assert expect is not None
            unit = data[0]
            if (unit == expect[0] and data[1] == expect[1] and unit <= MAX_UNIT
                    and self._length(data) == answer and check_crc(data)):  # type: ignore[arg-type]
                self._timed = False
                self._events.append(RtuFrame(unit, bytes(data[1:-2])))
                return
        self._timed = now is not None and self._silence is not None
        if self._timed:
            assert now is not None and self._silence is not None
            if self._last is not None and now - self._last > self._silence:
                self._hunting = False
                if self._buf:
                    self._garbage += len(self._buf)
                    self._buf.clear()
                    self._resyncing = False
                    self._flush_garbage("partial frame ended by silence")
            self._last = now
        if self._hunting:
            self._garbage += len(data)
            self._flush_garbage("bytes before the line went silent")
            return
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

    def _awaited(self, offset: int) -> bool:
        """The bytes at ``offset`` start a frame from the awaited unit and function."""
        expect = self._expect
        buf = self._buf
        return expect is None or (buf[offset] == expect[0] and buf[offset + 1] & 0x7F == expect[1])

    def _lengths(self, offset: int) -> tuple[int, ...] | None:
        """Lengths a frame at ``offset`` may have, shortest first; None: need more bytes.

        With an awaited answer length the request decides (the byte count
        may be the damaged byte, and must not make us wait for 255 bytes); a
        CRC-valid frame shorter than that, as long as its own byte count
        says, is taken too, so a device that answers fewer values than asked
        is reported at once (as a malformed answer) and not waited for.
        """
        view = self._buf[offset:]
        if self._answer is not None:
            if view[1] & 0x80:
                return (EXCEPTION_LENGTH,)
            own = self._length(view) if len(view) >= 3 else None
            if own and own < self._answer:
                return (own, self._answer)
            return (self._answer,)
        n = self._length(view)
        if n is None:
            return None
        return (n,) if 0 < n <= MAX_FRAME else ()

    def _complete(self, offset: int, lengths: tuple[int, ...]) -> int:
        """The length of a complete CRC-valid frame at ``offset``, else 0."""
        buf = self._buf
        have = len(buf) - offset
        for n in lengths:
            if n <= have and check_crc(buf[offset : offset + n]):
                return n
        return 0

    def _acceptable(self, offset: int) -> int:
        """Length of a complete, CRC-valid frame at ``offset`` in the buffer, else 0."""
        buf = self._buf
        if len(buf) - offset < 4 or buf[offset] > MAX_UNIT or not self._awaited(offset):
            return 0
        lengths = self._lengths(offset)
        return self._complete(offset, lengths) if lengths else 0

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
            if buf[0] > MAX_UNIT or not self._awaited(0):
                self._skip()
                continue
            lengths = self._lengths(0)
            if lengths == ():
                self._skip()
                continue
            n = self._complete(0, lengths) if lengths else 0
            if n:
                self._flush_garbage("not a frame")
                self._events.append(RtuFrame(buf[0], bytes(buf[1 : n - 2])))
                self._resyncing = False
                del buf[:n]
                continue
            if lengths is None or len(buf) < lengths[-1]:
                # Incomplete. Right after garbage the head may be a phantom
                # frame that will never complete; a real one behind it wins.
                later = self._later_frame() if self._resyncing else 0
                if later:
                    self._skip(later)
                    continue
                break
            # Every length it may have arrived, and no CRC checks.
            if self._answer is not None:
                self.answer_damaged = True
                if self._timed:
                    # Its tail (or a torn remainder) is still coming: the
                    # next frame starts after the line has been silent.
                    self._garbage += len(buf)
                    buf.clear()
                    self._resyncing = False
                    self._hunting = True
                    self._flush_garbage("bad CRC")
                    return
            self._skip()
        if expect is not None and len(buf) == 1 and buf[0] != expect[0]:
            self._skip()
        if not buf:
            self._resyncing = False
        self._flush_garbage("not a frame")
