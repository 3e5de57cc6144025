"""A simulated serial device on an in-process pty pair, for the demo.

The gateway opens the pty's slave (:class:`~gateway.simpty.PtyPeer`) like
any serial port, and this component writes a :class:`devices.Simulator`'s messages into the master on
a Timer.  Needs no root, no socat and no hardware.  What the gateway sends
to the device is read and counted (a real sensor would ignore it too).
"""

from __future__ import annotations

import logging
import os
import random
from collections.abc import Mapping

from circuits import Event, handler
from devices import Profile, Simulator
from devices.garbage import noise_line

from .simpty import PtyPeer

log = logging.getLogger(__name__)


class sim_tick(Event):
    """Time for the simulated device's next message."""


class SimulatedDevice(PtyPeer):
    """Writes a profile's simulated messages into a pty (see module doc).

    ``noise`` is the chance that a tick also sends a line of garbage, to
    show parse errors being counted without disturbing the readings.
    """

    def __init__(self, name: str, profile: Profile, options: Mapping[str, object] | None = None, *,
                 interval: float | None = None, seed: int = 0, noise: float = 0.0) -> None:
        super().__init__(name, interval if interval is not None else profile.interval, sim_tick)
        self.simulator = Simulator(profile, options, seed=seed)
        self.noise = noise
        self._rng = random.Random(seed)
        self.sent = 0
        self.received = 0
        self.dropped = 0

    @handler("sim_tick")
    def _on_tick(self) -> None:
        data = self.simulator.next_message()
        if self.noise and self._rng.random() < self.noise:
            data = noise_line(self._rng, self._rng.randint(5, 40)) + data
        try:
            written = os.write(self.master, data)
        except BlockingIOError:
            written = 0  # nobody reads the port: like a device, drop it
        except OSError as exc:
            log.debug("%s: write failed: %s", self.device, exc)
            written = 0
        self.sent += written
        self.dropped += len(data) - written

    def received_data(self, data: bytes) -> None:
        self.received += len(data)
