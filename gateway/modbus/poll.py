"""Polls the configured registers and turns each cycle into one reading.

The blocks of :func:`~.plan.plan` are grouped by unit and interval; each
group is a *cycle*: on its timer the group's blocks go to the
:class:`~.master.RtuMaster` one after the other (the next when the previous
is answered, so the poller never holds more than one request per group in
the queue and TCP clients get their turns in between), and when the last one
is done the values answered become one ``reading`` on the gateway's bus --
the same event every other profile fires, so the spool, MQTT, UDP, /ws, the
history and the dashboard take it as it is.

A unit that does not answer costs only its own cycle: the fields of blocks
that failed are left out of the reading (none at all: no reading), its
``stale`` flag is set until a cycle succeeds again, the device stays online
and the other units' cycles go on.  A cycle still running when its next
tick comes (the bus is that busy) is not doubled: the tick is skipped and
counted as an overrun.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from circuits import BaseComponent, handler
from circuits.core.loop import TimerHandle
from circuits.protocols.modbus import BitsResponse, RegistersResponse
from devices import make_reading
from devices.profile import FieldValue

from ..config import DeviceConfig
from ..events import BUS, device_channel, reading
from .master import OFFLINE, OK, Outcome, RtuMaster
from .plan import Block, plan

log = logging.getLogger(__name__)


@dataclass(slots=True, eq=False)
class Cycle:
    """One unit's blocks polled at one interval, and how they fared."""

    unit: int
    every: float
    blocks: list[Block]
    due: float = 0.0
    timer: TimerHandle | None = None
    running: bool = False
    fields: dict[str, FieldValue] = field(default_factory=dict)
    failed: int = 0  # blocks of the running cycle that failed
    # Counters (statistics, /metrics).
    cycles: int = 0
    readings: int = 0
    overruns: int = 0
    stale: bool = False
    last_error: str = ""


class Poller(BaseComponent):
    """The ``[[device.modbus.read]]`` entries of one device (see module doc)."""

    def __init__(self, device: DeviceConfig, master: RtuMaster, next_seq: Callable[[str], int], *,
                 wall_clock: Callable[[], float] = time.time) -> None:
        # On the device channel: the port's ``opened`` starts a poll at once.
        super().__init__(channel=device_channel(device.name))
        assert device.modbus is not None
        self.device = device.name
        self.master = master
        self._next_seq = next_seq
        self._wall_clock = wall_clock
        groups: dict[tuple[int, float], list[Block]] = {}
        for block in plan(device.modbus.reads):
            groups.setdefault((block.unit, block.every), []).append(block)
        self.cycles = [Cycle(unit, every, blocks) for (unit, every), blocks in groups.items()]

    @property
    def requests_per_cycle(self) -> dict[int, int]:
        """Requests each unit needs per cycle (all its intervals)."""
        out: dict[int, int] = {}
        for cycle in self.cycles:
            out[cycle.unit] = out.get(cycle.unit, 0) + len(cycle.blocks)
        return out

    @handler("started", channel="*")
    def _on_started(self, component: Any) -> None:
        if component is not self.root:
            return
        now = self.loop.clock.now()
        for cycle in self.cycles:
            cycle.due = now
            self._tick(cycle)

    @handler("opened")
    def _on_opened(self, *args: Any) -> None:
        # Values as soon as the bus is there, not one interval later.
        now = self.loop.clock.now()
        for cycle in self.cycles:
            if not cycle.running:
                if cycle.timer is not None:
                    cycle.timer.cancel()
                cycle.due = now
                self._tick(cycle)

    @handler("stopped", channel="*")
    def _on_stopped(self, component: Any) -> None:
        if component is self.root:
            self.cancel()

    def cancel(self) -> None:
        """Stop polling (the gateway stops, or a reload removes the device)."""
        for cycle in self.cycles:
            if cycle.timer is not None:
                cycle.timer.cancel()
                cycle.timer = None

    def _schedule(self, cycle: Cycle) -> None:
        now = self.loop.clock.now()
        cycle.due += cycle.every
        if cycle.due < now:
            # Far behind (a stalled loop, a suspended board): start afresh
            # rather than firing every missed tick at once.
            cycle.due = now + cycle.every
        cycle.timer = self.loop.call_at(cycle.due, lambda: self._tick(cycle))

    def _tick(self, cycle: Cycle) -> None:
        cycle.timer = None
        self._schedule(cycle)
        if cycle.running:
            cycle.overruns += 1
            return
        if not self.master.link.serial.connected:
            return  # the device is offline, and says so itself
        cycle.running = True
        cycle.fields = {}
        cycle.failed = 0
        self._send(cycle, 0)

    def _send(self, cycle: Cycle, index: int) -> None:
        block = cycle.blocks[index]

        def done(outcome: Outcome) -> None:
            self._answered(cycle, index, outcome)

        self.master.submit(block.unit, block.request, done, cycle)

    def _answered(self, cycle: Cycle, index: int, outcome: Outcome) -> None:
        block = cycle.blocks[index]
        if outcome.result == OK and isinstance(outcome.response, RegistersResponse | BitsResponse):
            cycle.fields.update(block.values(outcome.response))
        elif outcome.result != OFFLINE:  # an offline port is the device's status, not the unit's
            cycle.failed += 1
            cycle.last_error = f"{block.table} {block.address}..{block.address + block.count - 1}: " \
                               f"{outcome.result}" + (f" 0x{outcome.pdu[1]:02X}" if len(outcome.pdu) == 2 else "")
        if index + 1 < len(cycle.blocks):
            self._send(cycle, index + 1)
            return
        self._complete(cycle)

    def _complete(self, cycle: Cycle) -> None:
        cycle.running = False
        cycle.cycles += 1
        stale = cycle.failed > 0
        if stale != cycle.stale:
            cycle.stale = stale
            if stale:
                log.warning("%s: unit %d: %s; its values are stale until it answers again",
                            self.device, cycle.unit, cycle.last_error)
            else:
                log.info("%s: unit %d answers again", self.device, cycle.unit)
        if cycle.fields:
            cycle.readings += 1
            # The device's readings counter (dashboard, /metrics) counts these
            # as it counts parsed messages of other profiles.
            self.master.link.readings.stats.record_success()
            item = make_reading(self.device, self._next_seq(self.device), self._wall_clock(), cycle.fields)
            self.fire(reading(item), BUS)

    def units(self) -> dict[int, dict[str, Any]]:
        """Per unit: cycles, readings, overruns, stale, last error."""
        out: dict[int, dict[str, Any]] = {}
        for cycle in self.cycles:
            unit = out.setdefault(cycle.unit, {"cycles": 0, "readings": 0, "overruns": 0, "stale": False,
                                               "last_error": ""})
            unit["cycles"] += cycle.cycles
            unit["readings"] += cycle.readings
            unit["overruns"] += cycle.overruns
            unit["stale"] = unit["stale"] or cycle.stale
            if cycle.last_error:
                unit["last_error"] = cycle.last_error
        return out

    def statistics(self) -> dict[str, Any]:
        return {"requests_per_cycle": self.requests_per_cycle,
                "units": {str(unit): stats for unit, stats in self.units().items()}}
