"""The 2.x client-side HTTP protocol component against a real HTTP server."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from circuits import Component, Manager
from circuits.net.protocols.http import HTTP, HTTPResponse, request
from circuits.net.sockets import TCPClient, connect


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        body = f"you asked for {self.path}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Test", "yes")
        self.end_headers()
        self.wfile.write(body)

    def do_HEAD(self) -> None:  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Length", "1234")  # a HEAD answer has no body anyway
        self.end_headers()

    def do_POST(self) -> None:  # noqa: N802
        size = int(self.headers["Content-Length"])
        data = self.rfile.read(size)
        self.send_response(201)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for piece in (data[:3], data[3:]):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        self.wfile.write(b"0\r\n\r\n")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[int]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


class Recorder(Component):
    channel = "web"

    def init(self) -> None:
        self.responses: list[HTTPResponse] = []

    def response(self, answer: HTTPResponse) -> None:
        self.responses.append(answer)


def _run_until(app: Manager, test, timeout: float = 10.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not test():
        assert time.monotonic() < deadline, "timed out"
        app.tick(0.05)


def test_pipelined_requests_get_their_answers_in_order(server: int) -> None:
    app = Manager()
    client = TCPClient(channel="web").register(app)
    HTTP(channel="web", host=f"127.0.0.1:{server}").register(app)
    recorder = Recorder().register(app)
    app.fire(connect("127.0.0.1", server), "web")
    _run_until(app, lambda: client.connected)
    app.fire(request("GET", "/one"), "web")
    app.fire(request("HEAD", "/two"), "web")
    app.fire(request("POST", "/three", b"hello world"), "web")
    _run_until(app, lambda: len(recorder.responses) == 3)
    one, two, three = recorder.responses
    assert (one.status, one.text(), one.header("x-test")) == (200, "you asked for /one", "yes")
    assert (two.status, two.method, two.body) == (200, "HEAD", b"")
    assert (three.status, three.body) == (201, b"hello world")
    app.fire(request("GET", "/after"), "web")
    _run_until(app, lambda: len(recorder.responses) == 4)
    assert recorder.responses[3].text() == "you asked for /after"
    client.close()
    app.flush()
    app.loop.close()
