"""Every connection is reaped: deadlines from accept, body progress, descriptor pressure (issue 12, item 1).

Real servers on loopback with short configured timeouts; each test waits for
the server to close the socket, bounded by a generous deadline.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from circuits.web import Controller

from .helpers import TIMEOUT, parse_responses, serve, wait_closed

ROOT = Path(__file__).resolve().parents[2]
#: The short deadlines the servers of these tests are configured with.
QUICK = {"header_timeout": 0.3, "body_timeout": 0.3, "keepalive_timeout": 5.0}


class Root(Controller):
    def index(self) -> str:
        return "ok"

    def upload(self) -> str:
        return str(len(self.request.body.read()))


def test_a_connection_that_sends_nothing_is_closed_after_the_header_timeout():
    with serve(Root(), **QUICK) as s:
        sock = s.raw()
        try:
            data, closed = wait_closed(sock)
        finally:
            sock.close()
        assert closed and data == b""
        assert s.app.http.timed_out == 1
        res, body = s.get("/")
        assert (res.status, body) == (200, b"ok")


def test_a_head_that_never_completes_gets_408():
    with serve(Root(), **QUICK) as s:
        sock = s.raw()
        try:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
            data, closed = wait_closed(sock)
        finally:
            sock.close()
        assert closed
        assert [r.status for r in parse_responses(data)] == [408]


def test_a_body_shorter_than_its_content_length_gets_408():
    with serve(Root(), **QUICK) as s:
        sock = s.raw()
        try:
            sock.sendall(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
            data, closed = wait_closed(sock)
        finally:
            sock.close()
        assert closed
        assert [r.status for r in parse_responses(data)] == [408]


def test_expect_continue_without_a_body_gets_100_then_408():
    with serve(Root(), **QUICK) as s:
        sock = s.raw()
        try:
            sock.sendall(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n")
            data, closed = wait_closed(sock)
        finally:
            sock.close()
        assert closed
        assert [r.status for r in parse_responses(data)] == [100, 408]


def _trickle(sock: socket.socket, head: bytes, piece: bytes, limit: float = 10.0) -> tuple[bytes, bool]:
    """Send ``head``, then ``piece`` every 50 ms (the attacker's pace) until the server closes."""
    sock.sendall(head)
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        data, closed = wait_closed(sock, timeout=0.05)
        if closed or data:
            rest, closed = wait_closed(sock)
            return data + rest, closed
        try:
            sock.sendall(piece)
        except (BrokenPipeError, ConnectionResetError):
            return wait_closed(sock)
    return b"", False


def test_a_body_trickled_slower_than_the_minimum_rate_gets_408():
    # One byte each 50 ms stays well within body_timeout between bytes, but
    # is far below 1000 bytes a second: the average rate ends it.
    with serve(Root(), body_min_rate=1000, **QUICK) as s:
        sock = s.raw()
        try:
            data, closed = _trickle(sock, b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n", b"x")
        finally:
            sock.close()
        assert closed
        assert [r.status for r in parse_responses(data)] == [408]


def test_a_chunked_body_trickled_gets_408():
    with serve(Root(), body_min_rate=1000, **QUICK) as s:
        sock = s.raw()
        try:
            data, closed = _trickle(sock, b"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
                                    b"1\r\nx\r\n")
        finally:
            sock.close()
        assert closed
        assert [r.status for r in parse_responses(data)] == [408]


def test_a_body_at_a_fair_rate_is_received():
    with serve(Root(), body_min_rate=1000, **QUICK) as s:
        res, body = s.request("POST", "/upload", body=b"y" * 200_000)
        assert (res.status, body) == (200, b"200000")


def test_past_max_connections_the_oldest_idle_connection_is_shed():
    with serve(Root(), max_connections=3, header_timeout=30.0) as s:
        socks = [s.raw() for _ in range(3)]
        try:
            # Each one is known to the server before the next arrives.
            socks[0].sendall(b"G")
            socks[1].sendall(b"G")
            socks[2].sendall(b"G")
            wait_for(lambda: s.app.http.statistics()["connections"] == 3)
            try:
                res, body = s.get("/")
            except OSError as e:  # say what the server had decided
                raise AssertionError(f"{e!r}; server: {s.app.http.statistics()}") from e
            assert (res.status, body) == (200, b"ok")
            _, closed = wait_closed(socks[0])
            assert closed
            assert s.app.http.shed >= 1
        finally:
            for sock in socks:
                sock.close()


def wait_for(condition, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


_SERVER = """
import sys
from circuits.web import Controller, Server
class Root(Controller):
    def index(self):
        return "ok"
app = Server(("127.0.0.1", 0), header_timeout=60.0)
Root().register(app)
app.start()
import time
while not app.port:  # bound once the loop runs
    time.sleep(0.01)
print(app.port, flush=True)
sys.stdin.read()
"""


def _limit_descriptors() -> None:
    import resource
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))


def test_silent_connections_cannot_exhaust_the_descriptors_of_a_server_process():
    # The attack: more silent sockets than the process has descriptors. The
    # server keeps at most half its limit and sheds the oldest idle ones, so
    # a real request still gets in long before any header timeout.
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-c", _SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, env=env, cwd=ROOT, preexec_fn=_limit_descriptors)
    socks: list[socket.socket] = []
    try:
        line = proc.stdout.readline()
        assert line, "server did not start"
        port = int(line)
        for _ in range(100):
            socks.append(socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT))
        sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        try:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data, closed = wait_closed(sock)
        finally:
            sock.close()
        assert [(r.status, r.body) for r in parse_responses(data)] == [(200, b"ok")]
    finally:
        for s in socks:
            s.close()
        proc.stdin.close()
        proc.terminate()
        proc.wait(TIMEOUT)


def test_a_client_that_stops_reading_a_streamed_response_is_dropped(tmp_path):
    from circuits.web import Static

    (tmp_path / "big.bin").write_bytes(b"z" * (32 * 1024 * 1024))
    with serve(Static(docroot=str(tmp_path)), send_timeout=0.3, **QUICK) as s:
        sock = s.raw()
        try:
            sock.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            # Not a byte read: the server gives up on the connection ...
            wait_for(lambda: s.app.http.statistics()["connections"] == 0 and s.app.http.timed_out == 1)
            # ... and drops what it had queued: the client's reads end (EOF or
            # reset) long before the 32 MiB.
            received = 0
            sock.settimeout(TIMEOUT)
            while True:
                try:
                    data = sock.recv(1 << 20)
                except ConnectionResetError:
                    break
                if not data:
                    break
                received += len(data)
            assert received < 32 * 1024 * 1024
        finally:
            sock.close()
