"""File-system notifications (Linux inotify), driven by the loop.

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
``recursive=True`` the directories below ``path`` are watched too, and so
are directories made there later, unless ``auto_add=False`` (files made
in a new directory before its watch was added are not reported).

No threads and no polling: the inotify descriptor (circuits.io.inotify,
the system calls through ctypes) sits on the loop's poller; when it is
readable every queued record is read and turned into an event.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from ..core.components import BaseComponent
from ..core.events import Event
from ..core.handlers import handler
from ..core.manager import Manager
from . import inotify
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
from .inotify import Inotify, Record

__all__ = ["DEFAULT_MASK", "EVENT_MAP", "Notify", "add_path", "remove_path"]


class add_path(Event):
    """Watch a path: args (path, mask=None, recursive=False)."""


class remove_path(Event):
    """Stop watching a path: args (path,)."""


#: Kernel event bits and the event fired for them, first match wins.
EVENT_MAP: tuple[tuple[int, type[Event]], ...] = (
    (inotify.IN_CREATE, created),
    (inotify.IN_DELETE | inotify.IN_DELETE_SELF, deleted),
    (inotify.IN_MODIFY, modified),
    (inotify.IN_MOVED_FROM | inotify.IN_MOVED_TO | inotify.IN_MOVE_SELF, moved),
    (inotify.IN_OPEN, opened),
    (inotify.IN_CLOSE_WRITE | inotify.IN_CLOSE_NOWRITE, closed),
    (inotify.IN_ACCESS, accessed),
    (inotify.IN_UNMOUNT, unmounted),
)

#: Every event Notify turns into a circuits event.
DEFAULT_MASK: int = 0
for _bits, _ in EVENT_MAP:
    DEFAULT_MASK |= _bits


class _Watch:
    """What one kernel watch descriptor stands for."""

    __slots__ = ("auto_add", "is_dir", "mask", "path")

    def __init__(self, path: str, mask: int, is_dir: bool, auto_add: bool) -> None:
        self.path, self.is_dir, self.auto_add = path, is_dir, auto_add
        self.mask = mask  # what the caller asked for (the kernel's may add IN_CREATE)


class Notify(BaseComponent):
    """Watch paths and fire an event per change (see module doc)."""

    channel: Any = "notify"

    def __init__(self, channel: Any = channel) -> None:
        super().__init__(channel=channel)
        # Created once registered (or on the first add_path): a Notify
        # standing alone holds no descriptor.
        self._inotify: Inotify | None = None
        self._fd: int | None = None
        self._watches: dict[int, _Watch] = {}  # watch descriptor -> what it watches
        self._wds: dict[str, int] = {}  # path -> watch descriptor
        #: The loop the descriptor is registered on (None: not yet).
        self._reading_on: Any = None
        # add_path in one thread, records read in the loop's: one descriptor,
        # one consistent pair of tables.
        self._lock = threading.RLock()
        #: Overflows seen (each also fired as ``overflow()``).
        self.overflows = 0

    @property
    def watched(self) -> list[str]:
        """The paths watched now (subdirectories of recursive watches included)."""
        with self._lock:
            return sorted(self._wds)

    def _root_changed(self, old: Manager, new: Manager) -> None:
        if self._fd is not None and self._reading_on is not None:
            self._reading_on.discard(self._fd)
            self._reading_on = None
            self.loop.call_soon_threadsafe(self._read_on_loop)

    def _descriptor(self) -> Inotify:
        with self._lock:
            if self._inotify is None:
                self._inotify = Inotify()
                self._fd = self._inotify.fd
                # Events queue up in the descriptor meanwhile: nothing is lost.
                self.loop.call_soon_threadsafe(self._read_on_loop)
            return self._inotify

    def _read_on_loop(self) -> None:
        """In the loop's thread: put the descriptor on its poller."""
        if self._fd is not None and self._reading_on is None:
            self._reading_on = self.loop
            self._reading_on.add_reader(self._fd, self._on_readable)

    @handler("registered", channel="*")
    def _on_registered(self, component: Any, manager: Any) -> None:
        if component is self:
            self._descriptor()
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
        mask = DEFAULT_MASK if mask is None else mask
        auto = recursive if auto_add is None else auto_add
        try:
            self._add_one(path, mask, auto)
            if recursive:
                for top, dirs, _files in os.walk(path):
                    for name in dirs:
                        self._add_one(os.path.join(top, name), mask, auto)
        except OSError as e:
            self.fire(error(e))
            return False
        return True

    def _add_one(self, path: str, mask: int, auto_add: bool) -> None:
        with self._lock:
            # IN_CREATE is how a new directory is noticed at all.
            wd = self._descriptor().add_watch(path, mask | inotify.IN_CREATE if auto_add else mask)
            old = self._watches.get(wd)
            if old is not None and old.path != path:
                self._wds.pop(old.path, None)  # the same inode under a new name
            self._watches[wd] = _Watch(path, mask, os.path.isdir(path), auto_add)
            self._wds[path] = wd

    @handler("remove_path")
    def remove_path(self, path: str) -> bool:
        """Stop watching ``path`` (and what a recursive watch added below it)."""
        path = os.path.abspath(path)
        with self._lock:
            if self._inotify is None or path not in self._wds:
                return False
            below = path.rstrip(os.sep) + os.sep
            for watched in [p for p in self._wds if p == path or p.startswith(below)]:
                wd = self._wds.pop(watched)
                self._watches.pop(wd, None)
                self._inotify.rm_watch(wd)  # its IN_IGNORED finds nothing left to drop
        return True

    @handler("close")
    def close(self) -> None:
        """Drop every watch and the inotify descriptor."""
        with self._lock:
            if self._fd is not None:
                if self._reading_on is not None:
                    self._reading_on.discard(self._fd)
                    self._reading_on = None
                self._fd = None
            if self._inotify is not None:
                self._inotify.close()
                self._inotify = None
            self._watches.clear()
            self._wds.clear()

    @handler("stopped", channel="*")
    def _on_stopped(self, component: Any) -> None:
        if component is self.root:
            self.close()

    # -- the descriptor ------------------------------------------------------
    def _on_readable(self) -> None:
        descriptor = self._inotify
        if descriptor is None:
            return
        try:
            for record in descriptor.read():
                self._handle(record)
        except OSError as e:
            self.fire(error(e))

    def _handle(self, record: Record) -> None:
        mask = record.mask
        if mask & inotify.IN_Q_OVERFLOW:
            self.overflows += 1
            self.fire(overflow())
            return
        with self._lock:
            watch = self._watches.get(record.wd)
            if watch is None:
                return  # a watch removed while its records were queued
            if mask & inotify.IN_IGNORED:
                # The kernel dropped the watch (its directory deleted or unmounted).
                del self._watches[record.wd]
                if self._wds.get(watch.path) == record.wd:
                    del self._wds[watch.path]
                return
        name = record.name
        pathname = os.path.join(watch.path, name) if name else watch.path
        # An entry's kind is in the record; the watched path's own is known.
        is_dir = bool(mask & inotify.IN_ISDIR) if name else watch.is_dir
        if is_dir and name and watch.auto_add and mask & (inotify.IN_CREATE | inotify.IN_MOVED_TO):
            try:
                self._add_one(pathname, watch.mask, True)
            except OSError as e:  # gone again already, or out of watches
                self.fire(error(e))
        if mask & inotify.IN_CREATE and not watch.mask & inotify.IN_CREATE:
            return  # only asked of the kernel for auto_add
        for bits, kind in EVENT_MAP:
            if mask & bits:
                self.fire(kind(name, watch.path, pathname, is_dir))
                return
