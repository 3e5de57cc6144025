"""Stream servers and clients (TCP, TCP over IPv6, UNIX) with real peers.

Every test runs for each family; the peer is either a plain blocking socket
in the test thread or a circuits client in the same application.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from dataclasses import dataclass
from typing import Any

import pytest

from circuits import handler
from circuits.net.sockets import (
    TCP6Client,
    TCP6Server,
    TCPClient,
    TCPServer,
    UNIXClient,
    UNIXServer,
    close,
    connect,
    write,
)

from .helpers import (
    TIMEOUT,
    free_unix_path,
    ipv6_loopback_usable,
    joined,
    payload,
    recv_exactly,
    recv_until_eof,
    running,
    spawn,
)


@dataclass
class Family:
    name: str
    server: type
    client: type
    sock_family: int
    host: str | None  # None for UNIX

    def bind(self, tmp_path: Any) -> Any:
        return free_unix_path(tmp_path) if self.host is None else (self.host, 0)

    def address(self, server: Any) -> Any:
        return server.host if self.host is None else (self.host, server.port)

    def connect_args(self, server: Any) -> tuple[Any, ...]:
        return (server.host,) if self.host is None else (self.host, server.port)

    def peer(self, server: Any) -> socket.socket:
        sock = socket.socket(self.sock_family, socket.SOCK_STREAM)
        sock.settimeout(TIMEOUT)
        sock.connect(self.address(server))
        return sock


FAMILIES = {
    "tcp": Family("tcp", TCPServer, TCPClient, socket.AF_INET, "127.0.0.1"),
    "tcp6": Family("tcp6", TCP6Server, TCP6Client, socket.AF_INET6, "::1"),
    "unix": Family("unix", UNIXServer, UNIXClient, socket.AF_UNIX, None),
}


@pytest.fixture(params=list(FAMILIES))
def family(request: pytest.FixtureRequest) -> Family:
    fam = FAMILIES[request.param]
    if fam.name == "tcp6" and not ipv6_loopback_usable():
        pytest.skip("IPv6 loopback (::1) is not usable on this machine")
    return fam


class EchoServerMixin:
    """The echo server of the homepage: a read handler's return value is written back."""

    @handler("read")
    def on_read(self, sock: Any, data: bytes) -> bytes:
        return data


def echo_server(family: Family, tmp_path: Any, **kwargs: Any) -> Any:
    cls = type(f"Echo{family.server.__name__}", (EchoServerMixin, family.server), {})
    return cls(family.bind(tmp_path), **kwargs)


def joined_reads(events: list[Any]) -> bytes:
    return b"".join(e.args[-1] for e in events)


# -- server events -----------------------------------------------------------
def test_server_events_carry_the_documented_arguments(family, tmp_path):
    server = family.server(family.bind(tmp_path))
    with running(server) as (app, rec):
        (ready,) = rec.wait_for("ready", "server")
        assert ready.args[0] is server
        if family.host is None:
            assert ready.args[1] == server.host == str(tmp_path / "s.sock")
        else:
            assert ready.args[1] == (family.host, server.port) and server.port > 0

        peer = family.peer(server)
        (conn,) = rec.wait_for("connect", "server")
        sock = conn.args[0]
        if family.host is None:
            assert conn.args == [sock]  # a UNIX peer has no (host, port)
        else:
            local = peer.getsockname()
            assert conn.args == [sock, local[0], local[1]]

        peer.sendall(b"hello")
        rec.wait_for("read", "server", where=lambda e: joined_reads(rec.of("read", "server")) == b"hello")
        assert all(e.args[0] is sock for e in rec.of("read", "server"))

        app.fire(write(sock, b"world"), "server")
        assert recv_exactly(peer, 5) == b"world"
        app.fire(write(sock, "text is sent as UTF-8: \u00e9"), "server")
        assert recv_exactly(peer, 25) == "text is sent as UTF-8: \u00e9".encode()

        peer.close()
        (disc,) = rec.wait_for("disconnect", "server")
        assert disc.args == [sock]
        rec.sync(app)
        assert len(rec.of("disconnect")) == 1
        assert len(rec.of("ready")) == 1
        assert server.clients == []
        assert rec.of("error") == []


def test_read_handler_return_value_is_written_back(family, tmp_path):
    server = echo_server(family, tmp_path)
    with running(server) as (_app, rec):
        rec.wait_for("ready")
        peers = [family.peer(server) for _ in range(3)]
        for i, peer in enumerate(peers):
            peer.sendall(b"ping %d" % i)
        for i, peer in enumerate(peers):
            assert recv_exactly(peer, 6) == b"ping %d" % i
        for peer in peers:
            peer.close()
        rec.wait_for("disconnect", count=3)


def test_client_events_carry_the_documented_arguments(family, tmp_path):
    server = echo_server(family, tmp_path)
    client = family.client()
    with running(server, client) as (app, rec):
        rec.wait_for("ready", "server")
        (ready,) = rec.wait_for("ready", "client")
        assert ready.args[0] is client

        app.fire(connect(*family.connect_args(server)), "client")
        (conn,) = rec.wait_for("connected", "client")
        if family.host is None:
            assert conn.args == [server.host, None]
        else:
            assert conn.args == [family.host, server.port]
        assert client.connected

        app.fire(write(b"echo me"), "client")
        rec.wait_for("read", "client", where=lambda e: joined_reads(rec.of("read", "client")) == b"echo me")
        assert all(len(e.args) == 1 for e in rec.of("read", "client"))

        app.fire(close(), "client")
        (disc,) = rec.wait_for("disconnected", "client")
        assert disc.args == []
        rec.wait_for("disconnect", "server")
        rec.sync(app)
        assert len(rec.of("disconnected")) == 1 and len(rec.of("disconnect")) == 1
        assert not client.connected
        assert len(rec.of("ready", "client")) == 1
        assert rec.of("error") == [] and rec.of("unreachable") == []


def test_client_disconnected_when_the_server_closes(family, tmp_path):
    server = family.server(family.bind(tmp_path))
    client = family.client()
    with running(server, client) as (app, rec):
        rec.wait_for("ready", "server")
        app.fire(connect(*family.connect_args(server)), "client")
        rec.wait_for("connected", "client")
        (conn,) = rec.wait_for("connect", "server")
        app.fire(close(conn.args[0]), "server")
        rec.wait_for("disconnected", "client")
        rec.wait_for("disconnect", "server")
        rec.sync(app)
        assert len(rec.of("disconnected")) == 1 and len(rec.of("disconnect")) == 1


# -- byte-exact transfers ------------------------------------------------------
MIB = 1 << 20


@pytest.mark.parametrize("direction", ["up", "down", "both"])
def test_one_mib_byte_exact_with_a_plain_peer(family, tmp_path, direction):
    up, down = payload(MIB, seed=1), payload(MIB, seed=2)
    server = family.server(family.bind(tmp_path))
    with running(server) as (app, rec):
        rec.wait_for("ready")
        peer = family.peer(server)
        (conn,) = rec.wait_for("connect")
        sock = conn.args[0]
        sender = None
        if direction in ("up", "both"):
            sender = spawn(lambda: peer.sendall(up))
        if direction in ("down", "both"):
            app.fire(write(sock, down), "server")
            assert recv_exactly(peer, MIB) == down
        if sender is not None:
            joined(*sender)
            rec.wait(lambda: sum(len(e.args[1]) for e in rec.of("read")) >= MIB, what="1 MiB read")
            assert joined_reads(rec.of("read")) == up
        peer.close()
        rec.wait_for("disconnect")


def test_one_mib_both_ways_at_once_between_circuits_client_and_server(family, tmp_path):
    up, down = payload(MIB, seed=3), payload(MIB, seed=4)
    server = family.server(family.bind(tmp_path))
    client = family.client(bufsize=65536)
    with running(server, client) as (app, rec):
        rec.wait_for("ready", "server")
        app.fire(connect(*family.connect_args(server)), "client")
        rec.wait_for("connected", "client")
        (conn,) = rec.wait_for("connect", "server")
        # Written in pieces, interleaved, both directions in flight at once.
        for i in range(0, MIB, 128 * 1024):
            app.fire(write(up[i:i + 128 * 1024]), "client")
            app.fire(write(conn.args[0], down[i:i + 128 * 1024]), "server")
        rec.wait(lambda: sum(len(e.args[-1]) for e in rec.of("read", "server")) >= MIB
                 and sum(len(e.args[-1]) for e in rec.of("read", "client")) >= MIB, what="1 MiB each way")
        assert joined_reads(rec.of("read", "server")) == up
        assert joined_reads(rec.of("read", "client")) == down
        assert rec.of("error") == [] and rec.of("disconnect") == []


# -- constructor parameters ------------------------------------------------------
def test_bufsize_bounds_each_read(family, tmp_path):
    data = payload(100_000)
    server = family.server(family.bind(tmp_path), bufsize=1000)
    client = family.client(bufsize=777)
    with running(server, client) as (app, rec):
        rec.wait_for("ready", "server")
        app.fire(connect(*family.connect_args(server)), "client")
        rec.wait_for("connected", "client")
        (conn,) = rec.wait_for("connect", "server")
        app.fire(write(data), "client")
        app.fire(write(conn.args[0], data), "server")
        rec.wait(lambda: sum(len(e.args[-1]) for e in rec.of("read", "server")) >= len(data)
                 and sum(len(e.args[-1]) for e in rec.of("read", "client")) >= len(data))
        assert max(len(e.args[-1]) for e in rec.of("read", "server")) <= 1000
        assert max(len(e.args[-1]) for e in rec.of("read", "client")) <= 777
        assert joined_reads(rec.of("read", "server")) == data == joined_reads(rec.of("read", "client"))


def test_backlog_is_passed_to_listen(family, tmp_path):
    if shutil.which("ss") is None:
        pytest.skip("needs ss(8) to read a listening socket's backlog")
    server = family.server(family.bind(tmp_path), backlog=37)
    try:
        if family.host is None:
            args = ["ss", "-lxH", "src", server.host]
        else:
            args = ["ss", "-ltnH", f"sport = :{server.port}"]
        out = subprocess.run(args, capture_output=True, text=True, check=True, timeout=10).stdout
        line = next(ln for ln in out.splitlines() if ln.strip())
        assert line.split()[3 if family.host is None else 2] == "37", out
    finally:
        server.close()


def test_socket_options_are_applied(family, tmp_path):
    options = [(socket.SOL_SOCKET, socket.SO_RCVBUF, 32768), (socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)]
    server = family.server(family.bind(tmp_path), socket_options=options)
    client = family.client(socket_options=[(socket.SOL_SOCKET, socket.SO_SNDBUF, 40960)])
    with running(server, client) as (app, rec):
        rec.wait_for("ready", "server")
        listening = server._sock
        # Linux doubles the value it is given (room for bookkeeping).
        assert listening.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) == 65536
        assert listening.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
        app.fire(connect(*family.connect_args(server)), "client")
        rec.wait_for("connected", "client")
        assert client._sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) == 81920


def test_ready_fires_once_when_registered_before_start(family, tmp_path):
    server = family.server(family.bind(tmp_path))
    client = family.client()
    with running(server, client) as (app, rec):
        rec.wait_for("ready", count=2)
        rec.sync(app, rounds=3)
        assert [e.args[0] for e in rec.of("ready")].count(server) == 1
        assert [e.args[0] for e in rec.of("ready")].count(client) == 1


def test_server_close_closes_listener_and_clients(family, tmp_path):
    server = family.server(family.bind(tmp_path))
    with running(server) as (app, rec):
        rec.wait_for("ready")
        address = family.address(server)
        peers = [family.peer(server) for _ in range(2)]
        rec.wait_for("connect", count=2)
        app.fire(close(), "server")
        rec.wait_for("closed", "server")
        for peer in peers:
            assert recv_until_eof(peer) == b""
        rec.wait_for("disconnect", count=2)
        assert not server.connected
        probe_sock = socket.socket(family.sock_family, socket.SOCK_STREAM)
        with pytest.raises((ConnectionRefusedError, FileNotFoundError)):
            probe_sock.connect(address)
        probe_sock.close()
        if family.host is None:
            assert not os.path.exists(address), "the socket file is removed on close"
        rec.sync(app)
        assert len(rec.of("closed")) == 1 and len(rec.of("disconnect")) == 2


# -- the flexible bind parameter ---------------------------------------------------
def _serves(server: Any, address: Any, sock_family: int) -> None:
    with running(server) as (_app, rec):
        (ready,) = rec.wait_for("ready")
        peer = socket.socket(sock_family, socket.SOCK_STREAM)
        peer.settimeout(TIMEOUT)
        peer.connect(address(ready.args[1]))
        rec.wait_for("connect")
        peer.close()
        rec.wait_for("disconnect")


def test_bind_int_port_listens_on_all_ipv4_interfaces():
    server = TCPServer(0)
    assert server.host == "0.0.0.0" and server.port > 0
    _serves(server, lambda bind: ("127.0.0.1", bind[1]), socket.AF_INET)


@pytest.mark.parametrize("bind", [("127.0.0.1", 0), ["127.0.0.1", 0], "127.0.0.1:0", ("localhost", 0)])
def test_bind_forms_tcp(bind):
    server = TCPServer(bind)
    assert server.host == "127.0.0.1"
    _serves(server, lambda b: b, socket.AF_INET)


@pytest.mark.parametrize("cls", [TCP6Server, TCPServer])
@pytest.mark.parametrize("bind", ["[::1]:0", ("::1", 0)])
def test_bind_forms_ipv6(cls, bind):
    if not ipv6_loopback_usable():
        pytest.skip("IPv6 loopback (::1) is not usable on this machine")
    server = cls(bind)
    assert server.host == "::1"
    _serves(server, lambda b: b, socket.AF_INET6)


def test_bind_path_for_unix(tmp_path):
    path = free_unix_path(tmp_path)
    server = UNIXServer(path)
    assert server.host == path and server.port is None
    _serves(server, lambda b: b, socket.AF_UNIX)


def test_unix_server_replaces_a_stale_socket_file_but_not_a_live_one(tmp_path):
    path = free_unix_path(tmp_path)
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(path)
    stale.close()  # the file stays: a crashed server's leftover
    server = UNIXServer(path)
    try:
        with pytest.raises(OSError):
            UNIXServer(path)  # somebody listens there: do not steal the path
        assert server.connected
        peer = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        peer.connect(path)  # still the first server's socket
        peer.close()
    finally:
        server.close()
    with open(os.path.join(tmp_path, "file"), "w") as f:
        f.write("not a socket")
    with pytest.raises(OSError):
        UNIXServer(os.path.join(tmp_path, "file"))


def test_a_listening_socket_closed_behind_the_loops_back_does_not_break_the_next_socket():
    # 3.x code closes server._sock itself; epoll forgets the number, the loop
    # did not, and the next socket gets that number.
    server = TCPServer(("127.0.0.1", 0))
    client = TCPClient()
    with running(server, client) as (app, rec):
        rec.wait_for("ready", "server")
        port = server.port
        server._sock.close()
        app.fire(connect("127.0.0.1", port), "client")
        (event,) = rec.wait_for("unreachable", "client")
        assert isinstance(event.args[2], ConnectionRefusedError)
        assert rec.of("exception") == []
