"""UDPServer/UDPClient with real datagram peers, broadcast on the loopback network."""

from __future__ import annotations

import socket

import pytest

from circuits.net.sockets import UDP6Server, UDPClient, UDPServer, broadcast, close, write

from .helpers import TIMEOUT, ipv6_loopback_usable, running

#: The loopback network's broadcast address: datagrams never leave the machine.
LOOPBACK_BROADCAST = "127.255.255.255"


def udp_peer(family: int = socket.AF_INET, host: str = "127.0.0.1") -> socket.socket:
    peer = socket.socket(family, socket.SOCK_DGRAM)
    peer.bind((host, 0))
    peer.settimeout(TIMEOUT)
    return peer


def test_read_and_write_with_a_plain_peer():
    server = UDPServer(("127.0.0.1", 0))
    with running(server) as (app, rec):
        (ready,) = rec.wait_for("ready", "server")
        assert ready.args == [server, ("127.0.0.1", server.port)]
        peer = udp_peer()
        peer.sendto(b"datagram one", ("127.0.0.1", server.port))
        peer.sendto(b"datagram two", ("127.0.0.1", server.port))
        reads = rec.wait_for("read", "server", count=2)
        assert [e.args for e in reads] == [[peer.getsockname(), b"datagram one"],
                                           [peer.getsockname(), b"datagram two"]]
        # write(address, data): a tuple or "host:port"; str is sent as UTF-8.
        app.fire(write(peer.getsockname(), b"reply"), "server")
        assert peer.recvfrom(100) == (b"reply", ("127.0.0.1", server.port))
        app.fire(write(f"127.0.0.1:{peer.getsockname()[1]}", "r\u00e9ply"), "server")
        assert peer.recvfrom(100)[0] == "r\u00e9ply".encode()
        app.fire(close(), "server")
        rec.wait_for("closed", "server")
        assert not server.connected
        rec.sync(app)
        assert len(rec.of("ready")) == 1 and rec.of("error") == []


def test_two_circuits_endpoints_talk():
    a = UDPServer(("127.0.0.1", 0), channel="a")
    b = UDPClient(("127.0.0.1", 0), channel="b")
    with running(a, b) as (app, rec):
        rec.wait_for("ready", count=2)
        big = bytes(range(256)) * 200  # 51200 bytes: one datagram, read whole
        app.fire(write(("127.0.0.1", b.port), big), "a")
        (got,) = rec.wait_for("read", "b")
        assert got.args == [("127.0.0.1", a.port), big]
        app.fire(write(("127.0.0.1", a.port), b"back"), "b")
        (got,) = rec.wait_for("read", "a")
        assert got.args == [("127.0.0.1", b.port), b"back"]


def test_many_datagrams_in_order_none_lost_on_loopback():
    receiver = UDPServer(("127.0.0.1", 0), channel="rx", socket_options=[
        (socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)])
    sender = UDPClient(("127.0.0.1", 0), channel="tx")
    with running(receiver, sender) as (app, rec):
        rec.wait_for("ready", count=2)
        for i in range(500):
            app.fire(write(("127.0.0.1", receiver.port), b"%05d" % i), "tx")
        reads = rec.wait_for("read", "rx", count=500)
        assert [e.args[1] for e in reads] == [b"%05d" % i for i in range(500)]


def test_broadcast_on_the_loopback_network():
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("0.0.0.0", 0))  # a broadcast is delivered to wildcard-bound sockets
    listener.settimeout(TIMEOUT)
    port = listener.getsockname()[1]
    server = UDPServer(("127.0.0.1", 0), broadcast_address=LOOPBACK_BROADCAST)
    try:
        with running(server) as (app, rec):
            rec.wait_for("ready")
            app.fire(broadcast(b"to everybody", port), "server")
            data, source = listener.recvfrom(100)
            assert data == b"to everybody"
            assert source == ("127.0.0.1", server.port)
            rec.sync(app)
            assert rec.of("error") == []
    finally:
        listener.close()


def test_broadcast_defaults_to_the_limited_broadcast_address():
    # Not sent (it would leave the machine): only the address is checked.
    assert UDPServer(("127.0.0.1", 0)).broadcast_address == "<broadcast>"


def test_udp6():
    if not ipv6_loopback_usable():
        pytest.skip("IPv6 loopback (::1) is not usable on this machine")
    server = UDP6Server(("::1", 0))
    with running(server) as (app, rec):
        (ready,) = rec.wait_for("ready")
        assert ready.args[1] == ("::1", server.port)
        peer = udp_peer(socket.AF_INET6, "::1")
        peer.sendto(b"six", ("::1", server.port))
        (got,) = rec.wait_for("read")
        assert got.args == [peer.getsockname()[:2], b"six"]
        app.fire(write(peer.getsockname()[:2], b"back"), "server")
        assert peer.recvfrom(10)[0] == b"back"


def test_oversized_datagram_is_an_error_not_a_crash():
    server = UDPServer(("127.0.0.1", 0))
    with running(server) as (app, rec):
        rec.wait_for("ready")
        peer = udp_peer()
        app.fire(write(peer.getsockname(), b"x" * 70000), "server")  # > 65507: EMSGSIZE
        (err,) = rec.wait_for("error", "server")
        assert isinstance(err.args[1], OSError)
        app.fire(write(peer.getsockname(), b"fine"), "server")
        assert peer.recvfrom(10)[0] == b"fine"


def test_close_fires_disconnect_then_closed_as_3x_did():
    server = UDPServer(("127.0.0.1", 0))
    with running(server) as (app, rec):
        rec.wait_for("ready", "server")
        sock = server._sock
        app.fire(close(), "server")
        rec.wait_for("closed", "server")
        names = [e.name for e in rec.of("disconnect")] + [e.name for e in rec.of("closed")]
        assert names == ["disconnect", "closed"]
        assert rec.of("disconnect")[0].args == [sock]


def test_a_udp_server_made_as_a_root_keeps_its_event_queue():
    # The datagram queue once shared the name of the Manager's event queue.
    server = UDPServer(("127.0.0.1", 0))
    try:
        server.fire(write(("127.0.0.1", 9), b"x"))
        server.flush()
        assert server._datagrams is not server.root._circuits_queue
    finally:
        server.fire(close())
        server.flush()
