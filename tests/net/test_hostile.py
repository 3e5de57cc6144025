"""Hostile or broken peers must not crash a server or leak descriptors."""

from __future__ import annotations

import os
import random
import selectors
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

from circuits import handler
from circuits.net.sockets import TCPServer, UNIXServer

from .helpers import (
    TIMEOUT,
    free_unix_path,
    payload,
    recv_exactly,
    recv_until_eof,
    rst,
    running,
    socket_fds,
    spawn,
)

ROOT = Path(__file__).resolve().parents[2]


class Echo(TCPServer):
    @handler("read")
    def on_read(self, sock: Any, data: bytes) -> bytes:
        return data


class UnixEcho(UNIXServer):
    @handler("read")
    def on_read(self, sock: Any, data: bytes) -> bytes:
        return data


def assert_echo_works(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as peer:
        peer.sendall(b"still serving")
        assert recv_exactly(peer, 13) == b"still serving"


def test_abrupt_resets_do_not_hurt_the_server():
    server = Echo(("127.0.0.1", 0))
    with running(server) as (app, rec):
        rec.wait_for("ready")
        for i in range(100):
            peer = socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT)
            if i % 3 == 1:
                peer.sendall(b"half a request")
            elif i % 3 == 2:
                peer.sendall(b"x" * 100_000)  # the echo is still being written
            rst(peer)
        rec.wait(lambda: len(rec.of("disconnect")) == len(rec.of("connect")) == 100, what="100 disconnects")
        assert_echo_works(server.port)
        rec.wait_for("disconnect", count=101)
        rec.sync(app)
        socks = [e.args[0] for e in rec.of("disconnect")]
        assert len(socks) == len(set(map(id, socks))) == 101  # once each
        assert server.clients == []


def test_half_close_gets_the_whole_reply_then_eof():
    server = Echo(("127.0.0.1", 0))
    with running(server) as (app, rec):
        rec.wait_for("ready")
        for size in (5, 300_000):
            data = payload(size, seed=size)
            peer = socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT)
            sender = spawn(lambda p=peer, d=data: (p.sendall(d), p.shutdown(socket.SHUT_WR)))
            assert recv_until_eof(peer) == data  # the echo, all of it, then the server closes
            sender[0].join(TIMEOUT)
            peer.close()
        rec.wait_for("disconnect", count=2)
        rec.sync(app)
        assert len(rec.of("disconnect")) == 2 and rec.of("error") == []


def test_binary_garbage_is_echoed_byte_exact():
    rng = random.Random(1234)
    garbage = bytes(rng.getrandbits(8) for _ in range(200_000))
    server = Echo(("127.0.0.1", 0))
    with running(server) as (_app, rec):
        rec.wait_for("ready")
        peer = socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT)
        sender = spawn(lambda: peer.sendall(garbage))
        assert recv_exactly(peer, len(garbage)) == garbage
        sender[0].join(TIMEOUT)
        peer.close()


def _cycles(server: Any, connect: Any, n: int) -> None:
    for i in range(n):
        peer = connect()
        kind = i % 4
        if kind == 1:
            peer.sendall(b"ping")
            assert recv_exactly(peer, 4) == b"ping"
        elif kind == 2:
            rst(peer) if peer.family != socket.AF_UNIX else peer.close()
            continue
        elif kind == 3:
            peer.shutdown(socket.SHUT_WR)
            assert recv_until_eof(peer) == b""
        peer.close()


def test_a_thousand_connections_leak_no_descriptors():
    server = Echo(("127.0.0.1", 0))
    with running(server) as (app, rec):
        rec.wait_for("ready")
        _cycles(server, lambda: socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT), 10)
        rec.wait_for("disconnect", count=10)
        rec.sync(app)
        before, watched = socket_fds(server.port), app.loop.watched
        assert before == 1  # the listening socket

        _cycles(server, lambda: socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT), 1000)
        rec.wait_for("disconnect", count=1010, timeout=30)
        rec.sync(app)
        assert socket_fds(server.port) == before
        assert app.loop.watched == watched == 1  # only the listening socket
        assert server.clients == [] and server._clients == {}
        assert len(rec.of("connect")) == len(rec.of("disconnect")) == 1010


def test_unix_connections_leak_no_descriptors(tmp_path):
    path = free_unix_path(tmp_path)
    server = UnixEcho(path)

    def connect() -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(TIMEOUT)
        sock.connect(path)
        return sock

    with running(server) as (app, rec):
        rec.wait_for("ready")
        before = socket_fds(path=path)
        assert before == 1  # the listening socket
        _cycles(server, connect, 300)
        rec.wait_for("disconnect", count=300)
        rec.sync(app)
        assert socket_fds(path=path) == before and app.loop.watched == 1


def test_out_of_descriptors_pauses_accepting_instead_of_spinning():
    """EMFILE on accept(): one error per retry interval, and service resumes once fds are free."""
    script = textwrap.dedent("""
        import resource, sys
        from circuits import handler
        from circuits.net.sockets import TCPServer

        class Echo(TCPServer):
            @handler("read")
            def on_read(self, sock, data):
                return data

            @handler("ready")
            def on_ready(self, component, bind):
                resource.setrlimit(resource.RLIMIT_NOFILE, (40, 40))
                print("ready", bind[1], flush=True)

            @handler("error")
            def on_error(self, sock, err):
                print("error", getattr(err, "errno", None), flush=True)

        Echo(("127.0.0.1", 0)).run()
    """)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env, cwd=str(ROOT))
    peers: list[socket.socket] = []
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline().split()[1])
        for _ in range(60):  # more connections than the server has descriptors
            peers.append(socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT))
        lines = _lines_for(proc, 1.0)  # one second of being out of descriptors
        errors = [ln for ln in lines if ln.startswith("error")]
        assert errors and all(ln == f"error {24}" for ln in errors), lines  # EMFILE
        assert len(errors) <= 15, f"accept() spins: {len(errors)} errors in a second"
        for peer in peers[:40]:
            peer.close()
        del peers[:40]
        # The connections that waited in the backlog are served now.
        for peer in peers:
            peer.sendall(b"late")
            assert recv_exactly(peer, 4) == b"late"
    finally:
        for peer in peers:
            peer.close()
        proc.kill()
        proc.wait(TIMEOUT)
        if proc.stdout:
            proc.stdout.close()
        if proc.stderr:
            proc.stderr.close()


def _lines_for(proc: subprocess.Popen[bytes], seconds: float) -> list[str]:
    """The lines a process prints during ``seconds`` (a measurement window, not a wait)."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    os.set_blocking(fd, False)
    sel = selectors.DefaultSelector()
    sel.register(fd, selectors.EVENT_READ)
    out = b""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        if sel.select(left):
            out += os.read(fd, 65536)
    sel.close()
    return out.decode().splitlines()
