"""HTTP/1.1 behaviour over raw sockets: keep-alive, pipelining, chunking,
100-continue, HEAD, limits, timeouts."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from circuits import Component, Event
from circuits.web import Controller

from .helpers import parse_responses, recv_all, recv_until, serve


class slow(Event):
    pass


class Sleeper(Component):
    """Answers ``slow`` events after a delay (a coroutine handler finishing later)."""

    channel = "sleeper"

    def slow(self, n):
        yield self.call(Event.create("tick"), "nowhere")  # give the loop a turn
        deadline = time.monotonic() + 0.2
        while time.monotonic() < deadline:
            yield  # next loop pass
        return f"slow {n}"


class Root(Controller):
    def index(self):
        return "Hello World!"

    def echo(self, **kwargs):
        return self.request.body.read()

    def length(self, **kwargs):
        return str(len(self.request.body.read()))

    def later(self, n="0"):
        value = yield self.call(slow(n), "sleeper")
        return value.value

    def fast(self, n="0"):
        return f"fast {n}"

    def stream(self):
        def gen():
            for i in range(5):
                yield f"part{i};"
        self.response.body = gen()

    def close(self):
        self.response.close = True
        return "bye"


@pytest.fixture(scope="module")
def server():
    with serve(Root(), Sleeper(), max_body=1024 * 1024, header_timeout=0.6) as running:
        yield running


def exchange(server, data: bytes, methods=None, wait_close: bool = True) -> list:
    sock = server.raw()
    try:
        sock.sendall(data)
        if wait_close:
            return parse_responses(recv_all(sock), methods)
        return parse_responses(recv_until(sock, b"\r\n\r\n"), methods, eof=False)
    finally:
        sock.close()


GET = b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n"
LAST = b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"


def test_pipelined_requests_answered_in_order_even_when_the_first_is_slow(server):
    data = GET % b"/later?n=1" + GET % b"/fast?n=2" + GET % b"/later?n=3" + GET % b"/fast?n=4" + LAST
    replies = exchange(server, data)
    assert [r.body for r in replies] == [b"slow 1", b"fast 2", b"slow 3", b"fast 4", b"Hello World!"]


def test_pipelined_bytes_split_anywhere_are_not_lost(server):
    data = b"".join(GET % f"/fast?n={i}".encode() for i in range(30)) + LAST
    sock = server.raw()
    try:
        for i in range(0, len(data), 7):  # awkward fragments
            sock.sendall(data[i:i + 7])
        replies = parse_responses(recv_all(sock))
    finally:
        sock.close()
    assert [r.body for r in replies] == [f"fast {i}".encode() for i in range(30)] + [b"Hello World!"]


def test_chunked_request_body(server):
    body = b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    replies = exchange(server, b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                               b"Connection: close\r\n\r\n" + body)
    assert replies[0].status == 200
    assert replies[0].body == b"hello world"


def test_chunked_response_for_a_generator_body(server):
    sock = server.raw()
    try:
        sock.sendall(b"GET /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        raw = recv_all(sock)
    finally:
        sock.close()
    assert b"transfer-encoding: chunked" in raw.lower()
    assert raw.endswith(b"0\r\n\r\n")
    assert parse_responses(raw)[0].body == b"part0;part1;part2;part3;part4;"


def test_generator_body_to_http10_client_is_close_delimited(server):
    replies = exchange(server, b"GET /stream HTTP/1.0\r\n\r\n")
    assert replies[0].body == b"part0;part1;part2;part3;part4;"
    assert "transfer-encoding" not in replies[0].headers


def test_expect_100_continue_is_sent_before_the_body_is_read(server):
    sock = server.raw()
    try:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n"
                     b"Connection: close\r\n\r\n")
        interim = recv_until(sock, b"\r\n\r\n")
        assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"hello")
        replies = parse_responses(recv_all(sock))
    finally:
        sock.close()
    assert (replies[0].status, replies[0].body) == (200, b"hello")


def test_expect_100_continue_not_sent_when_the_body_is_refused(server):
    replies = exchange(server, b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n"
                               b"Expect: 100-continue\r\n\r\n")
    assert [r.status for r in replies] == [413]


def test_expect_100_continue_not_sent_without_a_body(server):
    replies = exchange(server, b"GET / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n")
    assert [r.status for r in replies] == [200]


def test_head_sends_no_body_for_streamed_responses(server):
    sock = server.raw()
    try:
        sock.sendall(b"HEAD /stream HTTP/1.1\r\nHost: x\r\n\r\n" + LAST)
        replies = parse_responses(recv_all(sock), ["HEAD", "GET"])
    finally:
        sock.close()
    assert replies[0].body == b""
    assert replies[0].headers.get("transfer-encoding") == "chunked"
    assert replies[1].body == b"Hello World!"


def test_http10_closes_unless_keep_alive(server):
    sock = server.raw()
    try:
        sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
        raw = recv_all(sock)  # returns because the server closes
    finally:
        sock.close()
    assert parse_responses(raw)[0].body == b"Hello World!"
    sock = server.raw()
    try:
        sock.sendall(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        raw = recv_until(sock, b"Hello World!")
        assert b"Connection: keep-alive" in raw
        sock.sendall(b"GET /fast HTTP/1.0\r\n\r\n")
        assert parse_responses(recv_all(sock))[0].body == b"fast 0"
    finally:
        sock.close()


def test_response_close_ends_the_connection(server):
    sock = server.raw()
    try:
        sock.sendall(b"GET /close HTTP/1.1\r\nHost: x\r\n\r\n")
        raw = recv_all(sock)
    finally:
        sock.close()
    reply = parse_responses(raw)[0]
    assert reply.body == b"bye"
    assert reply.headers["connection"] == "close"


LONG = b"a" * 9000
LIMITS = [
    ("request line over 8 KiB", b"GET /" + LONG + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    ("header line over 8 KiB", b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + LONG + b"\r\n\r\n", 431),
    ("over 100 headers", b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(101))
     + b"\r\n", 431),
    ("body over the limit", b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n", 413),
    ("chunked body over the limit", b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
     + b"100000\r\n" + b"x" * 0x100000 + b"\r\n" + b"100000\r\n" + b"x" * 0x100000 + b"\r\n0\r\n\r\n", 413),
    ("Content-Length and Transfer-Encoding", b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
     b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    ("malformed Content-Length", b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5x\r\n\r\nhello", 400),
    ("negative Content-Length", b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400),
    ("conflicting Content-Lengths", b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
     b"Content-Length: 6\r\n\r\nhello!", 400),
    ("missing Host", b"GET / HTTP/1.1\r\n\r\n", 400),
    ("garbage request line", b"HELLO\r\n\r\n", 400),
    ("obs-fold", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  folded\r\n\r\n", 400),
    ("unknown transfer coding", b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
    ("HTTP/2 request line", b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505),
    ("NUL in path", b"GET /a%00b HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    ("path not UTF-8 once decoded", b"GET /a%ff%fe HTTP/1.1\r\nHost: x\r\n\r\n", 400),
]


@pytest.mark.parametrize(("name", "data", "status"), LIMITS, ids=[x[0] for x in LIMITS])
def test_limits_and_malformed_requests(server, name, data, status):
    replies = exchange(server, data)
    assert [r.status for r in replies] == [status]
    assert replies[0].headers.get("connection") == "close"


def test_body_too_large_is_refused_before_it_is_read(server):
    # The 413 arrives although not one body byte was sent.
    sock = server.raw()
    try:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n")
        raw = recv_until(sock, b"\r\n\r\n")
    finally:
        sock.close()
    assert raw.startswith(b"HTTP/1.1 413 ")


def test_body_just_under_the_limit_is_accepted(server):
    body = b"x" * (1024 * 1024)
    res, data = server.request("POST", "/length", body=body)
    assert (res.status, data) == (200, b"1048576")


def test_slow_header_client_is_timed_out_while_others_are_served(server):
    slowpoke = server.raw()
    try:
        slowpoke.sendall(b"GET / HTTP/1.1\r\n")
        started = time.monotonic()
        # Meanwhile everybody else is served normally.
        for _ in range(3):
            res, data = server.get("/")
            assert data == b"Hello World!"
        for _ in range(10):
            time.sleep(0.05)
            try:
                slowpoke.sendall(b"X")  # trickle
            except OSError:
                break
        raw = recv_all(slowpoke)
        elapsed = time.monotonic() - started
    finally:
        slowpoke.close()
    assert raw.startswith(b"HTTP/1.1 408 ")
    assert 0.5 < elapsed < 4.0


def test_idle_keep_alive_connection_survives_between_requests(server):
    sock = server.raw()
    try:
        sock.sendall(GET % b"/")
        recv_until(sock, b"Hello World!")
        time.sleep(0.9)  # longer than the header timeout: idle is not a slow head
        sock.sendall(LAST)
        assert parse_responses(recv_all(sock))[0].body == b"Hello World!"
    finally:
        sock.close()


def test_many_concurrent_clients(server):
    results = []

    def client(i):
        res, data = server.get(f"/fast?n={i}")
        results.append(data == f"fast {i}".encode())

    threads = [threading.Thread(target=client, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert results == [True] * 40


def test_client_vanishing_mid_request_does_not_hurt_the_server(server):
    for data in (b"GET / HTTP/1.1\r\nHo", b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc",
                 GET % b"/later?n=9"):
        sock = server.raw()
        sock.sendall(data)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.close()
    res, data = server.get("/")
    assert data == b"Hello World!"


def test_idle_keep_alive_connection_is_closed_after_keepalive_timeout():
    with serve(Root(), keepalive_timeout=0.3) as s:
        sock = s.raw()
        try:
            sock.sendall(GET % b"/")
            started = time.monotonic()
            data = recv_all(sock)  # returns once the server closes the idle connection
            elapsed = time.monotonic() - started
        finally:
            sock.close()
        assert parse_responses(data)[0].body == b"Hello World!"
        assert 0.25 < elapsed < 3.0
        assert s.app.http.statistics()["connections"] == 0
