"""A simulated Modbus RTU energy meter on an in-process pty, for the demo.

Like :mod:`gateway.simdevice`, but it answers instead of talking: requests
the gateway's master writes into the pty are framed with the sans-I/O
:class:`~circuits.protocols.modbus.RtuDecoder` (slave role) and answered by
a :class:`devices.modbus.MeterSlave`, whose values drift on a Timer.
"""

from __future__ import annotations

import logging
import os
import random

from circuits import Event, handler
from circuits.protocols.modbus import RtuDecoder, RtuFrame, encode_frame
from devices.modbus import MeterSlave

from .simpty import PtyPeer

log = logging.getLogger(__name__)


class meter_tick(Event):
    """Time for the simulated meter's values to move on."""


class SimulatedMeter(PtyPeer):
    """A Modbus slave (unit ``unit``) on a pty pair; ``path`` is the gateway's end."""

    def __init__(self, name: str, *, unit: int = 1, interval: float = 1.0, seed: int = 0) -> None:
        super().__init__(name, interval, meter_tick, read_size=4096)
        self.meter = MeterSlave(random.Random(seed), unit)
        self.decoder = RtuDecoder("slave")
        self.answered = 0

    @handler("meter_tick")
    def _on_tick(self) -> None:
        self.meter.step(self.interval)

    def received_data(self, data: bytes) -> None:
        self.decoder.receive_data(data)
        for event in self.decoder:
            if isinstance(event, RtuFrame) and event.unit == self.meter.unit:
                answer = encode_frame(self.meter.unit, self.meter.answer(event.pdu))
                try:
                    os.write(self.master, answer)
                    self.answered += 1
                except OSError as exc:
                    log.debug("%s: write failed: %s", self.device, exc)
