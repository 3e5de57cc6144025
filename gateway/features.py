"""The gateway's optional parts, imported the first time a configuration uses one.

A module once imported stays in memory for as long as the process runs.
The dashboard brings ``circuits.web`` and its own modules (about 90 and
4 MB of RSS), the uplink its MQTT client, spool and queue, the Modbus
master and the RFC 2217 bridge their protocol packages. A gateway that
only bridges a serial port to TCP needs none of them:
``tests/gateway/test_footprint.py`` checks that it loads none of them, and
``bench/gateway_footprint.py`` measures the RSS of both kinds.

This module may import project modules inside functions (it is listed in
``LAZY_LOADERS`` in ``tests/test_layers.py``, with gateway.cli and a few
package facades): those imports are for footprint, not to dodge a cycle,
and the layering still applies to them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

#: One /metrics sample: labels and a value (as gateway.web.metrics renders them).
Sample = tuple[dict[str, str], float | int]

if TYPE_CHECKING:
    from .modbus import ModbusDevice
    from .mqtt import MqttUplink
    from .rfc2217.bridge import Rfc2217Bridge
    from .web import WebDashboard


def web_dashboard() -> tuple[type[WebDashboard], str]:
    """[web]: the dashboard component and its readiness part name."""
    from .web import PART, WebDashboard

    return WebDashboard, PART


def mqtt_uplink() -> type[MqttUplink]:
    """[mqtt]: the uplink (gateway.mqtt's own client; paho is never imported)."""
    from .mqtt import MqttUplink

    return MqttUplink


def modbus_device() -> tuple[type[ModbusDevice], Callable[[str], str]]:
    """A device with ``profile = "modbus"``: the RTU master and the readiness
    part name of its Modbus TCP listener."""
    from .modbus import ModbusDevice, tcp_part

    return ModbusDevice, tcp_part


def rfc2217_bridge() -> tuple[type[Rfc2217Bridge], Callable[[str], str]]:
    """A device with ``rfc2217 = ...``: the bridge and its readiness part name."""
    from .rfc2217.bridge import Rfc2217Bridge, rfc2217_part

    return Rfc2217Bridge, rfc2217_part


def modbus_samples(parts: Mapping[str, Any]) -> tuple[list[Sample], list[Sample]]:
    """/metrics' Modbus samples of the gateway's Modbus parts (none: gateway.modbus stays unloaded)."""
    if not parts:
        return [], []
    from .modbus.metrics import modbus_samples

    return modbus_samples(parts)

