"""A simulated Modbus RTU energy meter on an in-process pty, for the demo.

Like :mod:`gateway.simdevice`, but it answers instead of talking: requests
the gateway's master writes into the pty are framed with the sans-I/O
:class:`~circuits.protocols.modbus.RtuDecoder` (slave role) and answered by
a :class:`devices.modbus.MeterSlave`, whose values drift on a Timer.
"""

from __future__ import annotations

import errno
import logging
import os
import random
from typing import Any

from circuits import BaseComponent, Event, Timer, handler
from circuits.protocols.modbus import RtuDecoder, RtuFrame, encode_frame
from devices.modbus import MeterSlave

from .socat import make_raw

log = logging.getLogger(__name__)


class meter_tick(Event):
    """Time for the simulated meter's values to move on."""


class SimulatedMeter(BaseComponent):
    """A Modbus slave (unit ``unit``) on a pty pair; ``path`` is the gateway's end."""

    def __init__(self, name: str, *, unit: int = 1, interval: float = 1.0, seed: int = 0) -> None:
        super().__init__(channel=f"sim.{name}")
        self.device = name
        self.interval = interval
        self.meter = MeterSlave(random.Random(seed), unit)
        self.decoder = RtuDecoder("slave")
        self.master, self._slave = os.openpty()
        make_raw(self._slave)
        os.set_blocking(self.master, False)
        self.path = os.ttyname(self._slave)
        self.answered = 0
        self._timer: Timer | None = None

    @handler("started", channel="*")
    def _on_started(self, component: Any) -> None:
        if component is not self.root:
            return
        self.loop.add_reader(self.master, self._on_readable)
        self._timer = Timer(self.interval, meter_tick(), self.channel, persist=True).register(self)

    @handler("meter_tick")
    def _on_tick(self) -> None:
        self.meter.step(self.interval)

    def _on_readable(self) -> None:
        try:
            data = os.read(self.master, 4096)
        except BlockingIOError:
            return
        except OSError as exc:
            if exc.errno != errno.EIO:  # EIO: the gateway's end is not open now
                log.debug("%s: read failed: %s", self.device, exc)
            return
        self.decoder.receive_data(data)
        for event in self.decoder:
            if isinstance(event, RtuFrame) and event.unit == self.meter.unit:
                answer = encode_frame(self.meter.unit, self.meter.answer(event.pdu))
                try:
                    os.write(self.master, answer)
                    self.answered += 1
                except OSError as exc:
                    log.debug("%s: write failed: %s", self.device, exc)

    @handler("stopped", channel="*")
    def _on_stopped(self, component: Any) -> None:
        if component is self.root:
            self.close()

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self.master >= 0:
            self.loop.discard(self.master)
            os.close(self.master)
            os.close(self._slave)
            self.master = self._slave = -1
