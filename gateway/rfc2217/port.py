"""What a serial port really has now, read from the kernel (Linux).

RFC 2217 wants the access server to answer every request with "the actual
value" of the port.  pyserial remembers what it was asked to set, which is
not the same thing (a pty keeps any speed, a UART driver may round it), so
the answers come from ``tcgetattr`` -- and, for a speed that has no ``B``
constant, from the ``TCGETS2`` ioctl that pyserial itself uses to set it.

Modem lines (``TIOCMGET``) and line errors (``TIOCGICOUNT``) exist on
UARTs and USB adapters, not on ptys: the readers return None where the
ioctl fails, and the caller stops asking.
"""

from __future__ import annotations

import array
import fcntl
import struct
import termios
from dataclasses import dataclass

from circuits.protocols.telnet import constants as C

__all__ = ["LineErrors", "LineSettings", "modem_lines", "modem_state", "read_settings"]

#: termios speed constants -> baud (B50 ... B4000000, as this Python knows them).
_SPEEDS = {getattr(termios, name): int(name[1:]) for name in dir(termios)
           if name.startswith("B") and name[1:].isdigit()}
#: Linux <asm-generic/termbits.h>: "other" speed, the real one is in termios2.
_BOTHER = 0o010000
_CMSPAR = 0o10000000000   # mark/space parity (not exported by the termios module)
#: Linux _IOR('T', 0x2A, struct termios2); struct termios2 is 44 bytes.
_TCGETS2 = 0x802C542A
_TERMIOS2 = struct.Struct("=4IB19c2I")
#: struct serial_icounter_struct: cts dsr rng dcd rx tx frame overrun parity brk buf_overrun reserved[9].
_ICOUNT = struct.Struct("=20i")

_DATA_BITS = {termios.CS5: 5, termios.CS6: 6, termios.CS7: 7, termios.CS8: 8}


@dataclass(frozen=True, slots=True)
class LineSettings:
    """The framing of a port in pyserial's terms."""

    baudrate: int
    bytesize: int
    parity: str       # "N", "E", "O", "M" or "S"
    stopbits: float   # 1, 1.5 or 2
    xonxoff: bool
    rtscts: bool

    def as_dict(self) -> dict[str, object]:
        return {"baudrate": self.baudrate, "bytesize": self.bytesize, "parity": self.parity,
                "stopbits": self.stopbits, "xonxoff": self.xonxoff, "rtscts": self.rtscts}


def read_settings(fd: int) -> LineSettings:
    """The settings the kernel has for ``fd`` (raises OSError/termios.error)."""
    iflag, _oflag, cflag, _lflag, _ispeed, ospeed, _cc = termios.tcgetattr(fd)
    baudrate = _SPEEDS.get(ospeed)
    if baudrate is None and ospeed == _BOTHER:
        buf = array.array("B", bytes(_TERMIOS2.size))
        fcntl.ioctl(fd, _TCGETS2, buf, True)
        baudrate = _TERMIOS2.unpack(buf.tobytes())[-1]
    bytesize = _DATA_BITS.get(cflag & termios.CSIZE, 8)
    if not cflag & termios.PARENB:
        parity = "N"
    elif cflag & _CMSPAR:
        parity = "M" if cflag & termios.PARODD else "S"
    else:
        parity = "O" if cflag & termios.PARODD else "E"
    # With 5 data bits a UART sends 1.5 stop bits for CSTOPB (16550).
    stopbits = (1.5 if bytesize == 5 else 2) if cflag & termios.CSTOPB else 1
    return LineSettings(baudrate or 0, bytesize, parity, stopbits,
                        xonxoff=bool(iflag & termios.IXON), rtscts=bool(cflag & termios.CRTSCTS))


def modem_lines(fd: int) -> int | None:
    """The ``TIOCM_*`` bits of ``fd``, or None where there are none (a pty)."""
    try:
        buf = array.array("i", [0])
        fcntl.ioctl(fd, termios.TIOCMGET, buf, True)
    except OSError:
        return None
    return buf[0]


def modem_state(lines: int | None) -> int:
    """TIOCM bits -> the state nibble of RFC 2217 NOTIFY-MODEMSTATE (0 without lines)."""
    if lines is None:
        return 0
    state = 0
    if lines & termios.TIOCM_CAR:
        state |= C.MODEM_CD
    if lines & termios.TIOCM_RNG:
        state |= C.MODEM_RI
    if lines & termios.TIOCM_DSR:
        state |= C.MODEM_DSR
    if lines & termios.TIOCM_CTS:
        state |= C.MODEM_CTS
    return state


class LineErrors:
    """NOTIFY-LINESTATE bits from a UART's error counters.

    ``TIOCGICOUNT`` counts framing, parity, overrun and break events since
    the port was opened; each :meth:`poll` reports the kinds that grew since
    the last one, plus "transmitter empty" from ``TIOCSERGETLSR``.
    """

    def __init__(self) -> None:
        self._last: tuple[int, ...] | None = None

    def reset(self) -> None:
        self._last = None

    def poll(self, fd: int) -> int | None:
        """The line state now, or None where the port has no counters (a pty)."""
        try:
            buf = array.array("B", bytes(_ICOUNT.size))
            fcntl.ioctl(fd, termios.TIOCGICOUNT, buf, True)
        except OSError:
            return None
        counts = _ICOUNT.unpack(buf.tobytes())
        last = self._last or counts
        self._last = counts
        state = 0
        if counts[6] > last[6]:
            state |= C.LINE_FRAMING
        if counts[7] > last[7] or counts[10] > last[10]:
            state |= C.LINE_OVERRUN
        if counts[8] > last[8]:
            state |= C.LINE_PARITY
        if counts[9] > last[9]:
            state |= C.LINE_BREAK
        try:
            lsr = array.array("i", [0])
            fcntl.ioctl(fd, termios.TIOCSERGETLSR, lsr, True)
            if lsr[0] & termios.TIOCSER_TEMT:
                state |= C.LINE_TSRE | C.LINE_THRE
        except OSError:
            pass
        return state
