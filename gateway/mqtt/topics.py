"""The MQTT topic layout of a gateway, in one place.

    {prefix}/status              retained "online" / "offline" (the will)
    {prefix}/{device}/reading    one JSON reading per message
    {prefix}/{device}/status     retained "online" / "offline"
    {prefix}/{device}/write      payloads here are written to the device
    {prefix}/{device}/modbus/write   JSON Modbus writes (profile "modbus")
    {prefix}/{device}/modbus/result  their outcomes, one JSON message each
    homeassistant/sensor/{gateway}_{device}_{field}/config   discovery
"""

from __future__ import annotations

import re

__all__ = ["Topics", "object_id", "topic_level"]

DISCOVERY_PREFIX = "homeassistant"
ONLINE = b"online"
OFFLINE = b"offline"

# MQTT 3.1.1 section 4.7: "/" separates levels, "+" and "#" are wildcards
# (never allowed in a topic name one publishes to); U+0000 is forbidden.
_NOT_IN_LEVEL = re.compile(r"[/+#\x00]")
# Home Assistant object ids: letters, digits, "_" and "-" only.
_NOT_IN_OBJECT_ID = re.compile(r"[^a-zA-Z0-9_-]")


def topic_level(name: str) -> str:
    """``name`` made safe as one topic level (wildcards and separators become "_")."""
    return _NOT_IN_LEVEL.sub("_", name) or "_"


def object_id(*parts: str) -> str:
    """A Home Assistant object id from ``parts`` joined with "_"."""
    return _NOT_IN_OBJECT_ID.sub("_", "_".join(parts))


class Topics:
    """Topic names under one prefix (a trailing "/" on the prefix is ignored)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix.rstrip("/") or "gateway"
        self.status = f"{self.prefix}/status"
        self.write_filter = f"{self.prefix}/+/write"
        self.modbus_write_filter = f"{self.prefix}/+/modbus/write"
        self._head = f"{self.prefix}/"
        self._cache: dict[str, str] = {}

    def reading(self, device: str) -> str:
        topic = self._cache.get(device)
        if topic is None:
            topic = self._cache[device] = f"{self.prefix}/{topic_level(device)}/reading"
        return topic

    def device_status(self, device: str) -> str:
        return f"{self.prefix}/{topic_level(device)}/status"

    def device_write(self, device: str) -> str:
        return f"{self.prefix}/{topic_level(device)}/write"

    def parse_write(self, topic: str) -> str | None:
        """The device named by a ``{prefix}/{device}/write`` topic, else None."""
        if not topic.startswith(self._head) or not topic.endswith("/write"):
            return None
        device = topic[len(self._head):-len("/write")]
        if not device or "/" in device:
            return None
        return device

    def modbus_result(self, device: str) -> str:
        return f"{self.prefix}/{topic_level(device)}/modbus/result"

    def parse_modbus_write(self, topic: str) -> str | None:
        """The device named by a ``{prefix}/{device}/modbus/write`` topic, else None."""
        tail = "/modbus/write"
        if not topic.startswith(self._head) or not topic.endswith(tail):
            return None
        device = topic[len(self._head):-len(tail)]
        return device if device and "/" not in device else None

    @staticmethod
    def discovery(gateway: str, device: str, field: str) -> str:
        return f"{DISCOVERY_PREFIX}/sensor/{object_id(gateway, device, field)}/config"
