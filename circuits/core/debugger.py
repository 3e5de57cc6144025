"""Debugger: prints every event (and every error, with its traceback)."""

from __future__ import annotations

import sys
import traceback
from typing import Any, TextIO

from .components import BaseComponent
from .handlers import describe_handler, handler


class Debugger(BaseComponent):
    """Print events to ``file`` (stderr by default) or to ``logger.debug``.

    ``errors``: print ``exception`` events with their traceback.
    ``events``: print every other event. ``IgnoreEvents`` and
    ``IgnoreChannels`` (lists of names; IgnoreChannels may also hold
    (channel, event name) pairs) leave events out; ``prefix`` is put
    before each line; ``trim`` cuts each line to that many characters.
    """

    IgnoreEvents: list[str] = ["generate_events"]
    IgnoreChannels: list[Any] = []

    def __init__(self, errors: bool = True, events: bool = True, file: TextIO | str | None = None,
                 logger: Any = None, prefix: str | None = None, trim: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.errors = errors
        self.events = events
        self.file: TextIO = open(file, "a") if isinstance(file, str) else (file or sys.stderr)  # noqa: SIM115
        self.logger = logger
        self.prefix = prefix
        self.trim = trim
        self.enabled = True
        self.IgnoreEvents = list(kwargs.get("IgnoreEvents", type(self).IgnoreEvents))
        self.IgnoreChannels = list(kwargs.get("IgnoreChannels", type(self).IgnoreChannels))
        if errors:
            # Only when asked for: otherwise the core's fallback still reports errors.
            self.addHandler(_print_error)

    def _write(self, text: str, error: bool = False) -> None:
        if self.prefix:
            text = f"{self.prefix}: {text}"
        if self.trim and len(text) > self.trim:
            text = text[: self.trim] + "..."
        if self.logger is not None:
            (self.logger.error if error else self.logger.debug)(text)
            return
        try:
            self.file.write(text + "\n")
            self.file.flush()
        except (OSError, ValueError):
            pass  # a closed stream must not break the application

    # 3.x code switches the output with these.
    @property
    def _events(self) -> bool:
        return self.events

    @_events.setter
    def _events(self, on: bool) -> None:
        self.events = on

    @property
    def _errors(self) -> bool:
        return self.errors

    @_errors.setter
    def _errors(self, on: bool) -> None:
        self.errors = on

    @handler(channel="*", priority=101)
    def _on_event(self, event: Any, *args: Any, **kwargs: Any) -> None:
        if not (self.enabled and self.events) or event.name in self.IgnoreEvents:
            return
        if event.channels and all(self._ignored(c, event.name) for c in event.channels):
            return
        self._write(repr(event))

    def _ignored(self, channel: Any, name: str) -> bool:
        """IgnoreChannels lists channels, or (channel, event name) pairs."""
        ignore = self.IgnoreChannels
        try:
            return channel in ignore or (channel, name) in ignore
        except TypeError:  # an unhashable channel compared with odd entries
            return False



@handler("exception", channel="*", priority=100)
def _print_error(self: Debugger, etype: Any, evalue: Any, etraceback: Any,
                 handler: Any = None, fevent: Any = None) -> None:
    """Added to a Debugger made with errors=True (module level: not a class handler)."""
    if not (self.enabled and self.errors):
        return
    where = describe_handler(handler) if handler is not None else "<unknown handler>"
    lines = [f"ERROR {where} ({fevent!r}) ({getattr(etype, '__name__', etype)}): {evalue!r}"]
    if isinstance(etraceback, list):
        lines.append("".join(etraceback).rstrip("\n"))
    lines.append("".join(traceback.format_exception_only(etype, evalue)).rstrip("\n"))
    self._write("\n".join(lines), error=True)
