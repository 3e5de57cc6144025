"""One configured serial device: open it, notice it vanish, reopen it.

ser2net closes its clients and gives up when a device disappears; here the
device just goes ``offline`` (a ``device_status`` event), the TCP clients of
:mod:`gateway.bridge` stay connected, and the port is reopened as soon as it
is back.  Three things trigger an attempt, cheapest signal first:

1. ``ports_changed`` from :mod:`gateway.hotplug` (udev or inotify) for the
   directory the port lives in -- usually within milliseconds of a replug;
2. a retry timer with exponential backoff (:class:`Backoff`), the last
   resort when no event comes (a permission fixed by hand);
3. the start of the application.

With ``idle_reopen`` a port that stays open but delivers nothing for that
long (a wedged USB adapter or driver) is closed and reopened.  A port that
is merely quiet is not hammered: each reopen that brings no data doubles the
silence needed for the next one (up to :data:`IDLE_MAX`), and the first data
restores the configured value.  The warning is logged once per silent spell.

The port itself is a :class:`circuits.io.serial.Serial` on this device's
channel; this component handles its ``opened``/``read``/``error``/``closed``
events and turns the bytes into readings with :class:`ReadingMaker`.

It is the one reader of the port's bytes: what else wants them (the TCP and
RFC 2217 bridges, a Modbus master) is attached (:meth:`DeviceLink.attach`)
and called with each chunk, in the order attached, before the framer sees
it. So the bytes reach the bridge clients first (latency) and every consumer
sees the same chunks in the same order.  The link takes the chunks as the
port's :attr:`Serial.reader` (a call from the poll, no event per chunk: the
round trip of a bridge client costs no event at all); the port's ``read``
events, which it still fires right after an open, come to the same place.
"""

from __future__ import annotations

import logging
import os
import termios
from collections.abc import Callable
from typing import Any

from serial import SerialException

from circuits import BaseComponent, handler
from circuits.core.loop import TimerHandle
from circuits.core.transport import BufferOverflow
from circuits.io.serial import Serial

from .backoff import Backoff
from .config import DeviceConfig
from .events import BUS, HOTPLUG, device_channel, device_status, reading
from .ports import resolve, watch_directory
from .readings import ReadingMaker
from .status import DeviceStatuses
from .traffic import TrafficRing

log = logging.getLogger(__name__)

STARTING, ONLINE, OFFLINE = "starting", "online", "offline"
#: udev actions after which a port may be usable.
UDEV_ARRIVALS = frozenset({"add", "change", "bind"})
#: Bytes read per system call; a large read keeps throughput up on fast links.
READ_SIZE = 65536
#: Bytes that may wait for a slow device before writes to it are dropped.
DEVICE_BUFFER = 1 << 20
#: The longest silence the idle_reopen backoff waits for (unless configured longer).
IDLE_MAX = 3600.0


class DeviceLink(BaseComponent):
    """Keeps one device open when it can be (see module doc)."""

    def __init__(self, device: DeviceConfig, next_seq: Callable[[str], int], *,
                 backoff: Backoff | None = None, settle: float = 0.05,
                 resolver: Callable[[DeviceConfig], str | None] = resolve,
                 statuses: DeviceStatuses | None = None, traffic: bool = True) -> None:
        super().__init__(channel=device_channel(device.name))
        self.config = device
        self.device = device.name
        #: Where this device's state is kept: the gateway's one record
        #: (read by readiness, the uplink, the dashboard), or its own.
        self.statuses = statuses if statuses is not None else DeviceStatuses()
        self.path: str | None = None
        self.watch_dir = watch_directory(device)
        self._next_seq = next_seq
        self.readings = ReadingMaker(device, next_seq)
        self.backoff = backoff or Backoff()
        #: Delay after a hot-plug event before opening: udev renames and
        #: chmods nodes right after creating them, socat links its pty.
        self.settle = settle
        self._resolve = resolver
        self._retry: TimerHandle | None = None
        self._retry_at: float | None = None
        self._open_failed = False
        self.opens = 0
        self.bytes_in = 0
        self.bytes_out = 0
        self.dropped_to_device = 0  # bytes from clients while offline
        #: Reopens done by the gateway itself, by reason ("idle").
        self.reopens: dict[str, int] = {"idle": 0} if device.idle_reopen is not None else {}
        #: Silence (seconds) after which the next idle reopen happens; grows
        #: while reopens bring nothing back.
        self.idle_limit = device.idle_reopen
        self._idle_timer: TimerHandle | None = None
        self._last_data = 0.0
        self._reopening: str | None = None  # the reason of a reopen in progress
        self._silent_spell = False  # an idle reopen was logged, no data since
        self._removed = False  # stop() was called: never reopen
        #: The last traffic both ways, for the device page's hex view; None
        #: while no dashboard could show it (``traffic=False``, see
        #: :meth:`keep_traffic`): recording is a sixth of a bridged echo's
        #: Python work.
        self.traffic: TrafficRing | None = TrafficRing() if traffic else None
        #: Who else takes the bytes read, called in this order (see module doc).
        self._consumers: list[Callable[[bytes], None]] = []
        self.serial = Serial(
            device.port or "", device.baudrate, bufsize=READ_SIZE, channel=self.channel,
            autoopen=False, max_buffer=DEVICE_BUFFER, bytesize=device.bytesize, parity=device.parity,
            stopbits=device.stopbits, rtscts=device.rtscts, xonxoff=device.xonxoff,
            exclusive=device.exclusive,
        ).register(self)
        self.serial.reader = self.take

    @property
    def status(self) -> str:
        return self.statuses.status(self.device, STARTING)

    @property
    def detail(self) -> str:
        return self.statuses.detail(self.device)

    @property
    def online(self) -> bool:
        return self.status == ONLINE

    # -- the raw bytes' consumers ----------------------------------------------

    def attach(self, consumer: Callable[[bytes], None]) -> None:
        """Call ``consumer(chunk)`` with every chunk read, before the framer."""
        if consumer not in self._consumers:
            self._consumers.append(consumer)

    def detach(self, consumer: Callable[[bytes], None]) -> None:
        """Stop calling ``consumer`` (a bridge being removed); unknown ones are ignored."""
        if consumer in self._consumers:
            self._consumers.remove(consumer)

    def keep_traffic(self) -> TrafficRing:
        """Record the traffic from now on (a dashboard started); its ring."""
        if self.traffic is None:
            self.traffic = TrafficRing()
        return self.traffic

    # -- sending (the TCP bridge's hot path: a call, not an event) -----------

    def send(self, data: bytes) -> bool:
        """Write ``data`` to the device; False (and counted) while offline."""
        return self.queue(data) >= 0

    def queue(self, data: bytes) -> int:
        """Write ``data`` to the device: the bytes now waiting for it (for
        the bridge's backpressure), or -1 while offline (dropped, counted)."""
        # The port, not our status: bytes sent between the open and its
        # ``opened`` event are delivered, bytes after a vanish are not counted as sent.
        waiting = self.serial.send(data)
        if waiting < 0:
            self.dropped_to_device += len(data)
            return waiting
        self.bytes_out += len(data)
        traffic = self.traffic
        if traffic is not None:
            traffic.sent(data)
        return waiting

    # -- opening -------------------------------------------------------------

    @handler("started", channel="*")
    def _on_started(self, component: Any) -> None:
        if component is self.root:
            self.attempt()

    def attempt(self) -> None:
        """Try to open the port now; on failure schedule the next try."""
        self._cancel_retry()
        if self.status == ONLINE or not self.root.running or self._removed:
            return
        path = self._resolve(self.config)
        if path is None:
            what = self.config.port or f"USB {self.config.match.vid}:{self.config.match.pid}"  # type: ignore[union-attr]
            self._set_status(OFFLINE, f"{what} not found")
            self._schedule_retry()
            return
        self.path = path
        self.serial.open(port=path)
        if not self.serial.connected:
            # Serial reports why in an ``error`` event, handled below.
            self._open_failed = True
            self._schedule_retry()

    @handler("opened")
    def _on_opened(self, port: str, baudrate: int) -> None:
        self.opens += 1
        self.backoff.reset()
        self.readings.reset()
        real = os.path.realpath(port) if "://" not in port else port
        shown = port if real == port else f"{port} -> {real}"
        self._set_status(ONLINE, shown)
        if self.config.idle_reopen is not None:
            self._last_data = self.loop.clock.now()
            self._arm_watchdog(self._last_data)

    @handler("error")
    def _on_error(self, err: BaseException) -> None:
        if self._open_failed:
            self._open_failed = False
            self._set_status(OFFLINE, _reason(err))
        elif isinstance(err, BufferOverflow):
            # Serial reports the first loss only; its ``dropped`` keeps counting.
            log.warning("%s: the device does not take data fast enough: %s", self.device, err)
        else:
            # A vanishing device reports its error, then ``closed``.
            log.debug("%s: %s", self.device, _reason(err))

    @handler("closed")
    def _on_closed(self, reason: str | None = None) -> None:
        self._cancel_watchdog()
        if self._reopening is not None and self.root.running:
            why, self._reopening = self._reopening, None
            self._set_status(OFFLINE, f"reopening: {why}", quiet=True)
            self.attempt()
            return
        self._reopening = None
        if self.status != ONLINE:
            return
        if not self.root.running:
            # The gateway is stopping: not an outage worth a warning.
            self._set_status(OFFLINE, "gateway stopped", quiet=True)
            return
        self._set_status(OFFLINE, f"closed: {reason or 'by request'}")
        self._schedule_retry()

    # -- hot-plug and retries -------------------------------------------------

    @handler("ports_changed", channel=HOTPLUG)
    def _on_ports_changed(self, path: str | None, action: str = "") -> None:
        if self.status == ONLINE or not self._concerns(path, action):
            return
        # Something changed where our port lives: the device is probably
        # arriving, so the next failures retry quickly again.
        self.backoff.reset()
        self._schedule_retry(self.settle)

    def _concerns(self, path: str | None, action: str = "") -> bool:
        if path is None or self.config.match is not None or action in UDEV_ARRIVALS:
            # An overflow, a USB node, or a udev arrival (whose node may be
            # behind our by-id link): cheap enough to just try.
            return True
        folder = self.watch_dir.rstrip("/") + "/"
        return path.startswith(folder) or folder.startswith(path.rstrip("/") + "/")

    def _schedule_retry(self, delay: float | None = None) -> None:
        if not self.root.running:
            return
        if delay is None:
            delay = self.backoff.next_delay()
        when = self.loop.clock.now() + delay
        if self._retry is not None and self._retry_at is not None and self._retry_at <= when:
            return  # an earlier attempt is already due
        self._cancel_retry()
        self._retry_at = when
        self._retry = self.loop.call_at(when, self._retry_now)

    def _retry_now(self) -> None:
        self._retry = self._retry_at = None
        self.attempt()

    def _cancel_retry(self) -> None:
        if self._retry is not None:
            self._retry.cancel()
        self._retry = self._retry_at = None

    @handler("stopped", channel="*")
    def _on_stopped(self, component: Any) -> None:
        if component is self.root:
            self._cancel_retry()
            self._cancel_watchdog()

    # -- idle_reopen ------------------------------------------------------------

    def _arm_watchdog(self, since: float) -> None:
        assert self.idle_limit is not None
        self._cancel_watchdog()
        self._idle_timer = self.loop.call_at(since + self.idle_limit, self._check_idle)

    def _cancel_watchdog(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None

    def _check_idle(self) -> None:
        # One timer per silence, not one per read: data only moves _last_data,
        # and an early wake-up re-arms for the time still missing.
        self._idle_timer = None
        if self.status != ONLINE or self.idle_limit is None:
            return
        if self.loop.clock.now() < self._last_data + self.idle_limit:
            self._arm_watchdog(self._last_data)
            return
        silence = self.idle_limit
        configured = self.config.idle_reopen or silence
        self.idle_limit = min(silence * 2, max(configured, IDLE_MAX))
        self.reopens["idle"] = self.reopens.get("idle", 0) + 1
        why = f"no data for {silence:g}s"
        if not self._silent_spell:
            self._silent_spell = True
            log.warning("%s: %s: closing and reopening the port (idle_reopen); while it stays silent "
                        "the next reopens wait longer and are not logged", self.device, why)
        else:
            log.debug("%s: %s: reopening again", self.device, why)
        self._reopening = why
        # A wedged port may never take its queued writes: drop them, or the
        # close would wait for them forever.
        self.serial.discard_output()
        self.serial.close()

    # -- data ------------------------------------------------------------------

    @handler("read")
    def _on_read(self, data: bytes) -> None:
        # The chunks read while the port's last event was being dispatched
        # (right after an open); later ones come straight to take().
        self.take(data)

    def take(self, data: bytes) -> None:
        """One chunk from the device: to the consumers, then the framer."""
        self.bytes_in += len(data)
        if self.config.idle_reopen is not None:
            self._last_data = self.loop.clock.now()
            if self.idle_limit != self.config.idle_reopen:
                self.idle_limit = self.config.idle_reopen
                if self._silent_spell:
                    log.info("%s: data again after idle reopens", self.device)
            self._silent_spell = False
        traffic = self.traffic
        if traffic is not None:
            traffic.received(data)
        for consumer in self._consumers:
            try:
                consumer(data)
            except Exception:
                # A bug in one consumer must cost neither the others nor the readings.
                log.exception("%s: %r failed on %d bytes from the device", self.device, consumer, len(data))
        for item in self.readings.feed(data):
            self.fire(reading(item), BUS)

    # -- status ----------------------------------------------------------------

    def _set_status(self, status: str, detail: str, *, quiet: bool = False) -> None:
        previous = self.status
        self.statuses.set(self.device, status, detail)  # before the event: handlers read it
        if status == previous:
            log.debug("%s: still %s: %s", self.device, status, detail)
            return
        if quiet:
            log.debug("%s: %s: %s", self.device, status, detail)
        elif status == ONLINE:
            log.info("%s: online on %s", self.device, detail)
        else:
            log.warning("%s: offline: %s; TCP clients stay connected, reopening when it is back",
                        self.device, detail)
        self.fire(device_status(self.device, status, detail), BUS)

    # -- live reload (gateway.reloader) ----------------------------------------

    def reconfigure(self, device: DeviceConfig) -> None:
        """Take ``device``'s settings without disturbing what did not change:
        line settings go to the open port (``apply_settings``, no close), a
        new parser starts on the next byte, a new port is opened after the
        old one closes.  Sequence numbers and counters continue."""
        old, self.config = self.config, device
        settings = {"baudrate": device.baudrate, "bytesize": device.bytesize, "parity": device.parity,
                    "stopbits": device.stopbits, "rtscts": device.rtscts, "xonxoff": device.xonxoff}
        # What the next open uses (a reopen, a replug).
        self.serial.baudrate = device.baudrate
        self.serial.settings.update({k: v for k, v in settings.items() if k != "baudrate"},
                                    exclusive=device.exclusive)
        reopen = (old.port, old.match, old.exclusive) != (device.port, device.match, device.exclusive)
        port = self.serial.device
        changed = {k: v for k, v in settings.items() if getattr(old, k) != v}
        if changed and port is not None and not reopen:
            try:
                port.apply_settings(changed)
            except (ValueError, OverflowError, OSError, termios.error, SerialException) as exc:
                log.warning("%s: the port refused %s in place (%s): reopening it", self.device, changed, exc)
                reopen = True
        if (old.profile_options, old.profile, old.framing, old.max_line) != \
                (device.profile_options, device.profile, device.framing, device.max_line):
            stats, self.readings = self.readings.stats, ReadingMaker(device, self._next_seq)
            self.readings.stats = stats  # the counters are the device's, not the parser's
        if old.idle_reopen != device.idle_reopen:
            self.idle_limit = device.idle_reopen
            if device.idle_reopen is not None:
                self.reopens.setdefault("idle", 0)
            self._cancel_watchdog()
            if device.idle_reopen is not None and self.online:
                self._last_data = self.loop.clock.now()
                self._arm_watchdog(self._last_data)
        self.watch_dir = watch_directory(device)
        if reopen:
            if self.serial.connected:
                self._reopening = "the configuration changed"
                self.serial.close()  # _on_closed opens the new port
            else:
                self.backoff.reset()
                self.attempt()

    def stop(self) -> None:
        """Close the port for good (the device was removed from the configuration)."""
        self._cancel_retry()
        self._cancel_watchdog()
        self._reopening = None
        self._removed = True
        self.serial.close()
        self._set_status(OFFLINE, "removed from the configuration", quiet=True)

    # -- counters that survive restarts (gateway.seqstore) --------------------

    def persisted_counters(self) -> dict[str, int]:
        """What /metrics counts since the first start: saved with the sequence numbers."""
        stats = self.readings.stats
        return {"readings": stats.successes, "parse_errors": stats.failures,
                **{f"reopens_{reason}": count for reason, count in self.reopens.items()}}

    def restore_counters(self, saved: dict[str, int]) -> None:
        """Continue from :meth:`persisted_counters` of the previous run."""
        stats = self.readings.stats
        stats.successes += saved.get("readings", 0)
        stats.failures += saved.get("parse_errors", 0)
        for name, count in saved.items():
            if name.startswith("reopens_"):
                reason = name.removeprefix("reopens_")
                self.reopens[reason] = self.reopens.get(reason, 0) + count

    def statistics(self) -> dict[str, Any]:
        return {
            "status": self.status, "detail": self.detail, "path": self.path, "opens": self.opens,
            "bytes_in": self.bytes_in, "bytes_out": self.bytes_out,
            "dropped_to_device": self.dropped_to_device + self.serial.dropped,
            "reopens": dict(self.reopens),
            "parse": self.readings.statistics(),
        }


def _reason(err: BaseException) -> str:
    if isinstance(err, OSError) and err.strerror:
        return err.strerror
    return str(err) or type(err).__name__
