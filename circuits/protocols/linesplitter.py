"""Sans-I/O line framing.

:class:`LineSplitter` turns an arbitrary stream of byte chunks into lines.  It
is used by the ``Line`` protocol component and by serial-device framing, so it
has to cope with hostile or broken peers: the buffered partial line is bounded
by ``max_length`` and an over-long line is discarded (and reported once) rather
than grown without limit.

No I/O happens here: feed bytes with :meth:`LineSplitter.receive_data`, take
events with :meth:`LineSplitter.next_event` (or iterate).

Line ending rules
-----------------
* ``separator=None`` (the default) accepts ``\\r\\n`` and bare ``\\n`` as line
  terminators: the Internet convention is CRLF, and RFC 9112 section 2.2
  lets "a recipient ... recognize a single LF as a line terminator and ignore
  any preceding CR", so we split on ``\\n`` and strip a single ``\\r``
  right before it.  A CRLF split across two chunks yields one clean line
  because the ``\\r`` stays buffered until the ``\\n`` arrives.
* a ``bytes`` separator splits on exactly that byte string (leftmost,
  non-overlapping, like :meth:`bytes.split`).
* a compiled ``bytes`` regular expression splits on its matches.  A match is
  taken as soon as it is seen, so write separators that cannot grow with more
  input (``\\r?\\n`` rather than ``\\r\\n?``).  Zero-width matches are ignored.

Performance: the buffer is searched with :meth:`bytes.find` /
:meth:`bytes.split` (C speed) from a remembered offset, so feeding one byte at a
time costs O(1) per byte (O(regex_lookback) with a regex), not O(line length).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["LineSplitter", "LineTooLong"]


@dataclass(frozen=True, slots=True)
class LineTooLong:
    """An over-long line was discarded; reported once per such line.

    ``dropped`` is the number of bytes of that line discarded when the report
    was made (more of the line may be discarded afterwards, silently, until
    the next separator).
    """

    dropped: int


LineEvent = bytes | LineTooLong


class LineSplitter:
    """Split a byte stream into lines, with a bound on the line length."""

    __slots__ = (
        "_buf",
        "_scan",
        "_events",
        "_discarding",
        "_sep",
        "_strip_cr",
        "_regex",
        "_lookback",
        "_max_length",
        "_limit",
        "_keep",
        "_lines",
        "_dropped_lines",
        "_dropped_bytes",
    )

    def __init__(
        self,
        separator: bytes | re.Pattern[bytes] | None = None,
        max_length: int = 65536,
        *,
        regex_lookback: int = 256,
    ) -> None:
        """Create a splitter.

        ``max_length`` bounds a line's length, separator excluded.
        ``regex_lookback`` only matters for a regex separator: it is the
        longest separator match the splitter can find when the match spans
        two ``receive_data`` calls (re-scanning less than the whole partial
        line is what keeps byte-at-a-time feeding linear).
        """
        if max_length < 1:
            raise ValueError("max_length must be >= 1")
        if regex_lookback < 1:
            raise ValueError("regex_lookback must be >= 1")
        self._regex: re.Pattern[bytes] | None = None
        self._strip_cr = False
        self._lookback = regex_lookback
        if separator is None:
            self._sep = b"\n"
            self._strip_cr = True
            # A trailing b"\r" of a partial line may belong to the separator.
            slack = 1
            keep = 0  # while discarding, only b"\n" matters
        elif isinstance(separator, re.Pattern):
            if not isinstance(separator.pattern, bytes):
                raise TypeError("separator regex must be a bytes pattern")
            self._regex = separator
            self._sep = b""
            slack = keep = regex_lookback
        elif isinstance(separator, bytes):
            if not separator:
                raise ValueError("separator must not be empty")
            self._sep = separator
            # A partial line may end with a proper prefix of the separator.
            slack = keep = len(separator) - 1
        else:
            raise TypeError("separator must be None, bytes or a compiled bytes regex")
        self._max_length = max_length
        # A partial line longer than this is certainly a line longer than
        # max_length, whatever bytes come next.
        self._limit = max_length + slack
        # Bytes kept at the end of a discarded line, so a separator split
        # across chunks is still recognised.
        self._keep = keep
        self._buf = bytearray()
        self._scan = 0
        self._events: deque[LineEvent] = deque()
        self._discarding = False
        self._lines = 0
        self._dropped_lines = 0
        self._dropped_bytes = 0

    # -- introspection -----------------------------------------------------

    @property
    def buffered(self) -> int:
        """Bytes of the current partial (unterminated) line held in memory."""
        return len(self._buf)

    @property
    def lines(self) -> int:
        """Number of lines returned by :meth:`next_event` so far."""
        return self._lines

    @property
    def dropped_lines(self) -> int:
        """Number of :class:`LineTooLong` events returned so far."""
        return self._dropped_lines

    @property
    def max_length(self) -> int:
        return self._max_length

    def statistics(self) -> dict[str, int]:
        return {
            "buffered": len(self._buf),
            "pending_events": len(self._events),
            "lines": self._lines,
            "dropped_lines": self._dropped_lines,
            "dropped_bytes": self._dropped_bytes,
        }

    # -- input -------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Add bytes from the stream; frames them immediately."""
        if not data:
            return
        self._buf += data
        if self._regex is None:
            self._frame_bytes()
        else:
            self._frame_regex()

    def next_event(self) -> LineEvent | None:
        """Return the next line or :class:`LineTooLong`, or None if more data is needed."""
        if not self._events:
            return None
        event = self._events.popleft()
        if type(event) is bytes:
            self._lines += 1
        else:
            self._dropped_lines += 1
        return event

    def __iter__(self) -> Iterator[LineEvent]:
        """Drain the events available now."""
        while True:
            event = self.next_event()
            if event is None:
                return
            yield event

    def feed(self, data: bytes) -> list[LineEvent]:
        """:meth:`receive_data` then drain: a convenience."""
        self.receive_data(data)
        return list(self)

    def flush(self) -> bytes:
        """Return and clear the partial (unterminated) line, e.g. at EOF.

        The bytes are returned as they are (no separator stripping).  If the
        partial line was being discarded as over-long it was already reported
        and ``b""`` is returned.
        """
        data = b"" if self._discarding else bytes(self._buf)
        self._buf.clear()
        self._scan = 0
        self._discarding = False
        return data

    # -- framing -----------------------------------------------------------

    def _emit(self, line: bytes) -> None:
        if self._strip_cr and line.endswith(b"\r"):
            line = line[:-1]
        if len(line) > self._max_length:
            self._dropped_bytes += len(line)
            self._events.append(LineTooLong(len(line)))
        else:
            self._events.append(line)

    def _start_discarding(self) -> None:
        """The partial line is too long: drop it now, report it once."""
        buf = self._buf
        dropped = len(buf) - self._keep
        del buf[:dropped]
        self._dropped_bytes += dropped
        self._events.append(LineTooLong(dropped))
        self._discarding = True
        self._scan = 0

    def _frame_bytes(self) -> None:
        buf = self._buf
        sep = self._sep
        seplen = len(sep)
        if self._discarding:
            i = buf.find(sep)
            if i < 0:
                n = len(buf) - self._keep
                if n > 0:
                    self._dropped_bytes += n
                    del buf[:n]
                return
            self._dropped_bytes += i
            del buf[: i + seplen]
            self._discarding = False
            self._scan = 0
        if buf.find(sep, self._scan) >= 0:
            # No separator starts before self._scan (earlier searches failed),
            # so splitting the whole buffer gives the same leftmost,
            # non-overlapping result as scanning line by line.
            parts = bytes(buf).split(sep)
            rest = parts.pop()
            for part in parts:
                self._emit(part)
            buf[:] = rest
        n = len(buf)
        if n > self._limit:
            self._start_discarding()
            return
        self._scan = n - seplen + 1 if n >= seplen else 0

    def _search(self, pos: int) -> tuple[int, int] | None:
        regex = self._regex
        assert regex is not None
        buf = self._buf
        while pos <= len(buf):
            m = regex.search(buf, pos)
            if m is None:
                return None
            start, end = m.span()
            if end > start:
                return start, end
            pos = start + 1  # zero-width match: not a separator
        return None

    def _frame_regex(self) -> None:
        buf = self._buf
        if self._discarding:
            span = self._search(0)
            if span is None:
                n = len(buf) - self._keep
                if n > 0:
                    self._dropped_bytes += n
                    del buf[:n]
                return
            self._dropped_bytes += span[0]
            del buf[: span[1]]
            self._discarding = False
            self._scan = 0
        start = 0
        pos = self._scan
        while (span := self._search(pos)) is not None:
            self._emit(bytes(buf[start : span[0]]))
            start = pos = span[1]
        if start:
            del buf[:start]
        n = len(buf)
        if n > self._limit:
            self._start_discarding()
            return
        self._scan = max(0, n - self._lookback)
