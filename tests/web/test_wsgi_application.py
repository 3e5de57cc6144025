"""wsgi.Application: a circuits.web tree served by wsgiref.simple_server."""

from __future__ import annotations

import io
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server
from wsgiref.validate import validator

import pytest

from circuits import Event
from circuits.web import Controller
from circuits.web.wsgi import Application
from tests.core.helpers import TIMEOUT


class later(Event):
    """Answered by a handler that waits on a timer first."""


class Root(Controller):
    def index(self) -> str:
        return "Hello World!"

    def form(self, name: str = "nobody", *args: Any) -> str:
        return f"hello {name} ({self.request.method})"

    def headers(self) -> str:
        self.response.headers["X-Custom"] = "yes"
        self.response.cookie["session"] = "abc"
        return self.request.headers.get("X-In", "-")

    def fail(self) -> str:
        raise ValueError("boom")

    def stream(self) -> Iterator[str]:
        self.response.stream = True
        return iter(["a", "b", "c"])

    def waiting(self) -> Any:
        value = yield self.call(later())
        return f"waited for {value.value}"


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def base() -> Iterator[str]:
    app = Application() + Root()
    server = make_server("127.0.0.1", 0, validator(app), handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def fetch(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, bytes, Any]:
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as r:
            return r.status, r.read(), r.headers
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers


def test_index_args_and_post(base: str) -> None:
    assert fetch(base + "/")[:2] == (200, b"Hello World!")
    assert fetch(base + "/form?name=ann")[1] == b"hello ann (GET)"
    body = urllib.parse.urlencode({"name": "bob"}).encode()
    assert fetch(base + "/form", data=body)[1] == b"hello bob (POST)"


def test_headers_cookies_errors_and_streams(base: str) -> None:
    status, body, headers = fetch(base + "/headers", headers={"X-In": "in"})
    assert (status, body) == (200, b"in")
    assert headers["X-Custom"] == "yes" and "session=abc" in headers["Set-Cookie"]
    assert fetch(base + "/missing")[0] == 404
    status, body, _ = fetch(base + "/fail")
    assert status == 500 and b"boom" not in body
    assert fetch(base + "/stream")[1] == b"abc"
    assert fetch(base + "/waiting")[1] == b"waited for None"  # a task: the loop runs until it is done


def test_direct_call_without_a_server() -> None:
    app = Application() + Root()
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        seen["status"], seen["headers"] = status, headers
        return lambda data: None

    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "QUERY_STRING": "", "SERVER_NAME": "x",
               "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.input": io.BytesIO(),
               "wsgi.url_scheme": "http", "wsgi.errors": io.StringIO()}
    assert b"".join(app(environ, start_response)) == b"Hello World!"
    assert seen["status"] == "200 OK"
    assert ("Content-Length", "12") in seen["headers"]
