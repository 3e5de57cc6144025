"""Events of the MQTT uplink.

The ``mqtt_*`` events carry ``event.connection``, the client's id of the
connection they belong to (message ids are per connection).

The gateway's own events (``reading``, ``device_status``,
``device_write``) are in :mod:`gateway.events`, the one module for them.
"""

from __future__ import annotations

from circuits.core import Event

__all__ = ["mqtt_connected", "mqtt_disconnected", "mqtt_message", "mqtt_published"]


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
