"""Notice serial ports appearing, so an offline device is reopened at once.

Two sources, both on the loop's one poller (no threads):

* udev (when udevd runs): a pyudev netlink ``Monitor`` for the ``tty``
  subsystem; its descriptor is watched with ``loop.add_reader``.  udev
  announces a device after its rules ran, so permissions and the
  /dev/serial/by-id links are in place by then.
* inotify on the directories ports live in, via :class:`circuits.io.notify.Notify`:
  covers /dev (kernel devtmpfs nodes, no udevd needed), /dev/serial/by-id and
  the ``link=`` names socat makes.  A directory that does not exist yet
  (``/dev/serial/by-id`` before the first USB adapter) is watched through its
  nearest existing ancestor until it appears.

Both become one event, ``ports_changed(path, action)`` on the ``hotplug``
channel; :class:`gateway.device.DeviceLink` decides whether it cares.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any

from circuits import BaseComponent, handler
from circuits.io.notify import Notify

from .events import HOTPLUG, ports_changed
from .ports import udev_running

if TYPE_CHECKING:
    import pyudev

log = logging.getLogger(__name__)

# inotify(7) event bits.
IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100
IN_DELETE = 0x00000200
IN_DELETE_SELF = 0x00000400
WATCH_MASK = IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_DELETE_SELF


class Hotplug(BaseComponent):
    """Fires ``ports_changed`` when something appears where ports live."""

    channel = HOTPLUG

    def __init__(self, use_udev: bool | None = None) -> None:
        super().__init__(channel=HOTPLUG)
        self.use_udev = udev_running() if use_udev is None else use_udev
        self.wanted: set[str] = set()  # directories devices live in
        self.watched: set[str] = set()  # what inotify watches for them
        self.notify = Notify(channel=HOTPLUG).register(self)
        self._monitor: pyudev.Monitor | None = None
        self._started = False
        self.events = 0

    def watch(self, directory: str) -> None:
        """Report changes in ``directory`` (which need not exist yet)."""
        self.wanted.add(os.path.normpath(directory))
        if self._started:
            self._refresh()

    # -- lifetime --------------------------------------------------------

    @handler("started", channel="*")
    def _on_started(self, component: Any) -> None:
        if component is not self.root:
            return
        self._started = True
        if self.use_udev:
            self._start_udev()
        self._refresh()

    @handler("stopped", channel="*")
    def _on_stopped(self, component: Any) -> None:
        if component is self.root and self._monitor is not None:
            self.loop.discard(self._monitor.fileno())
            self._monitor = None

    # -- udev --------------------------------------------------------------

    def _start_udev(self) -> None:
        # Here, not at the top: pyudev (18 modules, libudev through ctypes) is
        # loaded only where udevd runs; elsewhere inotify does the work.
        try:
            import pyudev
        except ImportError as exc:
            log.warning("udev monitor unavailable (%s); relying on inotify and retries", exc)
            return
        try:
            monitor = pyudev.Monitor.from_netlink(pyudev.Context())
            monitor.filter_by("tty")
            monitor.start()
        except (OSError, pyudev.DeviceNotFoundError) as exc:
            log.warning("udev monitor unavailable (%s); relying on inotify and retries", exc)
            return
        self._monitor = monitor
        self.loop.add_reader(monitor.fileno(), self._on_udev_readable)
        log.debug("watching udev tty events")

    def _on_udev_readable(self) -> None:
        monitor = self._monitor
        while monitor is not None:
            device = monitor.poll(timeout=0)
            if device is None:
                return
            self.events += 1
            self.fire(ports_changed(device.device_node, device.action or "change"), HOTPLUG)

    # -- inotify -----------------------------------------------------------

    def _refresh(self) -> None:
        for directory in sorted(self.wanted):
            target = _nearest_existing(directory)
            if target in self.watched:
                continue
            # Only arrivals and vanishing directories: the default mask would
            # also report every open and read of every node in /dev.
            if not self.notify.add_path(target, WATCH_MASK):
                continue  # Notify fires ``error``, logged below; retries still work
            self.watched.add(target)
            if target != directory:
                log.debug("watching %s until %s exists", target, directory)

    @handler("created", "moved")
    def _on_appeared(self, name: str, path: str, pathname: str, dir: bool = False) -> None:  # noqa: A002
        self.events += 1
        if dir:
            # Maybe a directory we wait for (e.g. /dev/serial/by-id).
            self._refresh()
        self.fire(ports_changed(pathname, "created"), HOTPLUG)

    @handler("deleted")
    def _on_deleted(self, name: str, path: str, pathname: str, dir: bool = False) -> None:  # noqa: A002
        if dir and pathname in self.watched:
            # The kernel dropped that watch with the directory: fall back
            # to an ancestor until it comes back.
            self.watched.discard(pathname)
            self._refresh()

    @handler("error")
    def _on_error(self, err: BaseException) -> None:
        log.warning("hot-plug watch: %s; relying on retries there", err)

    @handler("overflow")
    def _on_overflow(self) -> None:
        # Events were lost: anything may have appeared.
        self.fire(ports_changed(None, "overflow"), HOTPLUG)

    def statistics(self) -> dict[str, Any]:
        return {"udev": self._monitor is not None, "watched": sorted(self.watched), "events": self.events}


def _nearest_existing(directory: str) -> str:
    path = directory
    while not os.path.isdir(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return path
