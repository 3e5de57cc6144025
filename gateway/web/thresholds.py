"""Counts readings whose value is past a field's ``warn_above``/``warn_below``.

Only devices with a threshold configured cost anything per reading (a dict
lookup otherwise); the counts are shown in ``/metrics`` as
``gateway_field_warnings_total{device, field, direction}``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..config import DeviceConfig
from ..config.presentation import FieldPresentation

__all__ = ["ThresholdCounter"]


class ThresholdCounter:
    def __init__(self, devices: Iterable[DeviceConfig]) -> None:
        self._watched: dict[str, tuple[tuple[str, FieldPresentation], ...]] = {}
        for device in devices:
            watched = tuple((name, shown) for name, shown in device.fields
                            if shown.warn_above is not None or shown.warn_below is not None)
            if watched:
                self._watched[device.name] = watched
        #: (device, field, "above"|"below") -> readings past the threshold.
        self.counts: dict[tuple[str, str, str], int] = {}

    def check(self, device: str, fields: Mapping[str, Any]) -> None:
        watched = self._watched.get(device)
        if watched is None:
            return
        for name, shown in watched:
            direction = shown.warning(fields.get(name))
            if direction is not None:
                key = (device, name, direction)
                self.counts[key] = self.counts.get(key, 0) + 1

    def samples(self) -> list[tuple[dict[str, str], int]]:
        return [({"device": d, "field": f, "direction": w}, n) for (d, f, w), n in sorted(self.counts.items())]
