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

This component also keeps the current status of every device, so the
systemd status line and, later, the dashboard can summarise them.
"""

from __future__ import annotations

import logging
from typing import Any

from circuits import BaseComponent, handler

from .events import BUS, gateway_ready

log = logging.getLogger(__name__)


class Readiness(BaseComponent):
    """Collects the parts the gateway waits for (see module doc)."""

    channel = BUS

    def __init__(self) -> None:
        super().__init__(channel=BUS)
        self.pending: set[str] = set()
        self.statuses: dict[str, str] = {}
        self.ready = False

    def expect(self, part: str) -> None:
        """Wait for ``part`` before announcing readiness."""
        if self.ready:
            raise RuntimeError(f"{part!r} expected after the gateway was already ready")
        self.pending.add(part)

    def summary(self) -> str:
        """A one-line state, e.g. "3/4 devices online; offline: gps"."""
        total = len(self.statuses)
        online = sorted(n for n, s in self.statuses.items() if s == "online")
        offline = sorted(n for n, s in self.statuses.items() if s != "online")
        text = f"{len(online)}/{total} devices online"
        return f"{text}; offline: {', '.join(offline)}" if offline else text

    # -- reports (priority: state first, so others see it updated) ----------

    @handler("device_status", priority=100)
    def _on_device_status(self, device: str, status: str, detail: str = "") -> None:
        self.statuses[device] = status
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
