"""The pty end of a simulated device: what every demo simulator shares.

``os.openpty()`` gives a master and a slave; the slave's path
(``/dev/pts/N``) is what the gateway opens like any serial port. A
:class:`PtyPeer` owns the master: it reads what the gateway sends (on the
loop), fires its ``tick`` event on a Timer once the app has started, and
closes both ends when the app stops. Subclasses say what a tick and a read do.
"""

from __future__ import annotations

import errno
import logging
import os
from typing import Any

from circuits import BaseComponent, Event, Timer, handler

from .socat import make_raw

log = logging.getLogger(__name__)


class PtyPeer(BaseComponent):
    """A component on the master side of a fresh pty pair; ``path`` is the gateway's end."""

    def __init__(self, name: str, interval: float, tick: type[Event], *, read_size: int = 65536) -> None:
        super().__init__(channel=f"sim.{name}")
        self.device = name
        self.interval = interval
        self._tick = tick
        self._read_size = read_size
        self.master, self._slave = os.openpty()
        # Raw before anyone opens it: a cooked pty would echo what is written
        # back to the writer and turn "\n" into "\r\n".
        make_raw(self._slave)
        os.set_blocking(self.master, False)
        self.path = os.ttyname(self._slave)
        self._timer: Timer | None = None

    @handler("started", channel="*")
    def _on_started(self, component: Any) -> None:
        if component is not self.root:
            return
        self.loop.add_reader(self.master, self._on_readable)
        self._timer = Timer(self.interval, self._tick(), self.channel, persist=True).register(self)

    def _on_readable(self) -> None:
        try:
            data = os.read(self.master, self._read_size)
        except BlockingIOError:
            return
        except OSError as exc:
            if exc.errno != errno.EIO:  # EIO: the gateway's end is not open now
                log.debug("%s: read failed: %s", self.device, exc)
            return
        self.received_data(data)

    def received_data(self, data: bytes) -> None:
        """What the gateway wrote to the device (override)."""

    @handler("stopped", channel="*")
    def _on_stopped(self, component: Any) -> None:
        if component is self.root:
            self.close()

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self.master >= 0:
            self.loop.discard(self.master)
            os.close(self.master)
            os.close(self._slave)
            self.master = self._slave = -1
