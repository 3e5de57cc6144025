"""Per-device framing: cut a serial byte stream into messages for a parser.

Three kinds, one interface (:class:`Framer`):

* ``line``  - lines ending in LF or CRLF (or a configured separator), at most
  ``max_length`` bytes; longer lines are dropped (``oversize``).
  Empty lines are skipped and counted as ``empty``: many devices send a bare
  CRLF between records and that is not a parse failure.
* ``slip``  - RFC 1055 SLIP frames of at most ``max_length`` decoded bytes;
  frames with invalid escapes are dropped (``malformed``).
* ``raw``   - chunks pass through as they were read; a chunk longer than
  ``max_length`` is cut into pieces so downstream buffers stay bounded.
  Nothing is ever dropped.

``feed`` returns a :class:`Framed`: the complete messages *and* what was
dropped on the way, as :class:`Dropped` values in stream order, so the
caller learns of a drop from the call that caused it (to log it with its
reason and size) instead of by comparing counters before and after.

The byte-level work is done by the sans-I/O framers in
:mod:`circuits.protocols`; this module only adapts them to one shape and
keeps running totals for ``statistics()``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Literal, NamedTuple, Protocol

from circuits.protocols.linesplitter import LineSplitter, LineTooLong
from circuits.protocols.slip import FrameTooLong, InvalidEscape, SlipDecoder, slip_encode

from .profile import FRAMING_KINDS, FramingKind

LINE_TERMINATOR = b"\r\n"  # what NMEA 0183 and most serial sensors send


DropReason = Literal["oversize", "malformed"]


class Dropped(NamedTuple):
    """A message the framer discarded: why, and how many bytes (at least)."""

    reason: DropReason
    size: int

    def describe(self, max_length: int) -> str:
        if self.reason == "oversize":
            return f"dropped a message longer than max_line ({max_length} bytes; {self.size} bytes discarded)"
        return f"dropped a malformed frame ({self.size} bytes)"


#: What a framer hands back when nothing was dropped: shared, never changed.
NO_DROPS: tuple[Dropped, ...] = ()


class Framed(NamedTuple):
    """The result of one ``feed``/``flush``: messages, then what was dropped."""

    messages: list[bytes]
    dropped: tuple[Dropped, ...] = NO_DROPS


@dataclass(slots=True)
class FramingStats:
    frames: int = 0  # messages handed out
    empty: int = 0  # empty lines skipped
    oversize: int = 0  # messages dropped for exceeding max_length
    malformed: int = 0  # messages dropped as undecodable (bad SLIP escape, partial frame at EOF)
    dropped_bytes: int = 0  # bytes discarded by the two counters above (at least)


class Framer(Protocol):
    kind: FramingKind
    max_length: int

    def feed(self, data: bytes) -> Framed:
        """Take bytes as read from the port; return the complete messages
        and the ones dropped on the way."""
        ...

    def flush(self) -> Framed:
        """End of stream: a final unterminated message, if usable (or its drop)."""
        ...

    def statistics(self) -> dict[str, int]: ...


class LineFramer:
    kind: FramingKind = "line"

    def __init__(self, max_length: int, separator: bytes | None = None) -> None:
        self.max_length = max_length
        self._splitter = LineSplitter(separator, max_length)
        self._stats = FramingStats()

    def feed(self, data: bytes) -> Framed:
        messages: list[bytes] = []
        dropped: list[Dropped] = []
        stats = self._stats
        for event in self._splitter.feed(data):
            if isinstance(event, LineTooLong):
                dropped.append(Dropped("oversize", event.dropped))
                stats.oversize += 1
                stats.dropped_bytes += event.dropped
            elif event:
                messages.append(event)
            else:
                stats.empty += 1
        stats.frames += len(messages)
        return Framed(messages, tuple(dropped) if dropped else NO_DROPS)

    def flush(self) -> Framed:
        # A device that stops without a final newline still sent a message;
        # hand it over so e.g. a one-shot reading from a file is not lost.
        rest = self._splitter.flush()
        if rest.endswith(b"\r"):
            rest = rest[:-1]
        if not rest:
            return Framed([])
        if len(rest) > self.max_length:
            self._stats.oversize += 1
            self._stats.dropped_bytes += len(rest)
            return Framed([], (Dropped("oversize", len(rest)),))
        self._stats.frames += 1
        return Framed([rest])

    def statistics(self) -> dict[str, int]:
        return asdict(self._stats) | {"buffered": self._splitter.buffered}


class SlipFramer:
    kind: FramingKind = "slip"

    def __init__(self, max_length: int) -> None:
        self.max_length = max_length
        self._decoder = SlipDecoder(max_length)
        self._stats = FramingStats()

    def feed(self, data: bytes) -> Framed:
        messages: list[bytes] = []
        dropped: list[Dropped] = []
        stats = self._stats
        for event in self._decoder.feed(data):
            if isinstance(event, FrameTooLong):
                dropped.append(Dropped("oversize", event.dropped))
                stats.oversize += 1
                stats.dropped_bytes += event.dropped
            elif isinstance(event, InvalidEscape):
                dropped.append(Dropped("malformed", event.length))
                stats.malformed += 1
                stats.dropped_bytes += event.length
            else:
                messages.append(event)
        stats.frames += len(messages)
        return Framed(messages, tuple(dropped) if dropped else NO_DROPS)

    def flush(self) -> Framed:
        # Unlike a line, a SLIP frame without its END may be cut anywhere,
        # even inside an escape: it is not a message.
        rest = self._decoder.flush()
        if rest:
            self._stats.malformed += 1
            self._stats.dropped_bytes += len(rest)
            return Framed([], (Dropped("malformed", len(rest)),))
        return Framed([])

    def statistics(self) -> dict[str, int]:
        return asdict(self._stats) | {"buffered": self._decoder.buffered}


class RawFramer:
    kind: FramingKind = "raw"

    def __init__(self, max_length: int) -> None:
        self.max_length = max_length
        self._stats = FramingStats()

    def feed(self, data: bytes) -> Framed:
        size = self.max_length
        messages = [bytes(data[i : i + size]) for i in range(0, len(data), size)]
        self._stats.frames += len(messages)
        return Framed(messages)

    def flush(self) -> Framed:
        return Framed([])

    def statistics(self) -> dict[str, int]:
        return asdict(self._stats) | {"buffered": 0}


def make_framer(kind: FramingKind, max_length: int = 4096, *, separator: bytes | None = None) -> Framer:
    """Build the framer for a device; ``separator`` applies to ``line`` only."""
    if max_length < 1:
        raise ValueError("max_length must be >= 1")
    if separator is not None and kind != "line":
        raise ValueError(f"separator only applies to line framing, not {kind!r}")
    if kind == "line":
        return LineFramer(max_length, separator)
    if kind == "slip":
        return SlipFramer(max_length)
    if kind == "raw":
        return RawFramer(max_length)
    raise ValueError(f"unknown framing {kind!r}; valid: {', '.join(FRAMING_KINDS)}")


def frame_encoder(kind: FramingKind) -> Callable[[bytes], bytes]:
    """The inverse of a framer for one message: what a device would send."""
    if kind == "line":
        return lambda payload: payload + LINE_TERMINATOR
    if kind == "slip":
        return slip_encode
    if kind == "raw":
        return bytes
    raise ValueError(f"unknown framing {kind!r}; valid: {', '.join(FRAMING_KINDS)}")
