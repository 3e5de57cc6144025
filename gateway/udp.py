"""Readings as UDP datagrams: one JSON object per reading, per device address.

The destination may be a unicast, broadcast ("192.168.1.255:5001") or
IPv6 address.  Sending never blocks (UDPServer queues what the kernel
cannot take yet, dropping the oldest beyond its limit), so a slow network
cannot stall the loop.  A reading too large for one datagram is counted
and skipped: splitting it would make it unparsable for listeners.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from circuits import BaseComponent, handler
from circuits.net.udp import UDP6Server, UDPServer
from devices import Reading, reading_bytes

from .config import Address
from .events import BUS

log = logging.getLogger(__name__)

#: The largest UDP payload over IPv4 (65535 - 8 byte UDP - 20 byte IP header).
MAX_DATAGRAM = 65507


def encode(item: Reading) -> bytes:
    """The datagram for a reading: its compact UTF-8 JSON, the bytes every sink sends."""
    return reading_bytes(item)


class UdpPublisher(BaseComponent):
    """Sends each device's readings to that device's ``udp`` address."""

    channel = "udp"

    def __init__(self, targets: Mapping[str, Address]) -> None:
        super().__init__(channel="udp")
        self.sent = 0
        self.too_big = 0
        self.errors = 0
        # One unbound-port socket per address family in use.
        self._v4: UDPServer | None = None
        self._v6: UDP6Server | None = None
        self.retarget(targets)

    def retarget(self, targets: Mapping[str, Address]) -> None:
        """Send to these addresses from now on (a reload); the sockets stay."""
        self.targets = dict(targets)
        if self._v4 is None and any(":" not in a.host for a in self.targets.values()):
            self._v4 = UDPServer(("0.0.0.0", 0), channel="udp").register(self)
        if self._v6 is None and any(":" in a.host for a in self.targets.values()):
            self._v6 = UDP6Server(("::", 0), channel="udp").register(self)

    @handler("reading", channel=BUS)
    def _on_reading(self, item: Reading) -> None:
        address = self.targets.get(item["device"])
        if address is None:
            return
        payload = encode(item)
        if len(payload) > MAX_DATAGRAM:
            self.too_big += 1
            if self.too_big == 1:
                log.warning("%s: a reading of %d bytes does not fit in a datagram; skipped "
                            "(further ones are only counted)", item["device"], len(payload))
            return
        server = self._v6 if ":" in address.host else self._v4
        assert server is not None
        server.write(tuple(address), payload)
        self.sent += 1

    @handler("error")
    def _on_error(self, address: Any, err: BaseException) -> None:
        # e.g. ENETUNREACH while the network is down: counted, not fatal.
        self.errors += 1
        log.debug("UDP to %s: %s", address, err)

    def statistics(self) -> dict[str, Any]:
        dropped = sum(s.dropped for s in (self._v4, self._v6) if s is not None)
        return {"sent": self.sent, "too_big": self.too_big, "errors": self.errors, "queue_dropped": dropped}
