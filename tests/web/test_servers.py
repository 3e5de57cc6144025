"""Server flavours and extension points: bind forms, TLS, UNIX sockets,
application-driven streaming, and the protocol-upgrade hand-off."""

from __future__ import annotations

import http.client
import socket
import ssl
import subprocess
import threading

import pytest

from circuits import Component, handler
from circuits.net.events import write
from circuits.web import BaseServer, Controller, Server
from circuits.web.events import stream
from circuits.web.servers import WebTCPServer, WebUNIXServer, _server_class

from .helpers import parse_responses, recv_all, recv_until, serve, wait_closed


@pytest.mark.parametrize(("bind", "cls", "address"), [
    (8000, WebTCPServer, 8000),
    (("127.0.0.1", 8000), WebTCPServer, ("127.0.0.1", 8000)),
    (["", 8000], WebTCPServer, ("", 8000)),
    ("127.0.0.1:8000", WebTCPServer, ("127.0.0.1", 8000)),
    ("/tmp/web.sock", WebUNIXServer, "/tmp/web.sock"),
])
def test_bind_forms(bind, cls, address):
    assert _server_class(bind) == (cls, address)


def test_bind_ipv6_string():
    cls, address = _server_class("[::1]:8000")
    assert cls.__name__ == "WebTCP6Server" and address == ("::1", 8000)


class Root(Controller):
    def index(self):
        return f"{self.request.scheme} {self.request.remote.ip or 'unix'}"


def test_unix_socket(tmp_path):
    path = str(tmp_path / "web.sock")
    app = Server(path) + Root()
    app.start()
    try:
        sock = socket.socket(socket.AF_UNIX)
        sock.settimeout(5)
        sock.connect(path)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert parse_responses(recv_all(sock))[0].body == b"http unix"
        sock.close()
    finally:
        app.stop()
        app.join(5)


@pytest.fixture(scope="module")
def certfile(tmp_path_factory):
    path = tmp_path_factory.mktemp("tls") / "cert.pem"
    result = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(path), "-out", str(path),
         "-days", "1", "-subj", "/CN=localhost"], capture_output=True)
    if result.returncode != 0:
        pytest.skip("openssl is not available")
    return str(path)


def test_https(certfile):
    with serve(Root(), secure=True, certfile=certfile) as s:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection("127.0.0.1", s.port, timeout=5, context=context)
        for _ in range(3):  # keep-alive over TLS
            conn.request("GET", "/")
            res = conn.getresponse()
            assert res.read() == b"https 127.0.0.1"
        conn.close()


def test_a_silent_client_on_a_tls_port_is_closed_at_the_head_deadline(certfile):
    # The handshake used to get the transport's generic 30 s; a client that
    # never starts TLS must be reaped as soon as one that never sends a head.
    with serve(Root(), secure=True, certfile=certfile, header_timeout=0.3) as s:
        sock = s.raw()
        try:
            data, closed = wait_closed(sock)
        finally:
            sock.close()
        assert (data, closed) == (b"", True)
        # The server still serves TLS clients afterwards.
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection("127.0.0.1", s.port, timeout=5, context=context)
        conn.request("GET", "/")
        assert conn.getresponse().read() == b"https 127.0.0.1"
        conn.close()


class Streamer(Component):
    """Streams a response itself with ``stream`` events."""

    channel = "web"

    @handler("request", priority=1.0)
    def on_request(self, request, response):
        if request.path != "/push":
            return None
        response.stream = True
        for i in range(3):
            self.fire(stream(response, f"piece{i};"))
        self.fire(stream(response, None))
        return response


def test_application_driven_streaming():
    with serve(Streamer(), base=True) as s:
        sock = s.raw()
        sock.sendall(b"GET /push HTTP/1.1\r\nHost: x\r\n\r\nGET /push HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        replies = parse_responses(recv_all(sock))
        sock.close()
    assert [r.body for r in replies] == [b"piece0;piece1;piece2;"] * 2
    assert replies[0].headers["transfer-encoding"] == "chunked"


class Upgrader(Component):
    """A toy protocol switch: answers 101, then echoes raw bytes in upper case."""

    channel = "web"

    def __init__(self):
        super().__init__()
        self.upgraded = {}

    @handler("request", priority=1.0)
    def on_request(self, request, response):
        if request.headers.get("Upgrade") != "shout":
            return None
        response.status = 101
        response.headers["Upgrade"] = "shout"
        response.headers["Connection"] = "Upgrade"
        return response

    @handler("upgraded")
    def on_upgraded(self, request, response, data):
        self.upgraded[request.sock] = True
        if data:
            self.fire(write(request.sock, data.upper()))

    @handler("read", priority=1.0)
    def on_read(self, sock, data):
        if sock in self.upgraded:
            self.fire(write(sock, data.upper()))


def test_upgrade_hands_the_connection_over_with_buffered_bytes():
    with serve(Upgrader(), base=True) as s:
        sock = s.raw()
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: shout\r\nConnection: Upgrade\r\n\r\nearly bytes")
        data = recv_until(sock, b"EARLY BYTES")
        assert data.startswith(b"HTTP/1.1 101 ")
        assert b"\r\nConnection: Upgrade\r\n" in data and b"Content-Length" not in data
        assert data.endswith(b"\r\n\r\nEARLY BYTES")
        sock.sendall(b"GET / HTTP/1.1\r\n\r\n")  # no longer HTTP: echoed, not parsed
        assert recv_until(sock, b"GET / HTTP/1.1\r\n\r\n".upper()).endswith(b"GET / HTTP/1.1\r\n\r\n".upper())
        sock.close()


def test_statistics_and_many_servers_on_different_channels():
    class A(Controller):
        def index(self):
            return "A"

    class B(Controller):
        channel = "/"

        def index(self):
            return "B"

    from circuits import Manager
    app = Manager()
    one = Server(("127.0.0.1", 0), channel="one").register(app)
    two = Server(("127.0.0.1", 0), channel="two").register(app)
    A().register(one)
    B().register(two)
    app.start()
    try:
        results = {}

        def get(name, port):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/")
            results[name] = conn.getresponse().read()
            conn.close()

        threads = [threading.Thread(target=get, args=(n, srv.port)) for n, srv in (("one", one), ("two", two))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(5)
        assert results == {"one": b"A", "two": b"B"}
        assert one.http.statistics()["connections"] >= 0
    finally:
        app.stop()
        app.join(5)


def test_a_server_nested_in_another_serves_the_outer_ones_controllers():
    # The 3.x way of one application on two ports: (Server(a) + Server(b)).
    class Root(Controller):
        def index(self):
            return f"root on {self.request.local.port}"

    from circuits import Manager
    app = Manager()
    outer = Server(("127.0.0.1", 0), channel="outer")
    inner = Server(("127.0.0.1", 0), channel="inner")
    tree = (outer + inner).register(app)
    Root().register(tree)
    app.start()
    try:
        for srv in (outer, inner):
            conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
            conn.request("GET", "/")
            res = conn.getresponse()
            assert (res.status, res.read()) == (200, f"root on {srv.port}".encode())
            conn.close()
    finally:
        app.stop()
        app.join(5)


def test_base_server_without_handlers_answers_404():
    with serve(base=True) as s:
        res, _ = s.get("/")
        assert res.status == 404
    assert isinstance(BaseServer, type)
