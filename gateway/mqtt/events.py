"""Events of the MQTT uplink.

The ``mqtt_*`` events carry ``event.connection``, the client's id of the
connection they belong to (message ids are per connection).

Handlers match events by name, so the gateway may define its own
``reading``/``device_status``/``device_write`` classes: these are the
uplink's, usable by anyone who has none.
"""

from __future__ import annotations

from typing import Any

from circuits.core import Event

__all__ = ["device_status", "device_write", "mqtt_connected", "mqtt_disconnected", "mqtt_message",
           "mqtt_published", "reading"]


class reading(Event):
    """A parsed reading: args (reading,) -- a dict with device, seq, ts, fields."""

    def __init__(self, reading: dict[str, Any]) -> None:
        super().__init__(reading)


class device_status(Event):
    """A device came or went: args (device, online)."""

    def __init__(self, device: str, online: bool) -> None:
        super().__init__(device, online)


class device_write(Event):
    """Bytes to write to a device (from ``{prefix}/{device}/write``): args (device, data)."""

    def __init__(self, device: str, data: bytes) -> None:
        super().__init__(device, data)


class mqtt_connected(Event):
    """The broker accepted the connection (CONNACK 0): no args."""


class mqtt_disconnected(Event):
    """The connection failed or was lost: args (reason,), a human-readable string."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)


class mqtt_message(Event):
    """A message arrived on a subscribed topic: args (topic, payload)."""

    def __init__(self, topic: str, payload: bytes) -> None:
        super().__init__(topic, payload)


class mqtt_published(Event):
    """A publish completed: PUBACK/PUBCOMP for QoS 1/2, written for QoS 0: args (mid,)."""

    def __init__(self, mid: int) -> None:
        super().__init__(mid)
