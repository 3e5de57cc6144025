"""Serial <-> TCP: any number of clients per device, none able to stall another.

Where ser2net's users complain, this does otherwise:

* A device that vanishes does not disconnect anyone: clients stay connected
  while :class:`DeviceLink` reopens the port, and data flows again after.
* Every client has its own bounded write queue (``client_buffer`` bytes,
  on top of what the kernel buffers).  A client that does not read fast
  enough is dropped when its queue is full; the device is never paused for
  it, so the other clients keep full speed.
* ``max_clients`` refuses connections beyond the limit (the new one is
  closed; existing clients are never kicked).
* A client sending faster than the port can take is paused, not cut
  short: once ``DEVICE_HIGH_WATER`` bytes wait for the device the clients
  are no longer read (TCP backpressure reaches the sender) until the queue
  is down to ``DEVICE_LOW_WATER``; nothing is dropped.
* ``tcp_mode`` says who may write to the device: everyone (``shared``),
  the longest-connected client (``one-writer``: the next one takes over
  when it leaves), or nobody (``read-only``).  Bytes from a client that may
  not write are discarded and counted, never written.

Bytes from the device go to every client; bytes from any client go to the
device.  The device's :class:`DeviceLink` (the one handler of the Serial's
``read``) calls :meth:`TcpBridge.device_data` with each chunk before parsing
it; the bridge handles its server's events on the TCP channel and moves
bytes by calling the server and the link directly; a known client's bytes
reach the bridge by a call too, so a round trip costs one event (the
device's ``read``), as cheap as ser2net's in C.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from circuits import BaseComponent, handler
from circuits.core.transport import BufferOverflow, Transport
from circuits.net.sockets import TCP6Server, TCPServer

from .access import PerAddressLog, guard_server
from .config import Address, DeviceConfig, TlsConfig
from .device import DeviceLink
from .events import BUS, client_connected, client_disconnected, device_channel, listening, tcp_channel

log = logging.getLogger(__name__)

#: Bytes read from a client per system call.
READ_SIZE = 65536
#: Bytes queued for the device past which its clients are not read, and
#: the level at which they are read again: far below the port's own limit
#: (DEVICE_BUFFER), so one more read per client still fits, and above zero,
#: so the port has data queued while the clients refill it.
DEVICE_HIGH_WATER = 256 * 1024
DEVICE_LOW_WATER = 64 * 1024


class BridgeServer(TCPServer):
    """The listener of one device: hands its clients' events to the bridge."""

    def __init__(self, bridge: TcpBridge, address: Address, **kwargs: Any) -> None:
        self.bridge = bridge
        super().__init__(tuple(address), **kwargs)

    @handler("connect")
    def _on_connect(self, sock: Any, host: Any = None, port: Any = None) -> None:
        self.bridge.client_connected(sock, host, port)

    def transport_data(self, transport: Transport, data: bytes) -> None:
        # The round trip's hot path: a client the bridge knows gets its
        # bytes handed over by a call, not a ``read`` event (an event costs
        # about a tenth of a 64-byte echo).  Before the bridge has seen the
        # client's ``connect`` the event keeps the order of the two.
        key = transport.tag.key
        if key in self.bridge.clients:
            self.bridge.client_data(key, data)
        else:
            super().transport_data(transport, data)

    @handler("read")
    def _on_read(self, sock: Any, data: bytes) -> None:
        self.bridge.client_data(sock, data)

    @handler("disconnect")
    def _on_disconnect(self, sock: Any) -> None:
        self.bridge.client_gone(sock)

    @handler("error")
    def _on_error(self, sock: Any, err: BaseException) -> None:
        self.bridge.client_error(sock, err)

    @handler("ready")
    def _on_ready(self, component: Any, bind: Any = None) -> None:
        if component is self:
            self.bridge.announce()


class BridgeServer6(BridgeServer):
    """The same for an IPv6 listen address."""

    socket_family = TCP6Server.socket_family


class TcpBridge(BaseComponent):
    """One device's TCP listener and its clients (see module doc)."""

    #: How the log names this listener's clients, and its URL scheme
    #: (:class:`gateway.rfc2217.Rfc2217Bridge` is a TcpBridge too).
    kind = "TCP"
    scheme = "tcp"

    def __init__(self, device: DeviceConfig, link: DeviceLink, address: Address | None = None,
                 channel: str | None = None) -> None:
        super().__init__(channel=device_channel(device.name))
        address = address if address is not None else device.tcp
        assert address is not None
        self.device = device.name
        self.link = link
        self.max_clients = device.max_clients
        self.clients: dict[Any, tuple[Any, Any]] = {}
        self._drop_reason: dict[Any, str] = {}
        #: When each client connected (wall clock), for the device page.
        self.since: dict[Any, float] = {}
        self.accepted = 0
        self.refused = 0
        self._refusals_log = PerAddressLog()
        self.dropped_slow = 0
        # RFC 2217 listeners (a subclass) read their clients themselves and
        # follow rfc2217_settings: tcp_mode is the raw listener's.
        self.mode = device.tcp_mode if self.kind == "TCP" else "shared"
        #: The client that may write in one-writer mode (None: nobody yet).
        self.writer: Any = None
        self.discarded = 0  # bytes from clients that may not write
        #: Times the clients were paused for a slow device.
        self.paused = 0
        self._paused = False
        server_class = self.server_classes()[":" in address.host]
        # Binding happens here, so a port in use fails start-up loudly
        # instead of a service that says "started" but cannot be reached.
        self.server = server_class(self, address, channel=channel or tcp_channel(device.name),
                                   max_buffer=device.client_buffer, bufsize=READ_SIZE,
                                   **tls_options(device.tls)).register(self)
        self.access = guard_server(self.server, device.name, device.allow)
        # Bound last: a listener that failed to bind never hears the device.
        link.attach(self.device_data)

    @staticmethod
    def server_classes() -> tuple[type[BridgeServer], type[BridgeServer]]:
        """The listener classes for an IPv4 and an IPv6 address."""
        return BridgeServer, BridgeServer6

    @property
    def address(self) -> tuple[Any, int | None]:
        return self.server.host, self.server.port

    # -- device -> every client --------------------------------------------

    @handler("unregistered", channel="*")
    def _on_unregistered(self, component: Any, manager: Any = None) -> None:
        if component is self:
            self.link.detach(self.device_data)

    def device_data(self, data: bytes) -> None:
        """Bytes from the device to every client: called by the link for
        each chunk read, before it is parsed (subclasses override this)."""
        write = self.server.write
        for sock in self.clients:
            write(sock, data)

    # -- clients (called by BridgeServer) ------------------------------------

    def client_data(self, sock: Any, data: bytes) -> None:
        if self.mode == "shared" or (self.mode == "one-writer" and sock is self.writer):
            self.to_device(data)
        else:
            self.discarded += len(data)

    def to_device(self, data: bytes) -> None:
        """Write client bytes to the device; pause the clients while it lags."""
        if self.link.queue(data) > DEVICE_HIGH_WATER and not self._paused:
            serial = self.link.serial
            self._paused = True
            self.paused += 1
            for sock in self.clients:
                self.server.pause_reading(sock)
            # Called once the port has caught up, or at once if it closed
            # meanwhile (what clients send to an offline device is dropped
            # and counted, as any write then).
            serial.when_writable(self._device_writable, DEVICE_LOW_WATER)

    def _device_writable(self) -> None:
        if not self._paused:
            return
        self._paused = False
        for sock in self.clients:
            self.server.resume_reading(sock)

    def client_connected(self, sock: Any, host: Any, port: Any) -> None:
        if self.max_clients is not None and len(self.clients) >= self.max_clients:
            self.refused += 1
            if self._refusals_log.due(str(host)):  # a client retrying in a loop must not fill the journal
                log.warning("%s: refusing %s client %s:%s: max_clients (%d) reached (further refusals of "
                            "%s are counted, logged at most once a minute)",
                            self.device, self.kind, host, port, self.max_clients, host)
            self.server.close(sock)
            self.fire(client_disconnected(self.device, (host, port), "max_clients", len(self.clients)), BUS)
            return
        self.clients[sock] = (host, port)
        self.since[sock] = time.time()
        if self._paused:
            self.server.pause_reading(sock)
        self.accepted += 1
        log.info("%s: %s client %s:%s connected (%d now)", self.device, self.kind, host, port,
                 len(self.clients))
        if self.mode == "one-writer" and self.writer is None:
            self._make_writer(sock)
        self.fire(client_connected(self.device, (host, port), len(self.clients)), BUS)

    def client_gone(self, sock: Any) -> None:
        peer = self.clients.pop(sock, None)
        self.since.pop(sock, None)
        reason = self._drop_reason.pop(sock, "closed")
        if peer is not None:
            log.info("%s: %s client %s:%s disconnected (%d left)", self.device, self.kind, *peer,
                     len(self.clients))
            self.fire(client_disconnected(self.device, peer, reason, len(self.clients)), BUS)
        if sock is self.writer:
            # The client connected longest takes over (dicts keep insertion order).
            self.writer = None
            if self.clients:
                self._make_writer(next(iter(self.clients)))

    def _make_writer(self, sock: Any) -> None:
        self.writer = sock
        log.info("%s: %s client %s:%s may write to the device (tcp_mode = one-writer)", self.device,
                 self.kind, *self.clients[sock])

    def client_error(self, sock: Any, err: BaseException) -> None:
        peer = self.clients.get(sock, ("?", "?"))
        if isinstance(err, BufferOverflow):
            self.dropped_slow += 1
            self._drop_reason[sock] = "too slow"
            log.warning("%s: dropping %s client %s:%s: it reads too slowly (%s)", self.device, self.kind,
                        *peer, err)
        else:
            log.info("%s: %s client %s:%s: %s", self.device, self.kind, *peer, err)

    def announce(self) -> None:
        host, port = self.address
        log.info("%s: listening on %s://%s", self.device, "tls" if self.server.secure else "tcp",
                 Address(host, port or 0))
        self.fire(listening(self.device, (host, port)), BUS)

    def retune(self, device: DeviceConfig) -> None:
        """Take ``device``'s ``max_clients``, ``allow`` and ``tcp_mode`` on the
        running listener (a reload): the clients stay, except those the new
        ``allow`` refuses, which are closed as if refused at accept."""
        self.max_clients = device.max_clients
        if device.allow is None:
            self.server.admit = self.access = None
        elif self.access is None:
            self.access = guard_server(self.server, device.name, device.allow)
        else:
            self.access.networks = device.allow  # the refusal count goes on
        if self.access is not None:
            for sock, (host, port) in list(self.clients.items()):
                if not self.access.allows(host):
                    log.warning("%s: closing %s client %s:%s: not in the new allow", self.device, self.kind,
                                host, port)
                    self._drop_reason[sock] = "not allowed"
                    self.server.close(sock)
        mode = device.tcp_mode if self.kind == "TCP" else "shared"
        if mode != self.mode:
            self.mode, self.writer = mode, None
            if mode == "one-writer" and self.clients:
                self._make_writer(next(iter(self.clients)))

    def stop(self) -> None:
        """Close the listener and every client (a reload removed or moved it)."""
        log.info("%s: closing the %s listener on %s and its %d client(s)", self.device, self.kind,
                 Address(str(self.address[0] or ""), self.address[1] or 0), len(self.clients))
        self.server.close()

    def statistics(self) -> dict[str, Any]:
        return {"clients": len(self.clients), "accepted": self.accepted, "refused": self.refused,
                "denied": self.access.refused if self.access is not None else 0,
                "dropped_slow": self.dropped_slow, "mode": self.mode, "discarded": self.discarded,
                "paused_for_device": self.paused,
                "writer": _peer(self.clients.get(self.writer)),
                "buffered": {f"{h}:{p}": self.server.buffered(s) for s, (h, p) in self.clients.items()}}


def tls_options(tls: TlsConfig | None) -> dict[str, Any]:
    """A stream server's TLS keywords for ``[tls]`` (none without it); the
    handshake is driven by the loop (circuits.net.server)."""
    if tls is None:
        return {}
    # Here, not at the top: only a device with [tls] needs ssl (libssl and
    # libcrypto are ~4 MB of RSS).
    import ssl

    return {"secure": True, "certfile": str(tls.certfile),
            "keyfile": None if tls.keyfile is None else str(tls.keyfile),
            "ca_certs": None if tls.client_ca is None else str(tls.client_ca),
            "cert_reqs": ssl.CERT_REQUIRED if tls.client_ca is not None else ssl.CERT_NONE,
            "handshake_timeout": tls.handshake_timeout}


def _peer(peer: tuple[Any, Any] | None) -> str | None:
    return None if peer is None else f"{peer[0]}:{peer[1]}"
