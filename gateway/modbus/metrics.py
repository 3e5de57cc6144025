"""The Modbus figures of ``/metrics``: requests by unit and result, stale units.

Samples in the shape :func:`gateway.web.metrics.render_metrics` takes, read
from the gateway's :class:`~gateway.modbus.ModbusDevice` parts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["modbus_samples"]

Sample = tuple[dict[str, str], float | int]


def modbus_samples(parts: Mapping[str, Any]) -> tuple[list[Sample], list[Sample]]:
    """(``gateway_modbus_requests_total`` samples, ``gateway_modbus_unit_stale`` samples)."""
    requests: list[Sample] = []
    stale: list[Sample] = []
    for device, part in parts.items():
        for (unit, result), count in sorted(part.master.counts.items()):
            requests.append(({"device": device, "unit": str(unit), "result": result}, count))
        if part.poller is not None:
            for unit, stats in sorted(part.poller.units().items()):
                stale.append(({"device": device, "unit": str(unit)}, int(stats["stale"])))
    return requests, stale
