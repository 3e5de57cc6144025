"""systemd integration as a component: READY=1, WATCHDOG=1, STATUS=, STOPPING=1.

* READY=1 is sent on ``gateway_ready`` (see :mod:`gateway.readiness`), never
  before: ``systemctl start`` returns once devices and listeners are up.
* WATCHDOG=1 comes from a :class:`circuits.Timer` on the loop's heap at
  ``watchdog_interval()`` (half of WatchdogSec).  It is deliberately not a
  thread: if the loop blocks, the pings stop and systemd restarts us.
* STATUS= follows every device status change ("3/4 devices online; ...").
* STOPPING=1 is sent on SIGTERM/SIGINT (the ``signal`` event) or any other
  stop, once.

Outside systemd the notifier is disabled and all of this costs nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from circuits import BaseComponent, Timer, handler

from .events import BUS, watchdog_ping
from .readiness import Readiness
from .sdnotify import SystemdNotifier

log = logging.getLogger(__name__)


class SystemdService(BaseComponent):
    """Tells systemd how the gateway is doing (see module doc)."""

    channel = "systemd"

    def __init__(self, notifier: SystemdNotifier, readiness: Readiness) -> None:
        super().__init__(channel="systemd")
        self.notifier = notifier
        self.readiness = readiness
        self.watchdog: Timer | None = None
        self._stopping = False

    @handler("started", channel="*")
    def _on_started(self, component: Any) -> None:
        if component is not self.root:
            return
        interval = self.notifier.watchdog_interval()
        if interval is not None:
            log.info("systemd watchdog: pinging every %.3g s", interval)
            self.watchdog = Timer(interval, watchdog_ping(), self.channel, persist=True).register(self)
            # A first ping right away: start-up itself may take a while.
            self.notifier.watchdog()

    @handler("watchdog_ping")
    def _on_watchdog_ping(self) -> None:
        self.notifier.watchdog()

    @handler("gateway_ready", channel=BUS)
    def _on_ready(self, summary: str) -> None:
        self.notifier.ready(status=summary)

    @handler("device_status", channel=BUS)
    def _on_device_status(self, device: str, status: str, detail: str = "") -> None:
        if self.readiness.ready:
            self.notifier.status(self.readiness.summary())

    @handler("signal", channel="*")
    def _on_signal(self, signo: int, frame: Any = None) -> None:
        self._stop_notice()

    @handler("stopped", channel="*")
    def _on_stopped(self, component: Any) -> None:
        if component is self.root:
            self._stop_notice()
            if self.watchdog is not None:
                self.watchdog.cancel()

    def _stop_notice(self) -> None:
        if not self._stopping:
            self._stopping = True
            self.notifier.stopping()
