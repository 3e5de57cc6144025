"""A receive buffer that remembers how far it has searched.

Bytes are appended to one ``bytearray`` and consumed from the front
(CPython makes front deletion O(1) by moving the array start).  Searches for
a line end or for the empty line that ends a section resume where the last
unsuccessful search stopped, so feeding a message one byte at a time costs
O(n) in total rather than O(n^2).
"""

from __future__ import annotations

from .abnf import BLANK_LINE, LEADING_BLANK_LINES

__all__ = ["ReceiveBuffer"]

_search_blank = BLANK_LINE.search
_match_leading = LEADING_BLANK_LINES.match


class ReceiveBuffer:
    __slots__ = ("_data", "_scan", "_checked", "_line_start", "_first_line_end", "_longest")

    def __init__(self) -> None:
        self._data = bytearray()
        # Where the next search may start (everything before it was searched).
        self._scan = 0
        # How far pending_line_lengths() has looked for LFs.
        self._checked = 0
        # Start of the last, still unterminated, line seen by take_block().
        self._line_start = 0
        # Index of the first LF seen by take_block(), or -1.
        self._first_line_end = -1
        # Longest complete line after the first one seen by pending_line_lengths().
        self._longest = 0

    def __len__(self) -> int:
        return len(self._data)

    def __bool__(self) -> bool:
        return bool(self._data)

    def __bytes__(self) -> bytes:
        return bytes(self._data)

    def feed(self, data: bytes) -> None:
        self._data += data

    def _consumed(self, n: int) -> None:
        del self._data[:n]
        self._scan = self._checked = self._line_start = self._longest = 0
        self._first_line_end = -1

    def _reset(self) -> None:
        self._scan = 0
        self._checked = 0
        self._line_start = 0
        self._first_line_end = -1
        self._longest = 0

    # -- raw byte access --------------------------------------------------

    def take(self, n: int) -> bytes:
        """Remove and return up to ``n`` bytes."""
        data = self._data
        if n >= len(data):
            out = bytes(data)
            data.clear()
        else:
            out = bytes(data[:n])
            del data[:n]
        self._reset()
        return out

    def take_all(self) -> bytes:
        return self.take(len(self._data))

    def startswith(self, prefix: bytes) -> bool:
        return self._data.startswith(prefix)

    # -- lines ------------------------------------------------------------

    def take_line(self) -> bytes | None:
        """Remove and return one line without its LF, or ``None`` if no LF yet.

        A CR before the LF is kept; callers' patterns allow ``\\r?``.
        """
        data = self._data
        i = data.find(b"\n", self._scan)
        if i < 0:
            self._scan = len(data)
            return None
        line = bytes(data[:i])
        self._consumed(i + 1)
        return line

    def skip_line_end(self) -> bool | None:
        """Consume a CRLF or LF at the front: True if done, None if more bytes
        are needed, False if something else is there."""
        data = self._data
        if data.startswith(b"\r\n"):
            self._consumed(2)
            return True
        if data.startswith(b"\n"):
            self._consumed(1)
            return True
        if not data or data == b"\r":
            return None
        return False

    def strip_leading_blank_lines(self) -> None:
        """Drop empty lines at the front (RFC 9112 section 2.2)."""
        data = self._data
        if data and (data[0] == 0x0D or data[0] == 0x0A):
            m = _match_leading(data)
            if m is not None:
                self._consumed(m.end())

    # -- sections ----------------------------------------------------------

    def take_block(self) -> bytes | None:
        """Remove a section ended by an empty line and return it without that line.

        The returned bytes are the section's lines, each ending in LF (an
        empty section is ``b""``).  Returns ``None`` while the empty line has
        not arrived; see :meth:`pending_line_lengths` to enforce limits then.
        """
        data = self._data
        scan = self._scan
        # An empty section: the block starts with its terminating empty line.
        if not scan and data:
            first = data[0]
            if first == 0x0A:
                self._consumed(1)
                return b""
            if first == 0x0D:
                if data.startswith(b"\r\n"):
                    self._consumed(2)
                    return b""
                if len(data) == 1:
                    return None
        m = _search_blank(data, scan)
        if m is None:
            # A match may begin up to two bytes before the end ("\n\r" + "\n").
            self._scan = max(len(data) - 2, 0)
            return None
        end = m.start() + 1
        block = bytes(data[:end])
        self._consumed(m.end())
        return block

    def pending_line_lengths(self) -> tuple[int, int]:
        """After ``take_block`` returned ``None``: the length of the first line
        (-1 while it has no LF) and of the unterminated last line.

        Only bytes added since the previous call are searched.
        """
        data = self._data
        checked = self._checked
        if self._first_line_end < 0:
            self._first_line_end = data.find(b"\n", checked)
        # Every line completed since the last call counts toward longest_line:
        # a long line must not pass because its LF came in the same read.
        start = self._line_start
        lf = data.find(b"\n", checked)
        longest = self._longest
        while lf >= 0:
            if start and lf - start > longest:  # start 0: the first line, limited on its own
                longest = lf - start
            start = lf + 1
            lf = data.find(b"\n", start)
        self._longest = longest
        self._line_start = start
        self._checked = len(data)
        return self._first_line_end, len(data) - self._line_start

    @property
    def longest_line(self) -> int:
        """The longest complete line after the first (its CR included) seen by pending_line_lengths()."""
        return self._longest
