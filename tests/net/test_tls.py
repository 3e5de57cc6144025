"""TLS: secure servers and clients, handshakes driven by the poller, STARTTLS."""

from __future__ import annotations

import socket
import ssl
from typing import Any

import pytest

from circuits import handler
from circuits.net.sockets import TCPClient, TCPServer, close, connect, starttls, write

from .helpers import TIMEOUT, joined, payload, recv_exactly, recv_until, running, spawn


class EchoTLSServer(TCPServer):
    @handler("read")
    def on_read(self, sock: Any, data: bytes) -> bytes:
        return data


def tls_server(certificate: tuple[str, str], cls: type = EchoTLSServer, **kwargs: Any) -> Any:
    certfile, keyfile = certificate
    return cls(("127.0.0.1", 0), secure=True, certfile=certfile, keyfile=keyfile, **kwargs)


def client_context(certificate: tuple[str, str]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=certificate[0])


def tls_peer(server: Any, certificate: tuple[str, str], hostname: str = "localhost") -> ssl.SSLSocket:
    raw = socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT)
    return client_context(certificate).wrap_socket(raw, server_hostname=hostname)


def joined_reads(events: list[Any]) -> bytes:
    return b"".join(e.args[-1] for e in events)


def test_secure_server_with_a_plain_python_tls_peer(certificate):
    server = tls_server(certificate)
    with running(server) as (app, rec):
        rec.wait_for("ready")
        peer = tls_peer(server, certificate)  # the handshake completes: the server drove it
        (conn,) = rec.wait_for("connect", "server")
        sock, host, port = conn.args
        assert isinstance(sock, ssl.SSLSocket)
        assert (host, port) == peer.getsockname()[:2]
        peer.sendall(b"secret")
        assert recv_exactly(peer, 6) == b"secret"
        reads = rec.of("read", "server")
        assert joined_reads(reads) == b"secret" and all(e.args[0] is sock for e in reads)
        peer.close()
        (disc,) = rec.wait_for("disconnect", "server")
        assert disc.args == [sock]


def test_secure_client_verifies_the_server(certificate):
    server = tls_server(certificate)
    client = TCPClient()
    with running(server, client) as (app, rec):
        rec.wait_for("ready", "server")
        for n, host in enumerate(["127.0.0.1", "localhost"], 1):
            app.fire(connect(host, server.port, secure=True, ca_certs=certificate[0]), "client")
            (conn,) = rec.wait_for("connected", "client", count=n)[n - 1:]
            assert conn.args == [host, server.port]
            assert client.connected
            app.fire(write(b"over tls %d" % n), "client")
            rec.wait(lambda n=n: joined_reads(rec.of("read", "client")).endswith(b"over tls %d" % n))
            app.fire(close(), "client")
            rec.wait_for("disconnected", "client", count=n)
        rec.wait_for("disconnect", "server", count=2)
        assert rec.of("unreachable") == [] and rec.of("error") == []


def test_secure_client_without_verification(certificate):
    server = tls_server(certificate)
    client = TCPClient()
    with running(server, client) as (app, rec):
        rec.wait_for("ready", "server")
        app.fire(connect("127.0.0.1", server.port, secure=True, verify=False), "client")
        rec.wait_for("connected", "client")
        app.fire(write(b"unverified"), "client")
        rec.wait(lambda: joined_reads(rec.of("read", "client")) == b"unverified")


def test_secure_client_rejects_an_unknown_certificate(certificate):
    server = tls_server(certificate)
    client = TCPClient()
    with running(server, client) as (app, rec):
        rec.wait_for("ready", "server")
        app.fire(connect("127.0.0.1", server.port, secure=True), "client")  # system CAs only
        (event,) = rec.wait_for("unreachable", "client")
        assert event.args[:2] == ["127.0.0.1", server.port]
        assert isinstance(event.args[2], ssl.SSLCertVerificationError)
        rec.wait_for("error", "server")  # the server sees the failed handshake...
        rec.sync(app)
        assert rec.of("connected") == [] and rec.of("disconnected") == []
        assert rec.of("connect", "server") == [] and rec.of("disconnect") == []  # ...but no connection
        assert len(rec.of("unreachable")) == 1 and server.clients == []


def test_secure_client_rejects_a_wrong_hostname(certificate):
    server = tls_server(certificate)
    client = TCPClient()
    with running(server, client) as (app, rec):
        rec.wait_for("ready", "server")
        app.fire(connect("127.0.0.1", server.port, secure=True, ca_certs=certificate[0],
                         server_hostname="not-the-name.test"), "client")
        (event,) = rec.wait_for("unreachable", "client")
        assert isinstance(event.args[2], ssl.SSLCertVerificationError)


def test_a_stalled_handshake_does_not_stop_other_clients(certificate):
    server = tls_server(certificate)
    with running(server) as (app, rec):
        rec.wait_for("ready")
        # Connects but never sends its ClientHello.
        silent = socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT)
        # Sends half a ClientHello and stops.
        half = socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT)
        half.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
        try:
            for i in range(3):
                peer = tls_peer(server, certificate)
                peer.sendall(b"served %d" % i)
                assert recv_exactly(peer, 8) == b"served %d" % i
                peer.close()
            rec.wait_for("disconnect", count=3)
            assert len(rec.of("connect")) == 3  # the stalled ones are not connections yet
        finally:
            silent.close()
            half.close()


def test_garbage_instead_of_a_handshake_is_an_error_not_a_crash(certificate):
    server = tls_server(certificate)
    with running(server) as (app, rec):
        rec.wait_for("ready")
        garbage = socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT)
        garbage.sendall(b"GET / HTTP/1.0\r\n\r\n")
        (err,) = rec.wait_for("error", "server")
        assert isinstance(err.args[1], ssl.SSLError)
        garbage.close()
        peer = tls_peer(server, certificate)
        peer.sendall(b"still alive")
        assert recv_exactly(peer, 11) == b"still alive"
        rec.sync(app)
        assert len(rec.of("connect")) == 1


def test_one_mib_both_ways_over_tls(certificate):
    up, down = payload(1 << 20, seed=7), payload(1 << 20, seed=8)
    certfile, keyfile = certificate
    server = TCPServer(("127.0.0.1", 0), secure=True, certfile=certfile, keyfile=keyfile)
    client = TCPClient(bufsize=65536)
    with running(server, client) as (app, rec):
        rec.wait_for("ready", "server")
        app.fire(connect("127.0.0.1", server.port, secure=True, ca_certs=certfile), "client")
        rec.wait_for("connected", "client")
        (conn,) = rec.wait_for("connect", "server")
        for i in range(0, len(up), 256 * 1024):
            app.fire(write(up[i:i + 256 * 1024]), "client")
            app.fire(write(conn.args[0], down[i:i + 256 * 1024]), "server")
        rec.wait(lambda: sum(len(e.args[-1]) for e in rec.of("read", "server")) >= len(up)
                 and sum(len(e.args[-1]) for e in rec.of("read", "client")) >= len(down), what="1 MiB each way")
        assert joined_reads(rec.of("read", "server")) == up
        assert joined_reads(rec.of("read", "client")) == down


class StartTLSServer(TCPServer):
    """A line protocol: "STARTTLS" upgrades the connection; anything else is echoed."""

    @handler("read")
    def on_read(self, sock: Any, data: bytes) -> bytes | None:
        if data == b"STARTTLS\r\n":
            self.fire(write(sock, b"GO AHEAD\r\n"))
            self.fire(starttls(sock))
            self.fire(write(sock, b"WELCOME (encrypted)\r\n"))  # waits for the upgrade
            return None
        return data


def test_starttls_upgrades_a_plain_connection(certificate):
    certfile, keyfile = certificate
    server = StartTLSServer(("127.0.0.1", 0), certfile=certfile, keyfile=keyfile)
    with running(server) as (app, rec):
        rec.wait_for("ready")
        raw = socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT)
        (conn,) = rec.wait_for("connect")
        sock = conn.args[0]
        raw.sendall(b"plain\r\n")
        assert recv_exactly(raw, 7) == b"plain\r\n"
        raw.sendall(b"STARTTLS\r\n")
        assert recv_until(raw, b"\r\n") == b"GO AHEAD\r\n"  # still plain text
        tls = client_context(certificate).wrap_socket(raw, server_hostname="localhost")
        assert recv_until(tls, b"\r\n") == b"WELCOME (encrypted)\r\n"
        tls.sendall(b"secret\r\n")
        assert recv_exactly(tls, 8) == b"secret\r\n"
        # The connection keeps its identity: same sock in every event, one connect.
        reads = rec.wait_for("read", where=lambda e: e.args[1] == b"secret\r\n")
        assert reads[0].args[0] is sock
        app.fire(write(sock, b"by the old handle\r\n"), "server")
        assert recv_until(tls, b"\r\n") == b"by the old handle\r\n"
        tls.close()
        (disc,) = rec.wait_for("disconnect")
        assert disc.args == [sock]
        rec.sync(app)
        assert len(rec.of("connect")) == 1 and len(rec.of("disconnect")) == 1 and rec.of("error") == []


def test_starttls_waits_for_queued_plain_bytes(certificate):
    """Plain bytes still queued when starttls arrives are sent first, in plain text."""
    certfile, keyfile = certificate
    banner = payload(8 << 20, seed=9)  # more than the socket buffers hold at once
    server = TCPServer(("127.0.0.1", 0), certfile=certfile, keyfile=keyfile, max_buffer=16 << 20)
    with running(server) as (app, rec):
        rec.wait_for("ready")
        raw = socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT)
        (conn,) = rec.wait_for("connect")
        sock = conn.args[0]
        app.fire(write(sock, banner), "server")
        app.fire(starttls(sock), "server")
        app.fire(write(sock, b"after the upgrade"), "server")
        rec.wait_for("starttls")
        assert server.buffered(sock) > 0, "the test needs plain bytes queued at starttls time"
        assert recv_exactly(raw, len(banner)) == banner
        tls = client_context(certificate).wrap_socket(raw, server_hostname="localhost")
        assert recv_exactly(tls, 17) == b"after the upgrade"
        tls.close()
        rec.wait_for("disconnect")


def test_tls_client_connect_timeout_during_the_handshake():
    """A server that accepts but never answers the ClientHello: unreachable once, by timeout."""
    mute = socket.socket()
    mute.bind(("127.0.0.1", 0))
    mute.listen(5)
    client = TCPClient()
    try:
        with running(client) as (app, rec):
            app.fire(connect("127.0.0.1", mute.getsockname()[1], secure=True, verify=False, timeout=0.3),
                     "client")
            accepted, _ = mute.accept()  # TCP is up; TLS never will be
            (event,) = rec.wait_for("unreachable", "client")
            assert isinstance(event.args[2], TimeoutError)
            rec.sync(app)
            assert len(rec.of("unreachable")) == 1 and rec.of("connected") == []
            assert rec.of("disconnected") == [] and not client.connected
            accepted.close()
    finally:
        mute.close()


def test_secure_server_needs_a_certificate():
    with pytest.raises(ValueError):
        TCPServer(("127.0.0.1", 0), secure=True)


def test_many_tls_clients_at_once(certificate):
    server = tls_server(certificate)
    with running(server) as (app, rec):
        rec.wait_for("ready")

        def one(i: int) -> bytes:
            peer = tls_peer(server, certificate)
            message = b"client %02d" % i
            peer.sendall(message)
            got = recv_exactly(peer, len(message))
            peer.close()
            return got

        threads = [spawn(lambda i=i: one(i)) for i in range(20)]
        assert [joined(*t) for t in threads] == [b"client %02d" % i for i in range(20)]
        rec.wait_for("disconnect", count=20)


def test_tls_client_writes_made_while_connecting_follow_the_handshake(certificate):
    server = tls_server(certificate)
    client = TCPClient()
    with running(server, client) as (app, rec):
        rec.wait_for("ready", "server")
        app.fire(connect("127.0.0.1", server.port, secure=True, ca_certs=certificate[0]), "client")
        app.fire(write(b"early and encrypted"), "client")
        rec.wait(lambda: joined_reads(rec.of("read", "client")) == b"early and encrypted")
