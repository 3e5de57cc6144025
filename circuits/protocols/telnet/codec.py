"""Sans-I/O Telnet framing (RFC 854 and RFC 855): bytes in, events out.

:class:`TelnetDecoder` splits what a peer sends into :class:`Data` (with
``IAC IAC`` already undone), :class:`Negotiation` (``IAC WILL/WONT/DO/DONT
option``), :class:`Subnegotiation` (``IAC SB option ... IAC SE``) and
:class:`Command` (any other ``IAC x``).  It never waits for more input than
one command needs, so a sequence split across reads at any byte decodes the
same as in one piece.

The subnegotiation buffer is bounded (``max_subnegotiation``): a peer that
opens one and never ends it costs at most that much memory, then
:class:`TelnetError`.  Outgoing data is escaped with :func:`escape`.

No NVT end-of-line translation is done: RFC 2217 sessions run with BINARY
(RFC 856) in both directions, where every octet but IAC is data.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from .constants import IAC, SB, SE, VERBS
from .errors import TelnetError

__all__ = ["Command", "Data", "Negotiation", "Subnegotiation", "TelnetDecoder", "TelnetEvent",
           "escape", "negotiation", "subnegotiation"]

#: Longest subnegotiation accepted (option byte and parameters, unescaped).
#: RFC 2217's longest is a SIGNATURE text; 4 KiB is plenty for it.
DEFAULT_MAX_SUBNEGOTIATION = 4096

_IAC = bytes([IAC])
_IAC_IAC = bytes([IAC, IAC])


@dataclass(frozen=True, slots=True)
class Data:
    data: bytes


@dataclass(frozen=True, slots=True)
class Negotiation:
    verb: int     # WILL, WONT, DO or DONT
    option: int


@dataclass(frozen=True, slots=True)
class Subnegotiation:
    option: int
    payload: bytes


@dataclass(frozen=True, slots=True)
class Command:
    """``IAC x`` for any other x (NOP, BRK, AYT, ...)."""

    code: int


TelnetEvent = Data | Negotiation | Subnegotiation | Command


def escape(data: bytes) -> bytes:
    """Data as it goes on the wire: each IAC doubled (RFC 854)."""
    return data.replace(_IAC, _IAC_IAC) if IAC in data else data


def negotiation(verb: int, option: int) -> bytes:
    return bytes((IAC, verb, option))


def subnegotiation(option: int, payload: bytes) -> bytes:
    """``IAC SB option payload IAC SE``, IACs in the payload doubled (RFC 855)."""
    return bytes((IAC, SB, option)) + escape(payload) + bytes((IAC, SE))


# Decoder states.
_DATA, _IAC_SEEN, _VERB, _SB_OPTION, _SB, _SB_IAC = range(6)


class TelnetDecoder:
    """Incremental decoder of one direction of a Telnet connection."""

    def __init__(self, max_subnegotiation: int = DEFAULT_MAX_SUBNEGOTIATION) -> None:
        if max_subnegotiation < 1:
            raise ValueError("max_subnegotiation must be at least 1")
        self.max_subnegotiation = max_subnegotiation
        self._state = _DATA
        self._verb = 0
        self._option = 0
        self._sb = bytearray()
        self._failed: TelnetError | None = None

    def receive_data(self, data: bytes) -> Iterator[TelnetEvent]:
        """Decode ``data``; yields the events it completes, in order.

        Raises :class:`TelnetError` (and keeps raising it) once the peer
        broke the framing.
        """
        if self._failed is not None:
            raise self._failed
        try:
            yield from self._decode(data)
        except TelnetError as err:
            self._failed = err
            raise

    def _decode(self, data: bytes) -> Iterator[TelnetEvent]:
        pos, end = 0, len(data)
        while pos < end:
            state = self._state
            if state == _DATA:
                # The hot path: everything up to the next IAC is data.
                nxt = data.find(_IAC, pos)
                if nxt < 0:
                    yield Data(data[pos:] if pos else data)
                    return
                if nxt > pos:
                    yield Data(data[pos:nxt])
                self._state = _IAC_SEEN
                pos = nxt + 1
                continue
            byte = data[pos]
            pos += 1
            if state == _IAC_SEEN:
                if byte == IAC:
                    yield Data(_IAC)
                    self._state = _DATA
                elif byte in VERBS:
                    self._verb = byte
                    self._state = _VERB
                elif byte == SB:
                    self._state = _SB_OPTION
                else:
                    # SE outside a subnegotiation is a stray command; report it.
                    yield Command(byte)
                    self._state = _DATA
            elif state == _VERB:
                yield Negotiation(self._verb, byte)
                self._state = _DATA
            elif state == _SB_OPTION:
                if byte == IAC:
                    raise TelnetError("IAC SB without an option byte")
                self._option = byte
                self._sb.clear()
                self._state = _SB
            elif state == _SB:
                if byte == IAC:
                    self._state = _SB_IAC
                    continue
                # Take the run up to the next IAC at once (bounded).
                nxt = data.find(_IAC, pos)
                stop = end if nxt < 0 else nxt
                self._sb.append(byte)
                self._sb += data[pos:stop]
                pos = stop
                self._check_length()
            else:  # _SB_IAC
                if byte == IAC:
                    self._sb.append(IAC)
                    self._check_length()
                    self._state = _SB
                elif byte == SE:
                    yield Subnegotiation(self._option, bytes(self._sb))
                    self._sb.clear()
                    self._state = _DATA
                else:
                    # RFC 855: parameters end with IAC SE; anything else after
                    # IAC means the peer lost track of the framing.
                    raise TelnetError(f"IAC {byte} inside a subnegotiation of option {self._option}")

    def _check_length(self) -> None:
        if len(self._sb) + 1 > self.max_subnegotiation:
            self._sb.clear()
            raise TelnetError(f"subnegotiation of option {self._option} longer than "
                              f"{self.max_subnegotiation} bytes")

    def only_data(self, data: bytes) -> bool:
        """True if ``data`` decodes to nothing but itself as :class:`Data`
        (no IAC in it, no command under way, framing intact), so a caller
        may take it as data without feeding it here: the common case of a
        binary session, and its hot path."""
        return self._state == _DATA and self._failed is None and IAC not in data

    @property
    def pending(self) -> int:
        """Bytes held for an unfinished subnegotiation."""
        return len(self._sb)
