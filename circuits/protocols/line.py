"""The Line protocol component: ``read`` events in, ``line`` events out.

``Line`` (2.x name: ``LP``) listens to ``read`` events on its channel and
fires a ``line`` event per complete line, on the channels the ``read``
came on. Two modes, told apart by the ``read`` arguments:

* ``read(data)`` (clients, files, serial ports...): ``line(line)``; one
  buffer per channel (a ``Line`` on ``"*"`` keeps streams apart).
* ``read(sock, data)`` (servers): ``line(sock, line)``; one buffer per
  client, discarded on ``disconnect(sock)``.

Framing: by default lines end with ``\\r\\n`` or ``\\n`` (``\\r?\\n``), which
are removed. ``separator=b"..."`` (or a compiled bytes regex) splits on
exactly that instead. A ``splitter`` function with the 2.x signature
``splitter(data, buffer) -> (lines, buffer)`` takes over the framing
entirely; so do the 2.x ``getBuffer(sock) -> buffer`` and
``updateBuffer(sock, buffer)`` callables, which keep server buffers
outside the component (with the default ``\\r?\\n`` splitter unless one is
given).

Limits: a line longer than ``max_length`` bytes (default 64 KiB) is
dropped while it arrives, so memory never grows past the limit; it is
counted (``dropped_lines``, ``dropped_bytes``) and reported once with
``line_too_long(dropped)`` (servers: ``line_too_long(sock, dropped)``),
and the lines after it are framed normally. With a ``splitter``
function the component cannot see separators: a partial line is dropped
once it is ``SPLITTER_SLACK`` bytes past the limit (room for a separator
split across reads), and the first "line" the splitter returns next is
dropped too (the rest of the long one). A splitter function re-splits
its whole buffer on every read (that is its 2.x contract), so prefer the
default framing for long lines arriving in small pieces.

Lines are ``bytes`` unless ``encoding`` is given; then they are ``str``
decoded with ``errors`` (default ``"replace"``: invalid bytes become
U+FFFD, never an exception). Unlike circuits 3.x, which decoded UTF-8 by
default, the default here is bytes: the component does not guess.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..core.components import BaseComponent
from ..core.events import Event
from ..core.handlers import handler
from .linesplitter import LineSplitter, LineTooLong

__all__ = ["LP", "Line", "line", "line_too_long", "split_lines"]

Splitter = Callable[[bytes, bytes], tuple[list[bytes], bytes]]
#: How far past max_length a splitter function's partial line may grow.
SPLITTER_SLACK = 64
_LINE_END = re.compile(rb"\r?\n")


class line(Event):
    """A complete line: args (line,) or, from a server, (sock, line)."""


class line_too_long(Event):
    """A line passed max_length and was dropped: args (dropped,) or (sock, dropped)."""


def split_lines(data: bytes, buffer: bytes) -> tuple[list[bytes], bytes]:
    """The default 2.x-style splitter: lines end with ``\\r?\\n``."""
    parts = _LINE_END.split(buffer + data)
    return parts[:-1], parts[-1]


class _FunctionFramer:
    """Framing by a 2.x splitter function, with the length limit added."""

    __slots__ = ("splitter", "max_length", "buffer", "discarding")

    def __init__(self, splitter: Splitter, max_length: int) -> None:
        self.splitter = splitter
        self.max_length = max_length
        self.buffer = b""
        self.discarding = False

    def feed(self, data: bytes, buffer: bytes) -> tuple[list[bytes | LineTooLong], bytes]:
        """Frame ``data`` after ``buffer``; returns (events, new buffer)."""
        lines, buffer = self.splitter(data, buffer)
        events: list[bytes | LineTooLong] = []
        if self.discarding and lines:
            # The first "line" is the tail of the over-long one.
            lines = lines[1:]
            self.discarding = False
        for item in lines:
            events.append(item if len(item) <= self.max_length else LineTooLong(len(item)))
        if len(buffer) > self.max_length + SPLITTER_SLACK:
            if not self.discarding:
                events.append(LineTooLong(len(buffer)))
            self.discarding = True
            buffer = b""
        elif self.discarding and not lines:
            buffer = b""  # still inside the over-long line
        return events, buffer


class Line(BaseComponent):
    """Split ``read`` data into ``line`` events (see module doc)."""

    def __init__(self, *args: Any, splitter: Splitter | bytes | re.Pattern[bytes] | None = None,
                 separator: bytes | re.Pattern[bytes] | None = None, max_length: int = 65536,
                 encoding: str | None = None, errors: str = "replace",
                 getBuffer: Callable[[Any], bytes] | None = None,  # noqa: N803 (2.x names)
                 updateBuffer: Callable[[Any, bytes], None] | None = None,  # noqa: N803
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if isinstance(splitter, bytes | re.Pattern):
            separator, splitter = splitter, None
        if (getBuffer is None) != (updateBuffer is None):
            raise ValueError("getBuffer and updateBuffer go together")
        if max_length < 1:
            raise ValueError("max_length must be >= 1")
        self.separator = separator
        self.max_length = max_length
        self.encoding = encoding
        self.errors = errors
        self.getBuffer = getBuffer
        self.updateBuffer = updateBuffer
        # A splitter function (or external buffers) means 2.x framing.
        self.splitter: Splitter | None = splitter or (split_lines if getBuffer is not None else None)
        self._framers: dict[Any, LineSplitter | _FunctionFramer] = {}
        self.lines = 0
        #: Over-long lines dropped, and the bytes dropped when each was reported.
        self.dropped_lines = 0
        self.dropped_bytes = 0

    @property
    def buffered(self) -> int:
        """Bytes of partial lines held, over all streams (at most about max_length each)."""
        return sum(f.buffered if isinstance(f, LineSplitter) else len(f.buffer) for f in self._framers.values())

    def statistics(self) -> dict[str, int]:
        return {"streams": len(self._framers), "buffered": self.buffered, "lines": self.lines,
                "dropped_lines": self.dropped_lines, "dropped_bytes": self.dropped_bytes}

    def _framer(self, key: Any) -> LineSplitter | _FunctionFramer:
        framer = self._framers.get(key)
        if framer is None:
            if self.splitter is not None:
                framer = _FunctionFramer(self.splitter, self.max_length)
            else:
                framer = LineSplitter(self.separator, self.max_length)
            self._framers[key] = framer
        return framer

    # -- events --------------------------------------------------------------
    @handler("read")
    def _on_read(self, event: Event, *args: Any) -> None:
        client = False
        if len(args) == 1:
            sock, data, client = _ClientKey(tuple(event.channels)), args[0], True
        elif len(args) == 2:
            sock, data = args
        else:
            return  # not a stream read we understand
        if isinstance(data, str):
            data = data.encode(self.encoding or "utf-8")
        framer = self._framer(sock)
        if isinstance(framer, _FunctionFramer):
            external = self.getBuffer is not None and not client
            buffer = (self.getBuffer(sock) or b"") if external else framer.buffer  # type: ignore[misc]
            items, buffer = framer.feed(bytes(data), buffer)
            if external:
                self.updateBuffer(sock, buffer)  # type: ignore[misc]
            else:
                framer.buffer = buffer
        else:
            items = framer.feed(bytes(data))
        prefix = () if client else (sock,)
        channels = event.channels
        for item in items:
            if isinstance(item, LineTooLong):
                self.dropped_lines += 1
                self.dropped_bytes += item.dropped
                self.fire(line_too_long(*prefix, item.dropped), *channels)
                continue
            self.lines += 1
            payload: bytes | str = item if self.encoding is None else item.decode(self.encoding, self.errors)
            self.fire(line(*prefix, payload), *channels)

    @handler("disconnect", "disconnected", "closed")
    def _on_gone(self, event: Event, *args: Any) -> None:
        """A stream ended: forget its partial line (a new connection starts clean).

        ``disconnect(sock)`` names a server's client; ``disconnected()``,
        ``closed()`` and ``closed(reason)`` end the client-mode stream.
        """
        if len(args) == 1 and _hashable(args[0]) and args[0] in self._framers:
            del self._framers[args[0]]
        else:
            self._framers.pop(_ClientKey(tuple(event.channels)), None)


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class _ClientKey:
    """The buffer key of a client-mode stream: the channels its reads come on.

    A type of its own, so it never equals a server's socket key.
    """

    channels: tuple[Any, ...]


LP = Line
