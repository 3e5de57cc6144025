"""A transport never waits forever on a peer: closing and TLS handshakes time out."""

from __future__ import annotations

import socket
import ssl

from circuits import Manager
from circuits.core.clock import FakeClock
from circuits.core.transport import Transport
from circuits.core.transport_owner import TransportOwner

from .helpers import settle


class Owner(TransportOwner):
    def __init__(self) -> None:
        self.closed: list[str | None] = []
        self.errors: list[BaseException] = []

    def transport_closed(self, transport: Transport, reason: str | None) -> None:
        self.closed.append(reason)

    def transport_error(self, transport: Transport, error: BaseException) -> None:
        self.errors.append(error)


def test_close_with_a_peer_that_never_reads_gives_up_after_the_timeout() -> None:
    app = Manager()
    clock = app.loop.clock = FakeClock()
    ours, peer = socket.socketpair()
    try:
        ours.setblocking(False)
        owner = Owner()
        transport = Transport(app.loop, ours, owner, close_timeout=5.0)
        transport.write(b"x" * (2 << 20))  # far more than the socket buffers hold
        assert transport.buffered > 0
        transport.close()
        app.tick(0)
        assert owner.closed == [] and not transport.closed  # still draining
        clock.advance(4.9)
        app.tick(0)
        assert owner.closed == []
        clock.advance(0.2)
        settle(app, lambda: transport.closed)
        assert owner.closed == ["close timeout"]
    finally:
        peer.close()
        app.loop.close()


def test_a_peer_that_never_does_its_tls_handshake_is_dropped() -> None:
    app = Manager()
    clock = app.loop.clock = FakeClock()
    ours, peer = socket.socketpair()
    try:
        ours.setblocking(False)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        tls = context.wrap_socket(ours, do_handshake_on_connect=False)
        owner = Owner()
        transport = Transport(app.loop, tls, owner, handshake=True, handshake_timeout=10.0)
        app.tick(0)  # sends its ClientHello; the peer never answers
        clock.advance(9.0)
        app.tick(0)
        assert not transport.closed
        clock.advance(1.5)
        settle(app, lambda: transport.closed)
        assert owner.closed == ["handshake timeout"]
    finally:
        peer.close()
        app.loop.close()
