"""DeviceStatuses: the one record of every device's state.

A :class:`gateway.device.DeviceLink` writes its state here before it fires
``device_status``; readiness (and the systemd status line), the MQTT uplink
(which republishes every status on each connect) and the dashboard read
it, so there is one answer to "is this device online?" and no copies to
keep in step. A component used on its own (the MQTT uplink in a test, say)
keeps one of its own, fed from the ``device_status`` events it hears.
"""

from __future__ import annotations

from collections.abc import Iterator

__all__ = ["ONLINE", "DeviceStatuses"]

ONLINE = "online"


class DeviceStatuses:
    """``device -> (status, detail)``; status is "starting", "online" or "offline"."""

    def __init__(self) -> None:
        self._states: dict[str, tuple[str, str]] = {}

    def set(self, device: str, status: str, detail: str = "") -> None:
        self._states[device] = (status, detail)

    def forget(self, device: str) -> None:
        """The device left the configuration."""
        self._states.pop(device, None)

    def status(self, device: str, default: str = "starting") -> str:
        state = self._states.get(device)
        return state[0] if state is not None else default

    def detail(self, device: str) -> str:
        state = self._states.get(device)
        return state[1] if state is not None else ""

    def online(self, device: str) -> bool:
        return self.status(device) == ONLINE

    def __iter__(self) -> Iterator[tuple[str, str, str]]:
        """(device, status, detail) for every device that reported."""
        return ((device, status, detail) for device, (status, detail) in self._states.items())

    def __len__(self) -> int:
        return len(self._states)

    def summary(self) -> str:
        """A one-line state, e.g. "3/4 devices online; offline: gps"."""
        online = sorted(d for d, (s, _) in self._states.items() if s == ONLINE)
        offline = sorted(d for d, (s, _) in self._states.items() if s != ONLINE)
        text = f"{len(online)}/{len(self._states)} devices online"
        return f"{text}; offline: {', '.join(offline)}" if offline else text
