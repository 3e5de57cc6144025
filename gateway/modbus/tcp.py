"""Modbus TCP server in front of an RTU bus (Modbus Messaging on TCP/IP v1.0b).

Any number of clients; each may pipeline requests.  Every request goes to
the :class:`~.master.RtuMaster` queue of its client (first in, first sent)
and is answered with the client's own transaction id and unit id.  What
the gateway answers itself (Modbus Application Protocol 7):

* a request the codec refuses (unknown function, bad quantity): the codec's
  exception code (0x01, 0x02 or 0x03), without touching the bus;
* a unit above 247, or a read sent to unit 0: 0x0A (no path to it);
* the client's queue is full: 0x06; the unit does not answer: 0x0B.

A write to unit 0 is a broadcast: sent, and not answered (nothing answers a
broadcast on the bus).  A client whose stream cannot be framed (protocol id
not 0, a length outside 2..254) is closed; no other client notices.

Deadlines (``[device.modbus] client_idle`` / ``client_partial``): a client
that sends nothing and waits for no answer for ``client_idle`` seconds, or
that leaves a request unfinished (half an MBAP header, a cut ADU) for
``client_partial`` seconds, is closed: each holds a socket and a decoder,
and a half-sent request would otherwise be kept forever.  One sweep timer
checks all clients, so a busy client costs nothing per read.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from circuits import BaseComponent, handler
from circuits.core.loop import TimerHandle
from circuits.core.transport import Transport
from circuits.net.sockets import TCP6Server, TCPServer
from circuits.protocols.modbus import MbapDecoder, ModbusError, TcpAdu, decode_request, encode_adu, is_write
from circuits.protocols.modbus.pdu import ExceptionResponse
from circuits.protocols.modbus.rtu import MAX_UNIT

from ..access import guard_server
from ..config import Address, DeviceConfig
from ..events import BUS, part_ready
from .master import GATEWAY_PATH_UNAVAILABLE, Outcome, RtuMaster

log = logging.getLogger(__name__)

#: Bytes read from a client per system call: many pipelined requests.
READ_SIZE = 65536
#: Unsent answers after which a client that does not read is dropped.
CLIENT_BUFFER = 256 * 1024


def tcp_part(device: str) -> str:
    """The readiness part of a device's Modbus TCP listener."""
    return f"modbus_tcp:{device}"


class _Listener(TCPServer):
    def __init__(self, owner: ModbusTcpServer, address: Address, **kwargs: Any) -> None:
        self.owner = owner
        super().__init__(tuple(address), **kwargs)

    @handler("connect")
    def _on_connect(self, sock: Any, host: Any = None, port: Any = None) -> None:
        self.owner.connected(sock, host, port)

    def transport_data(self, transport: Transport, data: bytes) -> None:
        # The request's hot path: a client the server knows gets its bytes
        # by a call, not a ``read`` event (gateway.bridge does the same).
        # Before its ``connect`` was handled the event keeps the order.
        key = transport.tag.key
        if key in self.owner.clients:
            self.owner.received(key, data)
        else:
            super().transport_data(transport, data)

    @handler("read")
    def _on_read(self, sock: Any, data: bytes) -> None:
        self.owner.received(sock, data)

    @handler("disconnect")
    def _on_disconnect(self, sock: Any) -> None:
        self.owner.gone(sock)

    @handler("error")
    def _on_error(self, sock: Any, err: BaseException) -> None:
        log.info("%s: Modbus TCP client %s: %s", self.owner.device, self.owner.peer(sock), err)

    @handler("ready")
    def _on_ready(self, component: Any, bind: Any = None) -> None:
        if component is self:
            self.owner.announce()


class _Listener6(_Listener):
    socket_family = TCP6Server.socket_family


class _Client:
    __slots__ = ("peer", "decoder", "requests", "closing", "since", "heard", "partial_since", "waiting")

    def __init__(self, peer: tuple[Any, Any]) -> None:
        self.peer = peer
        self.since = time.time()  # for the device page
        self.decoder = MbapDecoder()
        self.requests = 0
        self.closing = False
        #: Loop clock times: the last bytes read, and when the unfinished
        #: request in the decoder began (None: nothing unfinished).
        self.heard = 0.0
        self.partial_since: float | None = None
        #: Requests sent on to the bus and not yet answered.
        self.waiting = 0


class ModbusTcpServer(BaseComponent):
    """One device's ``modbus_tcp`` listener and its clients (see module doc)."""

    def __init__(self, device: DeviceConfig, master: RtuMaster) -> None:
        assert device.modbus_tcp is not None
        super().__init__(channel=f"modbus_tcp.{device.name}")
        self.device = device.name
        self.master = master
        self.clients: dict[Any, _Client] = {}
        self.accepted = 0
        self.closed_bad = 0
        self.closed_idle = 0
        self.closed_partial = 0
        assert device.modbus is not None
        self.idle = device.modbus.client_idle
        self.partial = device.modbus.client_partial
        # Often enough that a deadline is overrun by at most a quarter of
        # itself (and never by more than a second).
        self.sweep_every = min(1.0, max(0.02, min(self.idle, self.partial) / 4))
        self._sweep: TimerHandle | None = None
        cls = _Listener6 if ":" in device.modbus_tcp.host else _Listener
        # Bound here: a port in use fails start-up, like ``tcp``.
        self.server = cls(self, device.modbus_tcp, channel=self.channel, bufsize=READ_SIZE,
                          max_buffer=CLIENT_BUFFER).register(self)
        self.access = guard_server(self.server, device.name, device.allow)

    @property
    def address(self) -> tuple[Any, int | None]:
        return self.server.host, self.server.port

    def peer(self, sock: Any) -> str:
        client = self.clients.get(sock)
        return f"{client.peer[0]}:{client.peer[1]}" if client is not None else "?"

    def announce(self) -> None:
        host, port = self.address
        log.info("%s: Modbus TCP on tcp://%s", self.device, Address(host, port or 0))
        self.fire(part_ready(tcp_part(self.device)), BUS)
        self._schedule_sweep()

    # -- deadlines -----------------------------------------------------------

    def _schedule_sweep(self) -> None:
        if self._sweep is None:
            self._sweep = self.loop.call_at(self.loop.clock.now() + self.sweep_every, self._swept)

    def _swept(self) -> None:
        self._sweep = None
        now = self.loop.clock.now()
        for sock, client in list(self.clients.items()):
            if client.closing:
                continue
            if client.partial_since is not None and now - client.partial_since > self.partial:
                self.closed_partial += 1
                self._close(sock, client, f"request unfinished for {self.partial:g}s "
                            f"({client.decoder.buffered} bytes of it)")
            elif (client.partial_since is None and not client.waiting
                  and now - client.heard > self.idle):
                self.closed_idle += 1
                self._close(sock, client, f"silent for {self.idle:g}s")
        self._schedule_sweep()

    def cancel(self) -> None:
        """Stop the sweep timer (the gateway stops, or a reload removes the device)."""
        if self._sweep is not None:
            self._sweep.cancel()
            self._sweep = None

    @handler("stopped", channel="*")
    def _on_stopped(self, component: Any) -> None:
        if component is self.root:
            self.cancel()

    def _close(self, sock: Any, client: _Client, why: str, level: int = logging.INFO) -> None:
        client.closing = True
        log.log(level, "%s: closing Modbus TCP client %s:%s: %s", self.device, *client.peer, why)
        self.master.forget(sock)
        self.server.close(sock)

    # -- clients -------------------------------------------------------------

    def connected(self, sock: Any, host: Any, port: Any) -> None:
        client = self.clients[sock] = _Client((host, port))
        client.heard = self.loop.clock.now()
        self.accepted += 1
        log.info("%s: Modbus TCP client %s:%s connected (%d now)", self.device, host, port, len(self.clients))

    def gone(self, sock: Any) -> None:
        client = self.clients.pop(sock, None)
        dropped = self.master.forget(sock)
        if client is not None:
            log.info("%s: Modbus TCP client %s:%s left (%d now)%s", self.device, *client.peer,
                     len(self.clients), f"; {dropped} queued requests dropped" if dropped else "")

    def received(self, sock: Any, data: bytes) -> None:
        client = self.clients.get(sock)
        if client is None or client.closing:
            return
        now = client.heard = self.loop.clock.now()
        decoder = client.decoder
        decoder.receive_data(data)
        try:
            while (adu := decoder.next_event()) is not None:
                self._request(sock, client, adu)
            # A request that began in this read (or still unfinished from
            # an earlier one) keeps its start time; trickling bytes do not
            # buy it more time.
            if not decoder.buffered:
                client.partial_since = None
            elif client.partial_since is None:
                client.partial_since = now
        except ModbusError as exc:
            # No way to find the next header in this stream: this client only.
            self.closed_bad += 1
            self._close(sock, client, str(exc), logging.WARNING)

    def _answer(self, sock: Any, client: _Client, adu: TcpAdu, pdu: bytes) -> None:
        if not client.closing and sock in self.clients:
            self.server.write(sock, encode_adu(adu.transaction, adu.unit, pdu))

    def _request(self, sock: Any, client: _Client, adu: TcpAdu) -> None:
        client.requests += 1
        pdu = adu.pdu
        try:
            request = decode_request(pdu)
        except ModbusError as exc:
            self._answer(sock, client, adu, ExceptionResponse(pdu[0] & 0x7F, exc.exception_code).encode())
            return
        unit = adu.unit
        if unit > MAX_UNIT or (unit == 0 and not is_write(pdu)):
            self._answer(sock, client, adu, ExceptionResponse(pdu[0], GATEWAY_PATH_UNAVAILABLE).encode())
            return
        clock = self.loop.clock
        write = self.server.write
        clients = self.clients

        # One closure per request, holding what the answer needs (a call
        # through self._answer would cost a frame more on every answer).
        def done(outcome: Outcome) -> None:
            client.waiting -= 1
            client.heard = clock.now()  # the idle time counts from the answer
            if outcome.pdu and not client.closing and sock in clients:  # a broadcast has no answer
                write(sock, encode_adu(adu.transaction, unit, outcome.pdu))

        client.waiting += 1
        # The client's PDU goes to the bus as it came (decode_request checked
        # it), and the answer's comes back checked, not decoded: relayed.
        self.master.submit(unit, request, done, sock, pdu, relay=True)

    def statistics(self) -> dict[str, Any]:
        return {"clients": len(self.clients), "accepted": self.accepted, "closed_bad": self.closed_bad,
                "closed_idle": self.closed_idle, "closed_partial": self.closed_partial,
                "requests": sum(c.requests for c in self.clients.values())}
