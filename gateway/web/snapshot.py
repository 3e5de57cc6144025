"""What the dashboard, the API and /metrics say about the gateway, in one place.

Everything is read from the parts that own it when asked (the device
links, the TCP bridges, the uplink, the WebSocket dispatcher): no copies to
keep in step, and nothing costs anything until a page or a scrape asks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["Counters", "DeviceSnapshot", "GatewayParts", "device_snapshots", "uplink_state"]


class _Link(Protocol):
    config: Any
    path: str | None
    readings: Any

    @property
    def online(self) -> bool: ...


class _Bridge(Protocol):
    clients: Mapping[Any, Any]
    dropped_slow: int


class GatewayParts(Protocol):
    """The parts of a :class:`gateway.app.Gateway` the web side reads."""

    links: Mapping[str, _Link]
    bridges: Mapping[str, _Bridge]
    #: RFC 2217 listeners by device (gateway.rfc2217.Rfc2217Bridge: summary()).
    rfc2217: Mapping[str, Any]
    mqtt: Any  # an MqttUplink, or None when [mqtt] is not configured


@dataclass(frozen=True, slots=True)
class Counters:
    readings: int
    parse_errors: int
    tcp_clients: int

    def as_dict(self) -> dict[str, int]:
        return {"readings": self.readings, "parse_errors": self.parse_errors, "tcp_clients": self.tcp_clients}


@dataclass(frozen=True, slots=True)
class DeviceSnapshot:
    name: str
    online: bool
    port: str
    counters: Counters
    tcp_dropped_slow: int

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "online": self.online, "port": self.port, "counters": self.counters.as_dict()}


def counters_of(parts: GatewayParts, name: str) -> Counters:
    link = parts.links[name]
    stats = link.readings.stats
    bridge = parts.bridges.get(name)
    # ``failures`` counts messages that did not parse and messages the
    # framer dropped (a 100 KB "line"): both are parse errors to a user.
    return Counters(stats.successes, stats.failures, len(bridge.clients) if bridge is not None else 0)


def device_snapshots(parts: GatewayParts) -> list[DeviceSnapshot]:
    """Every enabled device, in configuration order."""
    result = []
    for name, link in parts.links.items():
        bridge = parts.bridges.get(name)
        config = link.config
        # The path really opened, else what is configured (a glob, a USB identity).
        port = link.path or config.port or (f"USB {config.match.vid}:{config.match.pid}" if config.match else "")
        result.append(DeviceSnapshot(name, link.online, port, counters_of(parts, name),
                                     bridge.dropped_slow if bridge is not None else 0))
    return result


def uplink_state(parts: GatewayParts) -> dict[str, Any]:
    """The MQTT figures /metrics shows (zeros when MQTT is not configured)."""
    uplink = parts.mqtt
    if uplink is None:
        return {"configured": False, "connected": False, "spool_depth": 0, "dropped": 0, "acked": 0,
                "accepted": 0, "unaccepted": 0, "overflow_dropped": 0, "commits": 0}
    spool = uplink.spool
    return {"configured": True, "connected": bool(uplink.connected), "spool_depth": int(spool.depth),
            "dropped": int(spool.dropped), "acked": int(uplink.acked), "accepted": int(spool.committed),
            "unaccepted": int(spool.unaccepted), "overflow_dropped": int(spool.overflow_dropped),
            "commits": int(spool.commits)}
