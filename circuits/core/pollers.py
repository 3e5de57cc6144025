"""Pollers: choose the selector of a tree's loop, and the 3.x poller API.

There is exactly one selector per root (see loop.py). Registering a Select,
Poll or EPoll component picks which kind it is; by default the best one the
platform has (epoll on Linux) is used. The components also offer the 3.x
API (``addReader(source, fd)`` ... firing ``_read``/``_write`` events on the
source's channel) for code written against it.
"""

from __future__ import annotations

import selectors
from typing import Any

from .components import BaseComponent
from .events import Event
from .manager import Manager


class _read(Event):
    """A descriptor is readable: args (fd,)."""


class _write(Event):
    """A descriptor is writable: args (fd,)."""


class _error(Event):
    """A descriptor failed: args (fd, error)."""


class _disconnect(Event):
    """A descriptor hung up: args (fd,)."""


class BasePoller(BaseComponent):
    """Selects the loop's selector class and offers the 3.x poller API."""

    channel: Any = None
    selector_class: type[selectors.BaseSelector] = selectors.DefaultSelector

    def __init__(self, timeout: float = 0.01, channel: Any = None) -> None:
        super().__init__(channel=channel or self.channel)
        self.timeout = timeout
        self._targets: dict[int, Any] = {}
        self.loop.use_selector(self.selector_class)

    def _root_changed(self, old: Manager, new: Manager) -> None:
        new.loop.use_selector(self.selector_class)
        old_loop = old._circuits_loop  # not ``old.loop``: old.root may already be ``new``
        if old_loop is None:
            return
        for fd in list(self._targets):
            reading, writing = old_loop.is_reading(fd), old_loop.is_writing(fd)
            old_loop.discard(fd)
            if reading:
                new.loop.add_reader(fd, self._notifier(_read, fd))
            if writing:
                new.loop.add_writer(fd, self._notifier(_write, fd))

    def _notifier(self, kind: type[Event], fd: int) -> Any:
        def notify() -> None:
            source = self._targets.get(fd)
            channel = getattr(source, "channel", None) or "*"
            self.fire(kind(fd), channel)
        return notify

    def addReader(self, source: Any, fd: Any) -> None:
        fd = fd if isinstance(fd, int) else fd.fileno()
        self._targets[fd] = source
        self.loop.add_reader(fd, self._notifier(_read, fd))

    def addWriter(self, source: Any, fd: Any) -> None:
        fd = fd if isinstance(fd, int) else fd.fileno()
        self._targets[fd] = source
        self.loop.add_writer(fd, self._notifier(_write, fd))

    def removeReader(self, fd: Any) -> None:
        self.loop.remove_reader(fd)

    def removeWriter(self, fd: Any) -> None:
        self.loop.remove_writer(fd)

    def isReading(self, fd: Any) -> bool:
        return self.loop.is_reading(fd)

    def isWriting(self, fd: Any) -> bool:
        return self.loop.is_writing(fd)

    def discard(self, fd: Any) -> None:
        fd = fd if isinstance(fd, int) else fd.fileno()
        self._targets.pop(fd, None)
        self.loop.discard(fd)

    def getTarget(self, fd: Any) -> Any:
        return self._targets.get(fd if isinstance(fd, int) else fd.fileno())


class Select(BasePoller):
    """select(2): portable, limited to FD_SETSIZE descriptors."""

    channel = "select"
    selector_class = selectors.SelectSelector


class Poll(BasePoller):
    """poll(2)."""

    channel = "poll"
    selector_class = getattr(selectors, "PollSelector", selectors.SelectSelector)


class EPoll(BasePoller):
    """epoll(7): the Linux default."""

    channel = "epoll"
    selector_class = getattr(selectors, "EpollSelector", selectors.DefaultSelector)


class KQueue(BasePoller):
    """kqueue(2) on the BSDs and macOS."""

    channel = "kqueue"
    selector_class = getattr(selectors, "KqueueSelector", selectors.DefaultSelector)


#: The best poller of this platform.
Poller = EPoll if hasattr(selectors, "EpollSelector") else (
    KQueue if hasattr(selectors, "KqueueSelector") else Poll)
