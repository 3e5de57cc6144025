"""Sans-I/O IRC stream parser: bytes in, :class:`Message` (or :class:`BadLine`) out.

Framing is :class:`~circuits.protocols.linesplitter.LineSplitter` with its
default rule (CR LF, or a bare LF as many servers send). A line longer than
the RFC limit (plus room for IRCv3 tags) is dropped and reported, never
buffered without bound; a line that does not parse is reported as a
:class:`BadLine` value rather than raised, so one bad line from a server
does not end the session. Empty lines are skipped (RFC 2812 section 2.3.1:
"Empty messages are silently ignored").
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

from ..linesplitter import LineSplitter, LineTooLong
from .message import MAX_LINE, MAX_TAGS, IRCProtocolError, Message, parse_message

__all__ = ["BadLine", "IRCParser"]


@dataclass(frozen=True, slots=True)
class BadLine:
    """A line that was not a valid IRC message (``line`` is empty when it was too long)."""

    line: bytes
    reason: str


ParserEvent = Message | BadLine


class IRCParser:
    """Feed bytes with :meth:`receive_data`; take messages with :meth:`next_event`."""

    def __init__(self, encoding: str = "utf-8", max_length: int = MAX_LINE + MAX_TAGS) -> None:
        self.encoding = encoding
        self._lines = LineSplitter(max_length=max_length)
        self._events: deque[ParserEvent] = deque()
        self.messages = 0
        self.bad_lines = 0

    def receive_data(self, data: bytes) -> None:
        self._lines.receive_data(data)
        for item in self._lines:
            if isinstance(item, LineTooLong):
                self._events.append(BadLine(b"", f"line too long ({item.dropped} bytes dropped)"))
                continue
            if not item.strip(b" "):
                continue
            try:
                self._events.append(parse_message(item, self.encoding))
            except IRCProtocolError as e:
                self._events.append(BadLine(item, str(e)))

    def next_event(self) -> ParserEvent | None:
        if not self._events:
            return None
        event = self._events.popleft()
        if isinstance(event, Message):
            self.messages += 1
        else:
            self.bad_lines += 1
        return event

    def __iter__(self) -> Iterator[ParserEvent]:
        while (event := self.next_event()) is not None:
            yield event

    def feed(self, data: bytes) -> list[ParserEvent]:
        """receive_data, then drain: a convenience."""
        self.receive_data(data)
        return list(self)

    def reset(self) -> None:
        """Forget a partial line (the connection was closed)."""
        self._lines.flush()
        self._events.clear()

    def statistics(self) -> dict[str, int]:
        return {"messages": self.messages, "bad_lines": self.bad_lines,
                "buffered": self._lines.buffered, "pending": len(self._events)}
