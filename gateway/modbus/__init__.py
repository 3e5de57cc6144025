"""A ``profile = "modbus"`` device: the gateway is the master of its RTU bus.

::

    ModbusDevice                 ("modbus.<name>")
    +- RtuMaster                 the bus: one request at a time, frame gaps  ("device.<name>")
    +- ModbusTcpServer           [modbus_tcp]: Modbus TCP clients share it
    |  +- listener
    +- Poller                    [[device.modbus.read]]: one reading per unit and cycle

The port itself stays the :class:`~gateway.device.DeviceLink`'s: opening,
hot-plug and reopening work as for every other profile.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from circuits import BaseComponent, handler

from ..config import DeviceConfig
from ..device import DeviceLink
from ..events import BUS, modbus_result
from .master import Outcome, RtuMaster
from .plan import plan
from .poll import Poller
from .tcp import ModbusTcpServer, tcp_part
from .writes import WriteAsk, parse_write, result_json

log = logging.getLogger(__name__)

__all__ = ["ModbusDevice", "Outcome", "Poller", "RtuMaster", "ModbusTcpServer", "describe_modbus", "tcp_part"]


def describe_modbus(device: DeviceConfig) -> str:
    """One line for ``gateway check``: what the master of this bus will do."""
    assert device.modbus is not None
    m = device.modbus
    parts = [f"Modbus RTU master at {device.baudrate} {device.bytesize}{device.parity}{device.stopbits:g}, "
             f"timeout {m.timeout:g} s" + ("" if m.frame_gap is None else f", frame gap {m.frame_gap * 1000:g} ms")]
    if device.modbus_tcp is not None:
        parts.append(f"Modbus TCP on {device.modbus_tcp}")
    if m.reads:
        units = sorted({r.unit for r in m.reads})
        blocks = plan(m.reads)
        parts.append(f"{len(m.reads)} values polled from unit{'s' if len(units) > 1 else ''} "
                     f"{', '.join(map(str, units))} in {len(blocks)} request{'s' if len(blocks) > 1 else ''} "
                     "per cycle")
    return "; ".join(parts)


class ModbusDevice(BaseComponent):
    """The Modbus parts of one device (see module doc)."""

    def __init__(self, device: DeviceConfig, link: DeviceLink, next_seq: Callable[[str], int]) -> None:
        super().__init__(channel=f"modbus.{device.name}")
        assert device.modbus is not None
        self.device = device.name
        self.master = RtuMaster(device, link).register(self)
        # Binding may raise OSError: the caller turns it into a StartError.
        self.tcp = ModbusTcpServer(device, self.master).register(self) if device.modbus_tcp else None
        self.poller = Poller(device, self.master, next_seq).register(self) if device.modbus.reads else None

    @handler("modbus_write", channel=BUS)
    def _on_modbus_write(self, device: str, payload: bytes) -> None:
        """A JSON write from ``{prefix}/{device}/modbus/write`` (gateway.modbus.writes)."""
        if device != self.device:
            return
        try:
            ask = parse_write(payload)
        except ValueError as exc:
            log.warning("%s: MQTT Modbus write refused: %s", self.device, exc)
            self.fire(modbus_result(self.device, result_json(None, error=str(exc))), BUS)
            return

        def done(outcome: Outcome, ask: WriteAsk = ask) -> None:
            self.fire(modbus_result(self.device, result_json(ask, outcome)), BUS)

        self.master.submit(ask.unit, ask.request, done, "mqtt")

    def stop(self) -> None:
        """Close the Modbus TCP listener and its clients, stop polling (a reload removed the device)."""
        if self.tcp is not None:
            self.tcp.server.close()
            self.tcp.cancel()
        if self.poller is not None:
            self.poller.cancel()
        self.master.cancel()

    def statistics(self) -> dict[str, Any]:
        return {"bus": self.master.statistics(),
                "tcp": self.tcp.statistics() if self.tcp is not None else None,
                "poll": self.poller.statistics() if self.poller is not None else None}
