"""TCPClient/UNIXClient connecting: never blocking the loop, unreachable, timeouts, reconnects."""

from __future__ import annotations

import errno
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from circuits import Timer
from circuits.core.events import Event
from circuits.net.sockets import TCPClient, TCPServer, UNIXClient, close, connect, write

from .helpers import TIMEOUT, free_unix_path, ipv6_loopback_usable, rst, running


class tick(Event):
    """A Timer's heartbeat: proves the loop keeps running."""


@pytest.fixture
def full_listener() -> Iterator[tuple[str, int]]:
    """A local listening socket whose accept queue is full: a new connect stays pending.

    Linux queues backlog + 1 connections and then drops SYNs, so a client's
    connect neither completes nor fails for a while. No traffic leaves the machine.
    """
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    filler = socket.socket()
    filler.settimeout(TIMEOUT)
    filler.connect(listener.getsockname())
    try:
        yield listener.getsockname()
    finally:
        filler.close()
        listener.close()


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nobody listens: a connect is refused (RST)
    return port


def test_connect_returns_at_once_and_the_loop_keeps_running(full_listener):
    client = TCPClient()
    heartbeat = Timer(0.01, tick(), "heartbeat", persist=True)
    with running(client, heartbeat) as (app, rec):
        rec.wait_for("tick", count=2)
        started = time.monotonic()
        app.fire(connect(*full_listener, timeout=1.0), "client")
        rec.wait_for("connect", "client")  # the connect handler ran (and returned)
        before = len(rec.of("tick"))
        rec.wait_for("tick", count=before + 20)  # 20 heartbeats while the connect is pending
        assert rec.of("connected") == [] and rec.of("unreachable") == []
        (unreachable,) = rec.wait_for("unreachable", "client")
        elapsed = time.monotonic() - started
        host, port, reason = unreachable.args
        assert (host, port) == full_listener
        assert isinstance(reason, TimeoutError)
        assert 0.9 <= elapsed < 1.0 + TIMEOUT / 2
        assert not client.connected
        rec.sync(app)
        assert len(rec.of("unreachable")) == 1 and rec.of("connected") == []


def test_unreachable_when_refused():
    port = closed_port()
    client = TCPClient()
    with running(client) as (app, rec):
        app.fire(connect("127.0.0.1", port), "client")
        (event,) = rec.wait_for("unreachable", "client")
        host, eport, reason = event.args
        assert (host, eport) == ("127.0.0.1", port)
        assert isinstance(reason, OSError) and reason.errno == errno.ECONNREFUSED
        rec.sync(app)
        assert rec.of("connected") == [] and rec.of("disconnected") == [] and rec.of("error") == []
        assert len(rec.of("unreachable")) == 1


def test_unix_client_unreachable_for_a_missing_path(tmp_path):
    path = free_unix_path(tmp_path, "nobody.sock")
    client = UNIXClient()
    with running(client) as (app, rec):
        app.fire(connect(path), "client")
        (event,) = rec.wait_for("unreachable", "client")
        assert event.args[0] == path and isinstance(event.args[2], OSError)


def test_reconnect_after_the_server_closed(tmp_path):
    server = TCPServer(("127.0.0.1", 0))
    client = TCPClient()
    with running(server, client) as (app, rec):
        rec.wait_for("ready", "server")
        for round_ in range(3):
            app.fire(connect("127.0.0.1", server.port), "client")
            rec.wait_for("connected", "client", count=round_ + 1)
            (conn,) = rec.wait_for("connect", "server", count=round_ + 1)[round_:]
            message = b"round %d" % round_
            app.fire(write(message), "client")
            rec.wait_for("read", "server", where=lambda e, m=message: e.args[1] == m)
            app.fire(write(conn.args[0], b"bye"), "server")
            app.fire(close(conn.args[0]), "server")
            rec.wait_for("disconnected", "client", count=round_ + 1)
            assert not client.connected
        rec.sync(app)
        reads = [e.args[0] for e in rec.of("read", "client")]
        assert b"".join(reads) == b"bye" * 3
        assert len(rec.of("disconnected")) == 3 and len(rec.of("disconnect")) == 3


def test_connect_while_connected_is_ignored():
    server = TCPServer(("127.0.0.1", 0))
    client = TCPClient()
    with running(server, client) as (app, rec):
        app.fire(connect("127.0.0.1", server.port), "client")
        app.fire(connect("127.0.0.1", server.port), "client")
        rec.wait_for("connected", "client")
        rec.sync(app, rounds=3)
        assert len(rec.of("connect", "server")) == 1 and len(rec.of("connected")) == 1


class BlockingResolver:
    """Stands in for getaddrinfo: blocks until released, remembers the calling thread."""

    def __init__(self, real: Any, result: Any = None, error: BaseException | None = None) -> None:
        self.real = real
        self.result = result
        self.error = error
        self.release = threading.Event()
        self.called = threading.Event()
        self.threads: list[str] = []

    def __call__(self, host: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "localhost" and host != "unresolvable.test":
            return self.real(host, *args, **kwargs)
        self.threads.append(threading.current_thread().name)
        self.called.set()
        if not self.release.wait(TIMEOUT):
            raise RuntimeError("the test never released the resolver")
        if self.error is not None:
            raise self.error
        return self.real(host, *args, **kwargs)


def test_hostname_resolution_does_not_block_the_loop(monkeypatch):
    resolver = BlockingResolver(socket.getaddrinfo)
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    server = TCPServer(("127.0.0.1", 0))
    client = TCPClient()
    heartbeat = Timer(0.01, tick(), "heartbeat", persist=True)
    with running(server, client, heartbeat) as (app, rec):
        rec.wait_for("ready", "server")
        app.fire(connect("localhost", server.port), "client")
        assert resolver.called.wait(TIMEOUT)
        before = len(rec.of("tick"))
        rec.wait_for("tick", count=before + 10)  # the loop runs while getaddrinfo blocks
        assert rec.of("connected") == []
        assert resolver.threads and resolver.threads[0] != app._circuits_thread.name
        resolver.release.set()
        (event,) = rec.wait_for("connected", "client")
        assert event.args == ["localhost", server.port]
        rec.wait_for("connect", "server")


def test_unresolvable_hostname_is_unreachable(monkeypatch):
    # No DNS query leaves the machine: getaddrinfo is replaced.
    resolver = BlockingResolver(socket.getaddrinfo, error=socket.gaierror(socket.EAI_NONAME, "Name unknown"))
    resolver.release.set()
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    client = TCPClient()
    with running(client) as (app, rec):
        app.fire(connect("unresolvable.test", 80), "client")
        (event,) = rec.wait_for("unreachable", "client")
        assert event.args[:2] == ["unresolvable.test", 80]
        assert isinstance(event.args[2], socket.gaierror)
        (err,) = rec.wait_for("error", "client")  # 3.x code waits for this one
        assert err.args[0] is event.args[2]


def test_close_while_resolving_cancels_the_connect(monkeypatch):
    resolver = BlockingResolver(socket.getaddrinfo)
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    server = TCPServer(("127.0.0.1", 0))
    client = TCPClient()
    with running(server, client) as (app, rec):
        app.fire(connect("localhost", server.port), "client")
        rec.wait_for("connect", "client")
        assert resolver.called.wait(TIMEOUT)
        app.fire(close(), "client")
        rec.wait_for("close", "client")
        resolver.release.set()
        # A later connect works and is the only one that reaches the server.
        app.fire(connect("127.0.0.1", server.port), "client")
        rec.wait_for("connected", "client")
        rec.wait_for("connect", "server")
        rec.sync(app, rounds=3)
        assert len(rec.of("connect", "server")) == 1 and len(rec.of("connected")) == 1


def test_close_while_connecting_gives_up_quietly(full_listener):
    client = TCPClient()
    with running(client) as (app, rec):
        app.fire(connect(*full_listener), "client")
        rec.wait_for("connect", "client")
        app.fire(close(), "client")
        rec.wait_for("close", "client")
        rec.sync(app)
        assert client._sock is None and not client.connected
        names = rec.names("client")
        assert "connected" not in names and "unreachable" not in names and "disconnected" not in names


def test_connect_to_ipv6_literal_then_ipv4_with_one_client():
    if not ipv6_loopback_usable():
        pytest.skip("IPv6 loopback (::1) is not usable on this machine")
    server6 = TCPServer(("::1", 0), channel="server6")
    server4 = TCPServer(("127.0.0.1", 0), channel="server4")
    client = TCPClient()
    with running(server6, server4, client) as (app, rec):
        app.fire(connect("::1", server6.port), "client")
        rec.wait_for("connected", "client")
        rec.wait_for("connect", "server6")
        app.fire(close(), "client")
        rec.wait_for("disconnected", "client")
        app.fire(connect("127.0.0.1", server4.port), "client")
        rec.wait_for("connected", "client", count=2)
        rec.wait_for("connect", "server4")
        app.fire(connect(f"[::1]:{server6.port}"), "client")  # ignored: connected
        app.fire(close(), "client")
        rec.wait_for("disconnected", "client", count=2)
        app.fire(connect(f"[::1]:{server6.port}"), "client")
        rec.wait_for("connected", "client", count=3)
        rec.wait_for("connect", "server6", count=2)


def test_writes_made_while_connecting_are_sent_once_connected():
    server = TCPServer(("127.0.0.1", 0))
    client = TCPClient()
    with running(server, client) as (app, rec):
        rec.wait_for("ready", "server")
        app.fire(connect("127.0.0.1", server.port), "client")
        app.fire(write(b"early "), "client")  # handled before the connect completes
        app.fire(write(b"bird"), "client")
        rec.wait_for("connected", "client")
        rec.wait(lambda: b"".join(e.args[1] for e in rec.of("read", "server")) == b"early bird")


def test_writes_made_before_an_unreachable_are_dropped():
    client = TCPClient()
    with running(client) as (app, rec):
        app.fire(connect("127.0.0.1", closed_port()), "client")
        app.fire(write(b"never sent"), "client")
        rec.wait_for("unreachable", "client")
        assert client._early == []


def test_client_binds_its_source_address():
    probe = socket.socket()
    try:
        probe.bind(("127.0.0.2", 0))
    except OSError:
        pytest.skip("127.0.0.2 is not usable as a source address here")
    finally:
        probe.close()
    server = TCPServer(("127.0.0.1", 0))
    client = TCPClient(bind=("127.0.0.2", 0))
    with running(server, client) as (app, rec):
        rec.wait_for("ready", "server")
        app.fire(connect("127.0.0.1", server.port), "client")
        rec.wait_for("connected", "client")
        (conn,) = rec.wait_for("connect", "server")
        assert conn.args[1] == "127.0.0.2"


def test_client_error_carries_the_error_then_disconnected_once():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    client = TCPClient()
    try:
        with running(client) as (app, rec):
            app.fire(connect(*listener.getsockname()), "client")
            accepted, _ = listener.accept()
            rec.wait_for("connected", "client")
            rst(accepted)  # the server resets the connection
            (err,) = rec.wait_for("error", "client")
            assert len(err.args) == 1 and isinstance(err.args[0], ConnectionResetError)
            rec.wait_for("disconnected", "client")
            rec.sync(app)
            assert len(rec.of("disconnected")) == 1 and len(rec.of("error")) == 1
    finally:
        listener.close()
