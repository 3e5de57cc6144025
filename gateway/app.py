"""The gateway: every part a component under one root, on one poller.

::

    Gateway (channel "gateway": the public bus, see gateway.events)
    +- Readiness             which parts are up; gateway_ready
    +- Hotplug               udev monitor + inotify -> ports_changed
    |  +- Notify
    +- DeviceLink x N        open/reopen one port, readings    ("device.<name>")
    |  +- Serial
    +- TcpBridge x N         clients <-> device                ("device.<name>")
    |  +- BridgeServer                                         ("tcp.<name>")
    +- UdpPublisher          readings as JSON datagrams        ("udp")
    +- SystemdService        READY / WATCHDOG / STATUS / STOPPING

Later parts (web dashboard, MQTT uplink) register under the same root,
handle ``reading`` and ``device_status`` on the bus, and call
``gateway.readiness.expect("web")`` / fire ``part_ready("web")`` if
READY=1 should wait for them.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from typing import Any

from circuits import BaseComponent

from .backoff import Backoff
from .bridge import TcpBridge
from .config import GatewayConfig
from .device import DeviceLink
from .events import BUS
from .hotplug import Hotplug
from .readiness import Readiness
from .sdnotify import SystemdNotifier
from .seqstore import SeqStore
from .service import SystemdService
from .udp import UdpPublisher

log = logging.getLogger(__name__)


class StartError(Exception):
    """The gateway cannot start (a listener cannot bind, no state directory)."""

    #: EX_UNAVAILABLE from sysexits.h: systemd's Restart=on-failure retries.
    exit_code = 69


class Gateway(BaseComponent):
    """Builds and owns every part described by a :class:`GatewayConfig`."""

    channel = BUS

    def __init__(self, config: GatewayConfig, *, notifier: SystemdNotifier | None = None,
                 seqstore: SeqStore | None = None, hotplug: bool = True,
                 use_udev: bool | None = None, backoff: Callable[[], Backoff] = Backoff) -> None:
        super().__init__(channel=BUS)
        self.config = config
        #: Makes each device's reopen schedule (tests shorten or stretch it).
        self.backoff = backoff
        try:
            self.seqs = seqstore if seqstore is not None else SeqStore(config.state_dir)
        except (OSError, sqlite3.Error) as exc:
            raise StartError(f"cannot open the sequence store in {config.state_dir}: {exc}") from exc
        try:
            self._build(notifier, hotplug, use_udev)
        except BaseException:
            self.close()
            raise

    def _build(self, notifier: SystemdNotifier | None, hotplug: bool, use_udev: bool | None) -> None:
        self.readiness = Readiness().register(self)
        self.hotplug = Hotplug(use_udev).register(self) if hotplug else None
        self.links: dict[str, DeviceLink] = {}
        self.bridges: dict[str, TcpBridge] = {}
        for device in self.config.devices:
            if not device.enabled:
                log.info("%s: disabled in the configuration", device.name)
                continue
            link = self.links[device.name] = DeviceLink(device, self.seqs.next, backoff=self.backoff()).register(self)
            self.readiness.expect(f"device:{device.name}")
            if self.hotplug is not None:
                self.hotplug.watch(link.watch_dir)
            if device.tcp is not None:
                try:
                    bridge = TcpBridge(device, link)
                except OSError as exc:
                    raise StartError(f"{device.name}: cannot listen on tcp://{device.tcp}: "
                                     f"{exc.strerror or exc}") from exc
                self.bridges[device.name] = bridge.register(self)
                self.readiness.expect(f"tcp:{device.name}")
        targets = {d.name: d.udp for d in self.config.devices if d.enabled and d.udp is not None}
        self.udp = UdpPublisher(targets).register(self) if targets else None
        self.notifier = notifier if notifier is not None else SystemdNotifier(unset_environment=True)
        self.service = SystemdService(self.notifier, self.readiness).register(self)

    def close(self) -> None:
        """Release what outlives the loop: the sequence store (exact last
        numbers, so a restart continues without a gap)."""
        self.seqs.close()

    def statistics(self) -> dict[str, Any]:
        return {
            "loop": super().statistics(),
            "ready": self.readiness.ready,
            "devices": {name: link.statistics() for name, link in self.links.items()},
            "tcp": {name: bridge.statistics() for name, bridge in self.bridges.items()},
            "udp": self.udp.statistics() if self.udp is not None else None,
            "hotplug": self.hotplug.statistics() if self.hotplug is not None else None,
            "systemd": self.notifier.statistics(),
        }
