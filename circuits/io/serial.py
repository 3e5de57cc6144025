"""Serial ports (pyserial), their descriptor on the loop's one poller.

``Serial`` opens the port on start (an ``open`` event), then fires
``opened(port, baudrate)``, ``read(data)`` for what arrives, and takes
``write(data)``. Writes never block: what the port cannot take now waits
in a bounded queue. When the device vanishes (unplugged, socat killed) it
fires ``error`` and then ``closed(reason)`` once and stops watching the
descriptor; an ``open`` event opens it again. A port that cannot be opened
gives an ``error`` event, never a crash.

An owner on a latency-critical path (a serial-to-TCP bridge) may set
:attr:`Serial.reader`: the bytes read are then handed to it by a call from
the poll, not queued as a ``read`` event (the event, its dispatch and its
handler lookup are most of the Python work of a small chunk). Order is kept:
until the events this port fired last (``opened``, or a ``read`` from
before the reader took over) were dispatched, chunks still go as events.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from typing import Any

import serial as pyserial

from ..core.components import BaseComponent
from ..core.handlers import handler
from ..core.transport import Transport
from ..core.transport_owner import TransportHolder, TransportOwner
from .events import closed, error, opened, read, ready
from .events import open as open_event

#: pyserial keyword arguments a Serial component passes through.
SERIAL_SETTINGS = ("bytesize", "parity", "stopbits", "rtscts", "xonxoff", "dsrdtr", "exclusive")
#: Reads per wake-up while the port streams: a tty hands out at most 4 KiB
#: a read, so a busy port is drained with up to 16 of them between polls.
READ_BURST = 16


class Serial(TransportHolder, BaseComponent, TransportOwner):
    """A serial port component (see module doc)."""

    channel: Any = "serial"

    def __init__(self, port: str, baudrate: int = 115200, bufsize: int = 4096, timeout: float = 0.2,
                 channel: Any = channel, **kwargs: Any) -> None:
        super().__init__(channel=channel)
        self.port = port
        self.baudrate = baudrate
        self.bufsize = bufsize
        self.timeout = timeout  # kept for API compatibility: reads never wait
        self.settings = {k: kwargs[k] for k in SERIAL_SETTINGS if k in kwargs}
        #: Bytes that may wait for the device before writes are dropped.
        self.max_buffer: int = kwargs.get("max_buffer", 1 << 20)
        self._serial: pyserial.Serial | None = None
        self._transport: Transport | None = None
        #: Called once the write queue is empty again: a writer that paused
        #: its sources because the port was slow resumes them from here.
        self.on_drained: Callable[[], None] | None = None
        self._when_writable: list[Callable[[], None]] = []
        #: Called with each chunk read instead of firing ``read`` (see module doc).
        self.reader: Callable[[bytes], None] | None = None
        # The value of the last ``opened``/``read`` fired: a chunk may go to
        # the reader only once it was dispatched (handled), or it would
        # overtake that event.
        self._last_fired: Any = None
        if kwargs.get("autoopen", True):
            self.fire(open_event())

    @property
    def connected(self) -> bool:
        return self._transport is not None and not self._transport.closed

    @property
    def device(self) -> pyserial.Serial | None:
        """The open pyserial port, for its settings and control lines (None while closed).

        Reading and writing go through the loop; this is for what pyserial
        does with ioctl/termios calls, which never block.
        """
        return self._serial if self.connected else None

    def when_writable(self, callback: Callable[[], None], low_water: int) -> None:
        """Call ``callback`` once at most ``low_water`` bytes wait for the
        port (at once if that is so now); also when the port closes, since
        then nothing waits any more.  Each writer that paused its sources
        for a slow port gets its own call."""
        transport = self._transport
        if transport is None or not transport.notify_below(low_water):
            callback()
        elif callback not in self._when_writable:
            self._when_writable.append(callback)

    def _writable(self) -> None:
        callbacks, self._when_writable = self._when_writable, []
        for callback in callbacks:
            callback()

    def discard_output(self) -> int:
        """Drop the writes still queued for the port; how many bytes were dropped."""
        return self._transport.discard() if self._transport is not None else 0

    @handler("open")
    def open(self, port: str | None = None, baudrate: int | None = None, bufsize: int | None = None) -> None:
        """Open (or re-open) the port; ``error`` if that fails."""
        if self.connected:
            return
        self.port = port or self.port
        self.baudrate = baudrate or self.baudrate
        self.bufsize = bufsize or self.bufsize
        try:
            ser = pyserial.Serial(self.port, self.baudrate, timeout=0, write_timeout=0, **self.settings)
        except (pyserial.SerialException, OSError, ValueError) as e:
            self.fire(error(e))
            return
        os.set_blocking(ser.fileno(), False)
        self._serial = ser
        # The transport reads and writes the descriptor directly (pyserial's
        # own read/write would block or poll); closing it closes `ser`.
        self._transport = Transport(self.loop, ser, self, bufsize=self.bufsize, max_buffer=self.max_buffer,
                                    drop_on_overflow=True, read_burst=READ_BURST)
        self._last_fired = self.fire(opened(self.port, self.baudrate))
        self.fire(ready(self))

    # -- transport callbacks --------------------------------------------
    def transport_data(self, transport: Transport, data: bytes) -> None:
        reader = self.reader
        if reader is not None:
            last = self._last_fired
            if last is None or last.handled:
                self._last_fired = None
                reader(data)
                return
        self._last_fired = self.fire(read(data))

    def transport_error(self, transport: Transport, err: BaseException) -> None:
        self.fire(error(err))

    def transport_eof(self, transport: Transport) -> None:
        # A tty reads 0 bytes only once it was hung up (USB adapter pulled,
        # socat gone): to the user that is a failure like EIO, not a normal end.
        self.fire(error(OSError(errno.EIO, "the device hung up")))

    def transport_drained(self, transport: Transport) -> None:
        if self.on_drained is not None:
            self.on_drained()

    def transport_writable(self, transport: Transport) -> None:
        self._writable()

    def transport_closed(self, transport: Transport, reason: str | None) -> None:
        if transport is not self._transport:
            return
        self._transport = None
        self._serial = None
        self._writable()
        self.fire(closed("hangup" if reason == "eof" else reason))

    # -- requests ----------------------------------------------------------
    def send(self, data: bytes | bytearray | memoryview) -> int:
        """Queue ``data`` for the port now (a call, where ``write`` is an
        event): the bytes waiting for the port afterwards, so a caller can
        apply backpressure without asking again; -1, and nothing queued,
        while the port is closed."""
        transport = self._transport
        return -1 if transport is None else transport.write(data)

    @handler("write")
    def write(self, data: bytes | str) -> None:
        if self._transport is not None:
            self._transport.write(data.encode("utf-8") if isinstance(data, str) else data)

    @handler("close")
    def close(self) -> None:
        """Close once pending writes are done (a vanished device closes at once)."""
        if self._transport is not None:
            self._transport.close()

    @handler("stopped", channel="*")
    def _on_stopped(self, component: Any) -> None:
        transport = self._transport
        if component is self.root and transport is not None:
            # The last pass's writes go out as far as the port takes them
            # now; the loop is done, so nothing waits for the rest.
            transport.flush()
            transport.abort("stopped")
