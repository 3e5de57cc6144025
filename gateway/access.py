"""Who may connect: the ``allow = [CIDR, ...]`` lists of devices and ``[web]``.

An :class:`AccessGuard` is set as a stream server's ``admit`` hook
(:attr:`circuits.net.server.Server.admit`), so a peer from elsewhere is
closed right after ``accept()``: before a byte is read, before a TLS
handshake, before any event.  Refusals are counted (``/metrics``) and logged
at most once a minute per address, so a scanner cannot fill the journal.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

log = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Seconds between two log lines about the same refused address.
LOG_INTERVAL = 60.0
#: Addresses remembered for the log limit; past it the table starts afresh
#: (a flood of spoofed sources must not grow memory without bound).
MAX_REMEMBERED = 4096


def parse_network(text: str) -> Network | str:
    """A network from "192.168.1.0/24", "::1/128" or a bare address; else a message."""
    try:
        return ipaddress.ip_network(text.strip(), strict=True)
    except ValueError as exc:
        if "host bits set" in str(exc):
            return f"{text!r} has host bits set (did you mean {ipaddress.ip_network(text, strict=False)}?)"
        return f"{text!r} is not an IP network like \"192.168.1.0/24\" or \"::1/128\""


def host_address(host: Any) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The peer's address, IPv4-mapped IPv6 ("::ffff:1.2.3.4") as the IPv4 it is."""
    try:
        address = ipaddress.ip_address(str(host).split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class PerAddressLog:
    """Says whether a refusal of this address is due a log line: at most one per
    ``interval`` per address, with a bounded memory of addresses."""

    def __init__(self, interval: float = LOG_INTERVAL, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self._clock = clock
        self._logged: dict[str, float] = {}

    def due(self, address: str) -> bool:
        now = self._clock()
        last = self._logged.get(address)
        if last is not None and now - last < self.interval:
            return False
        if len(self._logged) >= MAX_REMEMBERED:
            self._logged.clear()
        self._logged[address] = now
        return True


class AccessGuard:
    """One listener's allow-list and its refusal count (see module doc)."""

    def __init__(self, name: str, networks: Iterable[Network],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self.networks = tuple(networks)
        self.refused = 0
        self._log = PerAddressLog(clock=clock)

    def allows(self, host: Any) -> bool:
        address = host_address(host)
        if address is None:
            return False
        # A mapped address was turned into IPv4 above; `in` across versions is False.
        return any(address in network for network in self.networks)

    def __call__(self, address: Any) -> bool:
        """The ``admit`` hook: ``address`` is what ``accept()`` returned."""
        host = address[0] if isinstance(address, tuple) else address
        if self.allows(host):
            return True
        self.refused += 1
        self._log_refusal(str(host))
        return False

    def _log_refusal(self, host: str) -> None:
        if not self._log.due(host):
            return
        log.warning("%s: refused a connection from %s: not in allow (further ones from it are counted, "
                    "logged at most once a minute)", self.name, host)


def guard_server(server: Any, name: str, networks: tuple[Network, ...] | None) -> AccessGuard | None:
    """Put an allow-list on a stream server; None (and no hook) without one."""
    if networks is None:
        return None
    guard = AccessGuard(name, networks)
    server.admit = guard
    return guard
