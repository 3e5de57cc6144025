"""File-system notifications (inotify through pyinotify), driven by the loop.

``Notify(channel="notify")`` watches paths added with ``add_path(path,
mask=None, recursive=False)`` and forgets them with ``remove_path(path)``;
both are methods and handlers of the events of the same names. For each
kernel event it fires one of ``created``, ``deleted``, ``modified``,
``moved``, ``opened``, ``closed``, ``accessed``, ``unmounted`` (from
circuits.io.events) with the arguments ``(name, path, pathname, dir)``:
the entry's name, the watched directory, the full path, and whether the
entry is a directory. ``moved`` comes for both halves of a rename (from
one watched directory, to another). When the kernel's queue overflowed
(events were lost) it fires ``overflow()``: rescan what you watch.
A path that cannot be watched gives ``error(err)`` (an OSError naming it).

Once registered, it fires ``ready(notify)`` on its channel: it is
watching then (3.x code waits for that before ``add_path``). ``add_path``
may be called from any thread: it only adds a kernel watch, and the
descriptor joins the loop in the loop's own thread. With
``recursive=True`` new subdirectories are watched too, unless
``auto_add=False``.

No threads and no polling: the inotify descriptor sits on the loop's
poller; when it is readable pyinotify's Notifier reads and decodes the
events (``read_events`` + ``process_events``, never its blocking loop).
The descriptor is not a Transport's: inotify must be read whole records
at a time, as many bytes as FIONREAD says, which pyinotify does.

pyinotify attaches a stderr handler to its logger on import; it is
replaced by a NullHandler here, so pyinotify prints nothing on its own
(its records still reach the root logger if the application set one up).
"""

from __future__ import annotations

import logging
import os
import threading
import warnings
from typing import Any

from ..core.components import BaseComponent
from ..core.events import Event
from ..core.handlers import handler
from ..core.manager import Manager
from .events import (
    accessed,
    closed,
    created,
    deleted,
    error,
    modified,
    moved,
    opened,
    overflow,
    ready,
    unmounted,
)

with warnings.catch_warnings():
    # pyinotify imports asyncore, which warns that it is deprecated.
    warnings.simplefilter("ignore", DeprecationWarning)
    import pyinotify


def _quiet(log: logging.Logger) -> None:
    """Replace the stderr handler pyinotify installs on import with a NullHandler."""
    for h in list(log.handlers):
        if type(h) is logging.StreamHandler:
            log.removeHandler(h)
    if not any(isinstance(h, logging.NullHandler) for h in log.handlers):
        log.addHandler(logging.NullHandler())


_quiet(logging.getLogger("pyinotify"))

__all__ = ["DEFAULT_MASK", "EVENT_MAP", "Notify", "add_path", "remove_path"]


class add_path(Event):
    """Watch a path: args (path, mask=None, recursive=False)."""


class remove_path(Event):
    """Stop watching a path: args (path,)."""


#: Kernel event bits and the event fired for them, first match wins.
EVENT_MAP: tuple[tuple[int, type[Event]], ...] = (
    (pyinotify.IN_CREATE, created),
    (pyinotify.IN_DELETE | pyinotify.IN_DELETE_SELF, deleted),
    (pyinotify.IN_MODIFY, modified),
    (pyinotify.IN_MOVED_FROM | pyinotify.IN_MOVED_TO | pyinotify.IN_MOVE_SELF, moved),
    (pyinotify.IN_OPEN, opened),
    (pyinotify.IN_CLOSE_WRITE | pyinotify.IN_CLOSE_NOWRITE, closed),
    (pyinotify.IN_ACCESS, accessed),
    (pyinotify.IN_UNMOUNT, unmounted),
)

#: Every event Notify turns into a circuits event.
DEFAULT_MASK: int = 0
for _bits, _ in EVENT_MAP:
    DEFAULT_MASK |= _bits


class _Dispatch(pyinotify.ProcessEvent):
    """pyinotify's callback object: hands each decoded event to the component."""

    def my_init(self, notify: Notify) -> None:  # pyinotify's constructor hook
        self._notify = notify

    def process_IN_Q_OVERFLOW(self, event: Any) -> None:  # noqa: N802 (pyinotify's name)
        self._notify._overflowed()

    def process_default(self, event: Any) -> None:
        self._notify._deliver(event)


class Notify(BaseComponent):
    """Watch paths and fire an event per change (see module doc)."""

    channel: Any = "notify"

    def __init__(self, channel: Any = channel) -> None:
        super().__init__(channel=channel)
        # Created once registered (or on the first add_path): a Notify
        # standing alone holds no descriptor.
        self._wm: pyinotify.WatchManager | None = None
        self._notifier: pyinotify.Notifier | None = None
        self._fd: int | None = None
        #: The loop the descriptor is registered on (None: not yet).
        self._reading_on: Any = None
        self._lock = threading.Lock()
        #: Overflows seen (each also fired as ``overflow()``).
        self.overflows = 0

    @property
    def watched(self) -> list[str]:
        """The paths watched now (subdirectories of recursive watches included)."""
        if self._wm is None:
            return []
        return sorted(w.path for w in self._wm.watches.values())

    def _root_changed(self, old: Manager, new: Manager) -> None:
        if self._fd is not None and self._reading_on is not None:
            self._reading_on.discard(self._fd)
            self._reading_on = None
            self.loop.call_soon_threadsafe(self._read_on_loop)

    def _watch_manager(self) -> pyinotify.WatchManager:
        with self._lock:  # add_path in one thread, registered in the loop's: one descriptor
            return self._make_watch_manager()

    def _make_watch_manager(self) -> pyinotify.WatchManager:
        if self._wm is None:
            wm = pyinotify.WatchManager()
            self._notifier = pyinotify.Notifier(wm, _Dispatch(notify=self), timeout=0)
            self._wm = wm
            self._fd = wm.get_fd()
            # Events queue up in the descriptor meanwhile: nothing is lost.
            self.loop.call_soon_threadsafe(self._read_on_loop)
        return self._wm

    def _read_on_loop(self) -> None:
        """In the loop's thread: put the descriptor on its poller."""
        if self._fd is not None and self._reading_on is None:
            self._reading_on = self.loop
            self._reading_on.add_reader(self._fd, self._on_readable)

    @handler("registered", channel="*")
    def _on_registered(self, component: Any, manager: Any) -> None:
        if component is self:
            self._watch_manager()
            self._read_on_loop()
            self.fire(ready(self))

    # -- requests ----------------------------------------------------------
    @handler("add_path")
    def add_path(self, path: str, mask: int | None = None, recursive: bool = False,
                 auto_add: bool | None = None) -> bool:
        """Watch ``path``; False (and an ``error`` event) if it cannot be watched.

        ``auto_add`` (default: ``recursive``) also watches directories made later.
        """
        path = os.path.abspath(path)
        try:
            os.stat(path)  # the reason a watch fails, as an OSError with errno and path
        except OSError as e:
            self.fire(error(e))
            return False
        wm = self._watch_manager()
        try:
            wm.add_watch(path, DEFAULT_MASK if mask is None else mask, rec=recursive,
                         auto_add=recursive if auto_add is None else auto_add, quiet=False)
        except pyinotify.WatchManagerError as e:
            self.fire(error(OSError(f"cannot watch {path}: {e}")))
            return False
        return True

    @handler("remove_path")
    def remove_path(self, path: str) -> bool:
        """Stop watching ``path`` (and what a recursive watch added below it)."""
        if self._wm is None:
            return False
        path = os.path.abspath(path)
        wd = self._wm.get_wd(path)
        if wd is None:
            return False
        self._wm.rm_watch(wd, rec=True, quiet=True)
        return True

    @handler("close")
    def close(self) -> None:
        """Drop every watch and the inotify descriptor."""
        if self._fd is not None:
            if self._reading_on is not None:
                self._reading_on.discard(self._fd)
                self._reading_on = None
            self._fd = None
        if self._wm is not None:
            self._wm.close()
            self._wm = None
            self._notifier = None

    @handler("stopped", channel="*")
    def _on_stopped(self, component: Any) -> None:
        if component is self.root:
            self.close()

    # -- the descriptor ------------------------------------------------------
    def _on_readable(self) -> None:
        notifier = self._notifier
        if notifier is None:
            return
        try:
            notifier.read_events()
        except (pyinotify.NotifierError, UnicodeDecodeError) as e:
            # What was decoded before the failure is still queued below.
            self.fire(error(e))
        notifier.process_events()

    def _deliver(self, event: Any) -> None:
        mask = event.mask
        for bits, kind in EVENT_MAP:
            if mask & bits:
                name = getattr(event, "name", "") or ""
                self.fire(kind(name, event.path, event.pathname, bool(getattr(event, "dir", False))))
                return

    def _overflowed(self) -> None:
        self.overflows += 1
        self.fire(overflow())
