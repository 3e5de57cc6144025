"""circuits.web.client.Client against a real http.server in a thread."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from circuits import Component, Manager
from circuits.web import Controller, Server
from circuits.web.client import Client, ClientResponse, parse_url, request
from tests.core.helpers import TIMEOUT, running
from tests.web.helpers import serve


def wait_for(condition: Any, timeout: float = TIMEOUT) -> bool:
    """Wait for another thread to make ``condition()`` true."""
    pause = threading.Event()
    for _ in range(int(timeout / 0.01)):
        if condition():
            return True
        pause.wait(0.01)
    return bool(condition())


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    peers: set[Any] = set()

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        type(self).peers.add(self.client_address)
        if self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b"hello ", b"chunked ", b"world"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\nX-Trailer: yes\r\n\r\n")
            return
        if self.path == "/until-close":
            self.wfile.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nbody until close")
            self.close_connection = True
            return
        if self.path == "/big":
            body = os.urandom(1 << 20)
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Sum", str(sum(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        body = json.dumps({"path": self.path, "host": self.headers["Host"]}).encode()
        self.send_response(404 if self.path == "/missing" else 200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Set-Cookie", "a=1")
        self.send_header("Set-Cookie", "b=2")
        self.end_headers()
        self.wfile.write(body)

    def do_HEAD(self) -> None:  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Length", "1234")
        self.end_headers()

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length", "0"))
        data = self.rfile.read(length)
        self.send_response(201)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[::-1])


@pytest.fixture
def http_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    _Handler.peers = set()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class Caller(Component):
    """Runs a list of requests one after another and records the outcomes."""

    def init(self, calls: list[tuple[Any, ...]], channel: Any = "caller") -> None:
        self.calls = calls
        self.results: list[Any] = []
        self.done = threading.Event()

    def started(self, manager: Any) -> Any:
        for call in self.calls:
            value = yield self.call(request(*call), "client")
            self.results.append(value.value if not value.errors else value.value[1])
        self.done.set()


def run_calls(calls: list[tuple[Any, ...]], **client_args: Any) -> list[Any]:
    app = Manager()
    Client(**client_args).register(app)
    caller = Caller(calls).register(app)
    with running(app) as recorder:
        assert caller.done.wait(TIMEOUT)
        assert recorder.count("response") == sum(isinstance(r, ClientResponse) for r in caller.results)
    return caller.results


def test_parse_url() -> None:
    assert parse_url("http://example.org") == ("example.org", 80, "/", False)
    assert parse_url("https://example.org:8443/a/b?x=1#frag") == ("example.org", 8443, "/a/b?x=1", True)
    assert parse_url("wss://[::1]/ws").netloc == "[::1]"
    assert parse_url("http://h:8080/").netloc == "h:8080"
    with pytest.raises(ValueError):
        parse_url("ftp://example.org/")
    with pytest.raises(ValueError):
        parse_url("http:///nohost")


def test_get_keep_alive_and_headers(http_server: str) -> None:
    results = run_calls([("GET", f"{http_server}/one"), ("GET", f"{http_server}/two"),
                         ("GET", f"{http_server}/missing")])
    one, two, missing = results
    assert one.status == 200 and one.json()["path"] == "/one"
    assert one.json()["host"] == http_server.removeprefix("http://")
    assert two.json()["path"] == "/two"
    assert missing.status == 404
    assert one.headers["content-type"].startswith("application/json")
    assert one.headers.get_all("Set-Cookie") == ["a=1", "b=2"]
    assert len(_Handler.peers) == 1, "the three requests should share one kept-alive connection"


def test_chunked_until_close_head_and_post(http_server: str) -> None:
    results = run_calls([("GET", f"{http_server}/chunked"), ("GET", f"{http_server}/until-close"),
                         ("HEAD", f"{http_server}/"), ("POST", f"{http_server}/echo", "abcdef"),
                         ("GET", f"{http_server}/after")])
    chunked, until_close, head, post, after = results
    assert chunked.body == b"hello chunked world" and chunked.trailers["x-trailer"] == "yes"
    assert until_close.body == b"body until close"
    assert head.status == 200 and head.body == b"" and head.headers["Content-Length"] == "1234"
    assert post.status == 201 and post.body == b"fedcba"
    assert after.status == 200


def test_big_body(http_server: str) -> None:
    (big,) = run_calls([("GET", f"{http_server}/big")])
    assert len(big.body) == 1 << 20 and sum(big.body) == int(big.headers["X-Sum"])


def test_base_url_and_relative_paths(http_server: str) -> None:
    (result,) = run_calls([("GET", "/rel")], url=http_server)
    assert result.json()["path"] == "/rel"


def test_unreachable_and_timeout() -> None:
    import socket

    with socket.socket() as closed_port:
        closed_port.bind(("127.0.0.1", 0))
        port = closed_port.getsockname()[1]
    (error,) = run_calls([("GET", f"http://127.0.0.1:{port}/")])
    assert isinstance(error, ConnectionRefusedError | OSError)

    with socket.socket() as silent:  # accepts (backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        (error,) = run_calls([("GET", f"http://127.0.0.1:{silent.getsockname()[1]}/")], timeout=0.3)
    assert isinstance(error, TimeoutError)


def test_stale_keep_alive_is_retried(http_server: str) -> None:
    """The server closes an idle kept-alive connection: the next GET is retried once."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    port = listener.getsockname()[1]
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

    def serve() -> None:
        conn, _ = listener.accept()
        conn.recv(65536)
        conn.sendall(answer)
        conn.close()  # closes without "Connection: close": the client thinks it may reuse it
        conn, _ = listener.accept()
        conn.recv(65536)
        conn.sendall(answer)
        conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    results = run_calls([("GET", f"http://127.0.0.1:{port}/a"), ("GET", f"http://127.0.0.1:{port}/b")])
    thread.join(TIMEOUT)
    listener.close()
    assert [r.body for r in results] == [b"ok", b"ok"]


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tls") / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-keyout", str(path), "-out", str(path)], check=True, capture_output=True)
    return path


def test_https(certificate: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(certificate)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"https://localhost:{server.server_address[1]}/secure"
        (result,) = run_calls([("GET", url)], ca_certs=str(certificate))
        assert result.status == 200 and result.json()["path"] == "/secure"
        # Not trusted without the CA. (circuits.net.client.TCPClient loses a
        # TLS failure that happens inside Transport.__init__ - a local server
        # can answer before the first do_handshake() returns - and then only
        # its timeout reports it: hence the short timeout and TimeoutError.)
        (refused,) = run_calls([("GET", url)], timeout=1.0)
        assert isinstance(refused, ssl.SSLError | TimeoutError)
    finally:
        server.shutdown()
        server.server_close()


class _Root(Controller):
    def index(self) -> str:
        return "hello from circuits.web"

    def echo(self, *args: Any, **kwargs: Any) -> str:
        return f"{self.request.method} {self.request.body.read().decode()}"

    def stream(self) -> Any:
        self.response.stream = True
        return iter(["a" * 1000, "b" * 1000])


def test_against_our_own_server() -> None:
    """Client and Server in one application, on one loop."""
    app = Manager()
    server = Server(("127.0.0.1", 0)).register(app)
    _Root().register(app)
    Client().register(app)
    base = f"http://127.0.0.1:{server.port}"
    caller = Caller([("GET", base + "/"), ("POST", base + "/echo", "payload"), ("GET", base + "/stream"),
                     ("GET", base + "/missing")]).register(app)
    with running(app):
        assert caller.done.wait(TIMEOUT)
    index, echo, stream, missing = caller.results
    assert (index.status, index.body) == (200, b"hello from circuits.web")
    assert echo.body == b"POST payload"
    assert stream.body == b"a" * 1000 + b"b" * 1000 and stream.headers["Transfer-Encoding"] == "chunked"
    assert missing.status == 404
    assert server.http.statistics()["connections"] <= 1  # one kept-alive connection served them all


class _Named(Controller):
    def index(self) -> str:
        return "root"

    def name(self) -> str:
        return "Earth"


def test_started_client_keeps_last_response_and_name_is_a_page() -> None:
    """A Client run as its own root (``client.start()``), polled the 3.x way."""
    with serve(_Named()) as server:
        client = Client()
        client.start()
        try:
            assert client.response is None
            client.fire(request("GET", f"http://127.0.0.1:{server.port}/name"))
            assert wait_for(lambda: client.response is not None)
            assert (client.response.status, client.response.read()) == (200, b"Earth")
            # The controller's page shadows the component's ``name``; repr still works.
            assert repr(server.app).startswith("<Server/")
            assert "_Named/" in repr(next(c for c in server.app.components if isinstance(c, _Named)))
        finally:
            client.stop()
            client.join(TIMEOUT)
