"""A simulated serial device on an in-process pty pair, for the demo.

``os.openpty()`` gives a master and a slave; the slave's path
(``/dev/pts/N``) is what the gateway opens like any serial port, and this
component writes a :class:`devices.Simulator`'s messages into the master on
a Timer.  Needs no root, no socat and no hardware.  What the gateway sends
to the device is read and counted (a real sensor would ignore it too).
"""

from __future__ import annotations

import errno
import logging
import os
import random
from collections.abc import Mapping
from typing import Any

from circuits import BaseComponent, Event, Timer, handler
from devices import Profile, Simulator
from devices.garbage import noise_line

from .socat import make_raw

log = logging.getLogger(__name__)


class sim_tick(Event):
    """Time for the simulated device's next message."""


class SimulatedDevice(BaseComponent):
    """Writes a profile's simulated messages into a pty (see module doc).

    ``noise`` is the chance that a tick also sends a line of garbage, to
    show parse errors being counted without disturbing the readings.
    """

    def __init__(self, name: str, profile: Profile, options: Mapping[str, object] | None = None, *,
                 interval: float | None = None, seed: int = 0, noise: float = 0.0) -> None:
        super().__init__(channel=f"sim.{name}")
        self.device = name
        self.simulator = Simulator(profile, options, seed=seed)
        self.interval = interval if interval is not None else profile.interval
        self.noise = noise
        self._rng = random.Random(seed)
        self.master, self._slave = os.openpty()
        # Raw before anyone opens it: a cooked pty would echo our messages
        # back to us and turn "\n" into "\r\n".
        make_raw(self._slave)
        os.set_blocking(self.master, False)
        self.path = os.ttyname(self._slave)
        self.sent = 0
        self.received = 0
        self.dropped = 0
        self._timer: Timer | None = None

    @handler("started", channel="*")
    def _on_started(self, component: Any) -> None:
        if component is not self.root:
            return
        self.loop.add_reader(self.master, self._on_readable)
        self._timer = Timer(self.interval, sim_tick(), self.channel, persist=True).register(self)

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

    def _on_readable(self) -> None:
        try:
            data = os.read(self.master, 65536)
        except BlockingIOError:
            return
        except OSError as exc:
            if exc.errno != errno.EIO:  # EIO: no slave open right now
                log.debug("%s: read failed: %s", self.device, exc)
            return
        self.received += len(data)

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
