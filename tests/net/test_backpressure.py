"""Slow consumers, close-after-drain, and exactly one disconnect per connection."""

from __future__ import annotations

import socket
import threading

import pytest

from circuits.core.transport import BufferOverflow
from circuits.net.sockets import TCPServer, close, write

from .helpers import TIMEOUT, joined, payload, recv_until_eof, rst, running, spawn

MIB = 1 << 20


class Reader:
    """A fast peer: reads everything in a thread, counting bytes as they come."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.data = bytearray()
        self.cond = threading.Condition()
        self.eof = False
        self.thread, self.box = spawn(self._run)

    def _run(self) -> None:
        self.sock.settimeout(TIMEOUT)
        while True:
            chunk = self.sock.recv(1 << 20)
            with self.cond:
                if not chunk:
                    self.eof = True
                else:
                    self.data += chunk
                self.cond.notify_all()
            if not chunk:
                return

    def wait_for(self, n: int) -> None:
        with self.cond:
            assert self.cond.wait_for(lambda: len(self.data) >= n or self.eof, TIMEOUT), \
                f"fast reader stalled at {len(self.data)} of {n} bytes"

    def finish(self) -> bytes:
        joined(self.thread, self.box)
        return bytes(self.data)


def test_a_slow_consumer_is_dropped_while_a_fast_one_keeps_full_speed():
    total, chunk = 8 * MIB, 64 * 1024
    data = payload(total, seed=11)
    server = TCPServer(("127.0.0.1", 0), max_buffer=256 * 1024,
                       socket_options=[(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)])
    with running(server) as (app, rec):
        rec.wait_for("ready")
        slow = socket.socket()
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.connect(("127.0.0.1", server.port))  # and never reads
        (slow_conn,) = rec.wait_for("connect")
        fast = socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT)
        fast_conn = rec.wait_for("connect", count=2)[1]
        slow_sock, fast_sock = slow_conn.args[0], fast_conn.args[0]
        reader = Reader(fast)

        dropped_at = None
        for k, offset in enumerate(range(0, total, chunk)):
            # Keep at most two chunks in flight to the fast reader: it is never
            # the one that overflows; the same bytes go to the slow one.
            reader.wait_for((k - 2) * chunk)
            piece = data[offset:offset + chunk]
            app.fire(write(fast_sock, piece), "server")
            app.fire(write(slow_sock, piece), "server")
            if dropped_at is None and rec.of("disconnect"):
                dropped_at = len(reader.data)
        reader.wait_for(total)
        assert dropped_at is not None and dropped_at < total // 2, \
            f"the slow consumer was dropped late ({dropped_at} of {total} bytes)"

        (disc,) = rec.wait_for("disconnect")
        assert disc.args == [slow_sock]
        (err,) = rec.of("error")
        assert err.args[0] is slow_sock and isinstance(err.args[1], BufferOverflow)
        app.fire(close(fast_sock), "server")
        assert reader.finish() == data  # all of it, in order, then EOF
        rec.wait_for("disconnect", count=2)
        rec.sync(app)
        assert [e.args[0] for e in rec.of("disconnect")] == [slow_sock, fast_sock]
        slow.close()


@pytest.mark.parametrize("pieces", [1, 64])
def test_writes_queued_before_close_are_drained(pieces):
    data = payload(4 * MIB, seed=12)
    server = TCPServer(("127.0.0.1", 0))
    with running(server) as (app, rec):
        rec.wait_for("ready")
        peer = socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT)
        (conn,) = rec.wait_for("connect")
        sock = conn.args[0]
        size = len(data) // pieces
        for i in range(pieces):
            app.fire(write(sock, data[i * size:(i + 1) * size]), "server")
        app.fire(close(sock), "server")
        app.fire(write(sock, b"too late: after close"), "server")
        assert recv_until_eof(peer) == data
        (disc,) = rec.wait_for("disconnect")
        assert disc.args == [sock]
        rec.sync(app)
        assert len(rec.of("disconnect")) == 1 and rec.of("error") == []
        peer.close()


@pytest.mark.parametrize("how", ["client closes", "server closes", "server closes twice",
                                 "client closes then server closes", "reset", "reset while writing",
                                 "overflow"])
def test_disconnect_fires_exactly_once_per_connection(how):
    server = TCPServer(("127.0.0.1", 0), max_buffer=64 * 1024,
                       socket_options=[(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)])
    with running(server) as (app, rec):
        rec.wait_for("ready")
        peer = socket.socket()
        peer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        peer.connect(("127.0.0.1", server.port))
        (conn,) = rec.wait_for("connect")
        sock = conn.args[0]
        expect_error: type[BaseException] | None = None
        if how == "client closes":
            peer.close()
        elif how == "server closes":
            app.fire(close(sock), "server")
        elif how == "server closes twice":
            app.fire(close(sock), "server")
            app.fire(close(sock), "server")
        elif how == "client closes then server closes":
            peer.close()
            rec.wait_for("disconnect")
            app.fire(close(sock), "server")
        elif how == "reset":
            rst(peer)
            expect_error = ConnectionResetError
        elif how == "reset while writing":
            app.fire(write(sock, b"x" * 60_000), "server")  # fills the buffers, stays under the limit
            rec.wait_for("write")
            rst(peer)
            expect_error = OSError
        elif how == "overflow":
            for _ in range(10):
                app.fire(write(sock, b"x" * 65536), "server")
            expect_error = BufferOverflow
        (disc,) = rec.wait_for("disconnect")
        assert disc.args == [sock]
        rec.sync(app, rounds=3)
        assert len(rec.of("disconnect")) == 1
        errors = rec.of("error")
        if expect_error is None:
            assert errors == []
        else:
            assert len(errors) == 1 and errors[0].args[0] is sock
            assert isinstance(errors[0].args[1], expect_error)
        assert server.clients == []
        peer.close()
