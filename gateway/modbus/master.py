"""The RTU bus master: one request on the wire at a time, fairly shared.

RTU is half-duplex and has no transaction ids, so a master sends one
request, waits for its answer (or a timeout), keeps the bus quiet for the
frame gap, and only then sends the next.  The gap is the silent interval
t3.5 (Modbus over Serial Line 2.5.1.1) unless ``[device.modbus] frame_gap``
says otherwise (0 for links that frame on their own: ptys, USB adapters,
TCP-serial converters).  The answer is complete when as many bytes as the
request calls for have arrived with a valid CRC (the decoder knows the
length from the request); no t3.5 is waited for there.  The gap counts from
the answer's last byte, so the time spent relaying it and receiving the
next request is part of it; a gap that has passed by the time the chunk
holding the answer is handled (always so with 0) sends the next request in
the same loop pass, with no timer, and before the answer is handed on: the
port's write goes out ahead of the TCP client's.  An answer that arrived
whole but failed its CRC is given up once the line has been silent for t3.5
(its tail has passed, and a good answer right behind noise would have been
found by then), not after the request's full timeout; that silence is the
spec's whatever the frame gap, since it decides where a damaged frame ends.
Everything here runs on the gateway's loop: the wait for an answer and the
gap are timers on its heap, the port is the
:class:`~gateway.device.DeviceLink`'s Serial (this component handles its
``opened``/``closed`` on the device channel; the link hands it the bytes
read, see :meth:`DeviceLink.attach`).

Requests come from *sources* (each Modbus TCP client, the poller).  Each
source has its own queue of at most ``queue`` requests; the master takes
one request from each source in turn, so a client that keeps its queue full
cannot starve the polls or the other clients.  A request's ``done`` callback
gets one :class:`Outcome`, always, exactly once.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Hashable
from typing import Any, NamedTuple

from serial.rs485 import RS485Settings

from circuits import BaseComponent, handler
from circuits.core.loop import TimerHandle
from circuits.protocols.modbus import (
    Discarded,
    ModbusError,
    RtuDecoder,
    RtuFrame,
    check_response,
    decode_response,
    encode_frame,
    silent_interval,
)
from circuits.protocols.modbus.pdu import ExceptionResponse, Request, Response
from circuits.protocols.modbus.rtu import character_time, expected_response_length

from ..config import DeviceConfig
from ..device import DeviceLink
from ..events import device_channel

log = logging.getLogger(__name__)

#: Modbus Application Protocol 7: exceptions a gateway answers itself.
SERVER_BUSY = 0x06
GATEWAY_PATH_UNAVAILABLE = 0x0A
GATEWAY_TARGET_FAILED = 0x0B

#: Outcome results, also the ``result`` label of the request counters.
OK, EXCEPTION, TIMEOUT, INVALID, OFFLINE, BUSY, BROADCAST = (
    "ok", "exception", "timeout", "invalid", "offline", "busy", "broadcast")


class Outcome(NamedTuple):
    """How one request ended.

    ``pdu`` is the response PDU to relay to a Modbus TCP client: the unit's
    own answer (``ok``, ``exception``), a gateway exception (``timeout``:
    0x0B, ``invalid``: 0x0B, ``offline``: 0x0A, ``busy``: 0x06) or empty
    for a broadcast, which is never answered.  ``response`` is the decoded
    answer for ``ok`` and ``exception`` (None for a request submitted with
    ``relay``).  A named tuple: one is made per request, and a frozen
    dataclass costs twice as much to build.
    """

    result: str
    pdu: bytes
    response: Response | None = None


Done = Callable[[Outcome], None]


class Transaction:
    """One request on its way through the master (a plain class: one is made per request)."""

    __slots__ = ("unit", "request", "done", "source", "pdu", "relay")

    def __init__(self, unit: int, request: Request, done: Done, source: Hashable,
                 pdu: bytes | None = None, relay: bool = False) -> None:
        self.unit = unit
        self.request = request
        self.done = done
        self.source = source
        #: The request's PDU; a Modbus TCP client's own bytes when given
        #: (decode_request checked them), so they are not encoded again.
        self.pdu = request.encode() if pdu is None else pdu
        #: The caller passes the answer's bytes on and never reads its
        #: values: the answer is checked, not decoded (Outcome.response None).
        self.relay = relay

    def failed(self, result: str, code: int) -> Outcome:
        """The outcome of a request the gateway answers itself with exception ``code``."""
        return Outcome(result, ExceptionResponse(self.request.function, code).encode())

    def fail(self, result: str, code: int) -> None:
        self.done(self.failed(result, code))


class RtuMaster(BaseComponent):
    """One device's bus (see module doc)."""

    def __init__(self, device: DeviceConfig, link: DeviceLink) -> None:
        super().__init__(channel=device_channel(device.name))
        assert device.modbus is not None
        self.device = device.name
        self.link = link
        self.timeout = device.modbus.timeout
        self.queue_limit = device.modbus.queue
        self.turnaround = device.modbus.turnaround
        self.silence = silent_interval(device.baudrate, device.bytesize, device.parity, device.stopbits)
        #: Seconds of quiet after an answer before the next request.
        self.gap = self.silence if device.modbus.frame_gap is None else device.modbus.frame_gap
        self.char_time = character_time(device.baudrate, device.bytesize, device.parity, device.stopbits)
        # Frames are found by their length (from the request) and CRC, and
        # no read timestamps are fed: ptys and USB adapters (latency timers)
        # deliver one frame in chunks with gaps longer than t3.5, so the
        # silence on our side of the driver cannot split frames.  expect()
        # skips anything but the answer.
        self.decoder = RtuDecoder("master")
        self._queues: dict[Hashable, deque[Transaction]] = {}
        self._turns: deque[Hashable] = deque()  # sources with work, in turn order
        self._current: Transaction | None = None
        #: The timeout timer and the current request's deadline.  The timer
        #: is not set and cancelled per request: it stays armed across
        #: answers, fires at an earlier request's deadline at most once per
        #: ``timeout``, and is then moved on to the current one.  Its time
        #: is never later than the current deadline.
        self._deadline: TimerHandle | None = None
        self._deadline_at = 0.0
        self._gap: TimerHandle | None = None
        self._resync: TimerHandle | None = None  # a damaged answer waits for silence
        #: The earliest the next request may go out (the gap, or a broadcast's turnaround).
        self._quiet_until = 0.0
        #: When the last bytes were read from the bus (the damaged answer's silence counts from it).
        self._heard = 0.0
        #: (unit, result) -> requests; the /metrics counters.
        self.counts: dict[tuple[int, str], int] = {}
        self.garbage_bytes = 0
        self.stray_frames = 0
        self.rs485 = device.modbus.rs485
        #: Why the kernel's RS-485 mode could not be turned on ("" when it is, or not asked).
        self.rs485_error = ""
        link.attach(self.device_data)

    # -- submitting ----------------------------------------------------------

    def submit(self, unit: int, request: Request, done: Done, source: Hashable,
               pdu: bytes | None = None, relay: bool = False) -> None:
        """Queue ``request`` for ``unit``; ``done`` is called with its :class:`Outcome`.

        ``pdu``: the request's encoding, when the caller has it already.
        ``relay``: the caller only passes the answer's bytes on; its
        :class:`Outcome` then has no decoded ``response``.
        """
        txn = Transaction(unit, request, done, source, pdu, relay)
        if not self.link.serial.connected:
            self._finish_failed(txn, OFFLINE, GATEWAY_PATH_UNAVAILABLE)
            return
        queue = self._queues.get(source)
        if queue is None:
            queue = self._queues[source] = deque()
        if len(queue) >= self.queue_limit:
            self._finish_failed(txn, BUSY, SERVER_BUSY)
            return
        if not queue:
            self._turns.append(source)
        queue.append(txn)
        self._kick()

    def forget(self, source: Hashable) -> int:
        """Drop what ``source`` still has queued (a client that left); returns how many."""
        queue = self._queues.pop(source, None)
        if not queue:
            return 0
        try:
            self._turns.remove(source)
        except ValueError:
            pass
        return len(queue)

    def pending(self, source: Hashable) -> int:
        queue = self._queues.get(source)
        return len(queue) if queue else 0

    @property
    def busy(self) -> bool:
        return self._current is not None

    # -- the bus -------------------------------------------------------------

    def _kick(self) -> None:
        if self._current is not None or self._gap is not None or not self._turns:
            return
        now = self.loop.clock.now()
        if now < self._quiet_until:
            # The frame gap (or a broadcast's turnaround) since the bus was last busy.
            self._gap = self.loop.call_at(self._quiet_until, self._gap_over)
            return
        self._send_next(now)

    def _gap_over(self) -> None:
        self._gap = None
        self._kick()

    def _take(self) -> Transaction:
        source = self._turns.popleft()
        queue = self._queues[source]
        txn = queue.popleft()
        if queue:
            self._turns.append(source)  # back of the line: the others go first
        else:
            del self._queues[source]
        return txn

    def _send_next(self, now: float) -> None:
        while self._turns:
            txn = self._take()
            if not self.link.serial.connected:
                self._finish_failed(txn, OFFLINE, GATEWAY_PATH_UNAVAILABLE)
                continue
            frame = encode_frame(txn.unit, txn.pdu)
            # The bytes are on the wire only after their character times.
            wire = len(frame) * self.char_time
            self.decoder.reset()
            self.link.send(frame)
            if txn.unit == 0:
                # Serial line 2.1: a broadcast is never answered; the units
                # need the turnaround delay to act on it before the next.
                self._quiet_until = now + wire + self.turnaround
                self._count(0, BROADCAST)
                txn.done(Outcome(BROADCAST, b""))
                self._kick()
                return
            self.decoder.expect(txn.unit, txn.request.function, expected_response_length(txn.request))
            self._current = txn
            deadline = self._deadline_at = now + wire + self.timeout
            timer = self._deadline
            if timer is None or timer.when > deadline:  # a long frame's deadline before a short one's
                if timer is not None:
                    timer.cancel()
                self._deadline = self.loop.call_at(deadline, self._timed_out)
            return

    @handler("unregistered", channel="*")
    def _on_unregistered(self, component: Any, manager: Any = None) -> None:
        if component is self:
            self.link.detach(self.device_data)

    def device_data(self, data: bytes) -> None:
        """Bytes from the bus, called by the link for each chunk read."""
        now = self._heard = self.loop.clock.now()
        quiet = now + self.gap
        if quiet > self._quiet_until:  # never shortens a broadcast's turnaround
            self._quiet_until = quiet
        decoder = self.decoder
        decoder.receive_data(data)
        # No callback runs inside this loop (they are called at the end): a
        # request sent from one would take the chunk's later frames for its
        # answer.
        answered: list[tuple[Transaction, Outcome]] = []
        while (event := decoder.next_event()) is not None:
            if type(event) is RtuFrame:
                ended = self._frame(event)
                if ended is not None:
                    answered.append(ended)
            else:
                assert isinstance(event, Discarded)
                self.garbage_bytes += event.count
                log.debug("%s: %d bytes on the bus were not a frame (%s)", self.device, event.count,
                          event.reason)
        if self._current is None:
            # Answered (or nothing was awaited): the next request, now if
            # the gap has passed already, else on a timer.
            self._kick()
        elif self._resync is None and decoder.answer_damaged:
            self._resync = self.loop.call_at(now + self.silence, self._resync_over)
        # The answers go to their callers after the next request was sent:
        # its bytes are queued for the port before theirs for the TCP
        # clients, so when the pass's writes go out the bus (the slowest
        # part) is fed first, and waking a client cannot delay it.
        for txn, outcome in answered:
            try:
                txn.done(outcome)
            except Exception:
                # One broken callback must not cost the others their answers.
                log.exception("%s: the callback of a request to unit %d failed", self.device, txn.unit)

    def _resync_over(self) -> None:
        """t3.5 after bytes of a damaged answer: give it up unless more bytes came."""
        self._resync = None
        txn = self._current
        if txn is None:
            return
        silent_from = self._heard + self.silence
        if self.loop.clock.now() < silent_from:  # the line was not silent yet
            self._resync = self.loop.call_at(silent_from, self._resync_over)
            return
        log.debug("%s: unit %d answered function %d with a bad CRC", self.device, txn.unit,
                  txn.request.function)
        self.decoder.reset()
        self._end(txn, INVALID)
        self._kick()  # the next request first, as in device_data
        txn.fail(INVALID, GATEWAY_TARGET_FAILED)

    def _frame(self, frame: RtuFrame) -> tuple[Transaction, Outcome] | None:
        """The request ``frame`` answers has ended: it and its outcome, for
        device_data to deliver (None: a frame nobody waited for)."""
        txn = self._current
        if txn is None:
            # A late answer to a request that timed out, or another master.
            self.stray_frames += 1
            return None
        response: Response | None = None
        try:
            if txn.relay:
                exception = check_response(frame.pdu, txn.request)
            else:
                response = decode_response(frame.pdu, txn.request)
                exception = isinstance(response, ExceptionResponse)
        except ModbusError as exc:
            log.warning("%s: unit %d answered function %d with a malformed response: %s",
                        self.device, txn.unit, txn.request.function, exc)
            self._end(txn, INVALID)
            return txn, txn.failed(INVALID, GATEWAY_TARGET_FAILED)
        result = EXCEPTION if exception else OK
        self._end(txn, result)
        return txn, Outcome(result, frame.pdu, response)

    def _timed_out(self) -> None:
        self._deadline = None
        txn = self._current
        if txn is None:
            return
        if self.loop.clock.now() < self._deadline_at:  # armed for an earlier request
            self._deadline = self.loop.call_at(self._deadline_at, self._timed_out)
            return
        log.debug("%s: unit %d did not answer function %d within %gs", self.device, txn.unit,
                  txn.request.function, self.timeout)
        # A partial answer may still trickle in: start the next frame clean.
        self.decoder.reset()
        self.decoder.expect(None)
        self._quiet_until = max(self._quiet_until, self.loop.clock.now() + self.gap)
        self._end(txn, TIMEOUT)
        self._kick()  # the next request first, as in device_data
        txn.fail(TIMEOUT, GATEWAY_TARGET_FAILED)

    def _end(self, txn: Transaction, result: str) -> None:
        """The bus is free again (the callback runs after, and may submit).

        The caller then sends the next request (``_kick``), before the
        callback: after the gap, which counts from the answer's last byte
        (device_data set it then), not from now: the time spent handling
        the answer is silence too.
        """
        self._current = None
        # The timeout timer stays armed (see __init__): the next request
        # would only set it again.
        if self._resync is not None:
            self._resync.cancel()
            self._resync = None
        self.decoder.expect(None)
        key = (txn.unit, result)
        counts = self.counts
        counts[key] = counts.get(key, 0) + 1

    def _finish_failed(self, txn: Transaction, result: str, code: int) -> None:
        self._count(txn.unit, result)
        txn.fail(result, code)

    def _count(self, unit: int, result: str) -> None:
        key = (unit, result)
        self.counts[key] = self.counts.get(key, 0) + 1

    # -- the port --------------------------------------------------------------

    @handler("opened")
    def _on_opened(self, *args: Any) -> None:
        if self.rs485:
            self._set_rs485()
        self.decoder.reset()
        self._quiet_until = self.loop.clock.now() + self.gap
        self._kick()

    def _set_rs485(self) -> None:
        """``rs485 = true``: the driver switches the transmitter (TIOCSRS485, RTS high while sending)."""
        port = self.link.serial.device
        if port is None:
            return
        try:
            port.rs485_mode = RS485Settings()
        except (ValueError, OSError) as exc:
            # pyserial wraps the ioctl's error (ENOTTY: no RS-485 in this
            # driver) in a ValueError. The bus is still served: many
            # adapters switch direction by themselves.
            self.rs485_error = str(exc)
            log.error("%s: rs485 = true, but %s has no kernel RS-485 mode (%s); use an adapter that "
                      "switches direction itself, or set rs485 = false", self.device, self.link.path, exc)
        else:
            self.rs485_error = ""

    @handler("closed")
    def _on_closed(self, *args: Any) -> None:
        """The port is gone: whatever waits for the bus fails now (0x0A)."""
        txn, self._current = self._current, None
        for timer in (self._deadline, self._resync):
            if timer is not None:
                timer.cancel()
        self._deadline = self._resync = None
        waiting = [t for q in self._queues.values() for t in q]
        self._queues.clear()
        self._turns.clear()
        for t in ([txn] if txn is not None else []) + waiting:
            self._finish_failed(t, OFFLINE, GATEWAY_PATH_UNAVAILABLE)

    @handler("stopped", channel="*")
    def _on_stopped(self, component: Any) -> None:
        if component is self.root:
            self.cancel()

    def cancel(self) -> None:
        """Cancel the bus timers (the gateway stops, or a reload removes the device)."""
        for timer in (self._deadline, self._gap, self._resync):
            if timer is not None:
                timer.cancel()
        self._deadline = self._gap = self._resync = None

    def statistics(self) -> dict[str, Any]:
        return {
            "busy": self.busy, "queued": sum(len(q) for q in self._queues.values()),
            "garbage_bytes": self.garbage_bytes, "stray_frames": self.stray_frames,
            "rs485": self.rs485, "rs485_error": self.rs485_error,
            "requests": {f"{unit}:{result}": n for (unit, result), n in sorted(self.counts.items())},
        }
