"""When is the gateway "started"?  Only once every part it promised is up.

ser2net says "started" while its port is unusable.  Here each part is
expected by name while the gateway is wired (``device:<name>``,
``tcp:<name>``; the web server will add ``web``), and ``gateway_ready`` is
fired only when each has reported:

* a device has made its first open attempt (``device_status`` online *or*
  offline: a missing sensor must not keep a whole service from starting;
  it is reopened when it appears, and the status line names it);
* a TCP listener is bound and listening (``listening``);
* anything else fires ``part_ready(name)``.

The summary (for the systemd status line) is read from the gateway's one
record of device states (:class:`gateway.status.DeviceStatuses`); a
Readiness on its own keeps one, fed from the ``device_status`` events.
"""

from __future__ import annotations

import logging
from typing import Any

from circuits import BaseComponent, handler

from .events import BUS, gateway_ready
from .status import DeviceStatuses

log = logging.getLogger(__name__)


class Readiness(BaseComponent):
    """Collects the parts the gateway waits for (see module doc)."""

    channel = BUS

    def __init__(self, statuses: DeviceStatuses | None = None) -> None:
        super().__init__(channel=BUS)
        self.pending: set[str] = set()
        self._own_statuses = statuses is None  # else the devices write it themselves
        self.statuses = statuses if statuses is not None else DeviceStatuses()
        self.ready = False

    def expect(self, part: str) -> None:
        """Wait for ``part`` before announcing readiness."""
        if self.ready:
            raise RuntimeError(f"{part!r} expected after the gateway was already ready")
        self.pending.add(part)

    def summary(self) -> str:
        """A one-line state, e.g. "3/4 devices online; offline: gps"."""
        return self.statuses.summary()

    # -- reports (priority: state first, so others see it updated) ----------

    @handler("device_status", priority=100)
    def _on_device_status(self, device: str, status: str, detail: str = "") -> None:
        if self._own_statuses:
            self.statuses.set(device, status, detail)
        if status != "starting":
            self._done(f"device:{device}")

    @handler("listening", priority=100)
    def _on_listening(self, device: str, address: Any) -> None:
        self._done(f"tcp:{device}")

    @handler("part_ready", priority=100)
    def _on_part_ready(self, name: str) -> None:
        self._done(name)

    @handler("started", channel="*")
    def _on_started(self, component: Any) -> None:
        if component is self.root:
            self._check()

    def _done(self, part: str) -> None:
        self.pending.discard(part)
        self._check()

    def _check(self) -> None:
        if self.ready or self.pending or not self.root.running:
            return
        self.ready = True
        summary = self.summary()
        log.info("ready: %s", summary)
        self.fire(gateway_ready(summary), BUS)
