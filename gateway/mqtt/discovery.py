"""Home Assistant MQTT discovery: one sensor config per numeric field.

See https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery: a
retained JSON config on ``homeassistant/sensor/<object id>/config`` makes a
sensor appear; it reads its value from our reading topic with a template.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from typing import Any

from .topics import OFFLINE, ONLINE, Topics, object_id

__all__ = ["Discovery", "Hints", "numeric_fields", "sensor_config"]

#: (device, field) -> extra sensor keys from the configuration
#: (``unit_of_measurement``, ``device_class``, ``state_class``).
Hints = Callable[[str, str], dict[str, str]]


def numeric_fields(fields: dict[str, Any]) -> list[str]:
    """Names of the fields Home Assistant can graph (bools are not numbers here)."""
    return [name for name, value in fields.items()
            if isinstance(value, int | float) and not isinstance(value, bool)]


def sensor_config(topics: Topics, gateway: str, device: str, field: str,
                  hints: dict[str, str] | None = None) -> dict[str, Any]:
    """The discovery payload of one field of one device (``hints`` override the defaults)."""
    return {
        "name": field,
        "unique_id": object_id(gateway, device, field),
        "object_id": object_id(gateway, device, field),
        "state_topic": topics.reading(device),
        # json.dumps quotes the name, so any field name is a valid subscript.
        "value_template": f"{{{{ value_json.fields[{json.dumps(field)}] }}}}",
        "state_class": "measurement",
        # Available only while both the gateway and the device are online.
        "availability": [{"topic": topics.status}, {"topic": topics.device_status(device)}],
        "availability_mode": "all",
        "payload_available": ONLINE.decode(),
        "payload_not_available": OFFLINE.decode(),
        "device": {
            "identifiers": [object_id(gateway, device)],
            "name": f"{gateway} {device}",
            "manufacturer": "circuits-gateway",
            "via_device": object_id(gateway),
        },
    } | (hints or {})


class Discovery:
    """Remembers which fields were announced; builds the configs to publish."""

    def __init__(self, topics: Topics, gateway: str, hints: Hints | None = None) -> None:
        self.topics = topics
        self.gateway = gateway
        self.hints = hints
        self._known: dict[tuple[str, str], tuple[str, bytes]] = {}
        self._announced: dict[str, set[str]] = {}  # device -> fields announced

    def new_fields(self, device: str, fields: dict[str, Any]) -> list[tuple[str, bytes]]:
        """(topic, payload) of the configs not announced yet for this reading."""
        announced = self._announced.setdefault(device, set())
        # Fast path: readings of a device usually carry the same field names.
        if announced.issuperset(fields):
            return []
        found = []
        for field in numeric_fields(fields):
            if field in announced:
                continue
            announced.add(field)
            message = self._message(device, field)
            self._known[(device, field)] = message
            found.append(message)
        return found

    def refresh(self, device: str, fields: Collection[str] | None = None) -> list[tuple[str, bytes]]:
        """After the configuration changed: the configs of ``device`` to publish again.

        Each field announced so far gets its config rebuilt from the current
        hints, and is returned if that differs from what was published (a
        new unit or device class).  With ``fields`` (the names the device
        can still report; empty for a removed device), an announced field
        not among them is withdrawn: Home Assistant deletes an entity whose
        retained config becomes an empty payload.  A field reported later
        is announced again by :meth:`new_fields`.
        """
        announced = self._announced.get(device, set())
        changed = []
        for field in sorted(announced):
            if fields is not None and field not in fields:
                announced.discard(field)
                message = (Topics.discovery(self.gateway, device, field), b"")
            else:
                message = self._message(device, field)
            if self._known.get((device, field)) != message:
                self._known[(device, field)] = message
                changed.append(message)
        return changed

    def all(self) -> list[tuple[str, bytes]]:
        """Every config announced so far, withdrawn ones as empty payloads
        (re-published on each connect: a withdrawal missed while offline is
        still made)."""
        return list(self._known.values())

    def _message(self, device: str, field: str) -> tuple[str, bytes]:
        config = sensor_config(self.topics, self.gateway, device, field,
                               self.hints(device, field) if self.hints is not None else None)
        return Topics.discovery(self.gateway, device, field), json.dumps(config, separators=(",", ":")).encode()
