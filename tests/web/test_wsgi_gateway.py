"""wsgi.Gateway: WSGI applications hosted in a circuits.web Server, called with urllib."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any
from wsgiref.validate import validator

import pytest

from circuits import Manager
from circuits.web import Controller, Server
from circuits.web.wsgi import Gateway
from tests.core.helpers import TIMEOUT, running


def hello(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    body = (f"{environ['REQUEST_METHOD']} script={environ['SCRIPT_NAME']!r} path={environ['PATH_INFO']!r} "
            f"qs={environ['QUERY_STRING']!r} x={environ.get('HTTP_X_FOO')!r}").encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def chunks(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    yield b""  # an empty first chunk must not send the head early
    for i in range(5):
        yield f"chunk{i};".encode()


def writer(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    write = start_response("201 Created", [("Content-Type", "text/plain")])
    write(b"written-")
    return [b"returned"]


def empty(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("204 No Content", [])
    return []


def null(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b""]


def upload(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    stream = environ["wsgi.input"]
    total, pieces = 0, 0
    while True:
        piece = stream.read(8192)
        if not piece:
            break
        total += len(piece)
        pieces += 1
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [f"{total} bytes in {pieces} reads, CONTENT_LENGTH={environ.get('CONTENT_LENGTH')}".encode()]


def broken(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    raise RuntimeError("the application is broken")


def broken_late(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    raise ValueError("failed before the first chunk")
    yield b"never"  # pragma: no cover


def no_start(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    return [b"forgot start_response"]


def text(environ: dict[str, Any], start_response: Any) -> str:
    """A 3.x-style application: the body is one ``str``, not a list of bytes."""
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
    return "Grüße"


def text_chunks(environ: dict[str, Any], start_response: Any) -> Iterator[str]:
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
    yield "Hello "
    yield "Wörld"


def write_only(environ: dict[str, Any], start_response: Any) -> list[str]:
    write = start_response("200 OK", [("Content-Type", "text/plain")])
    write("sent by write()")
    return [""]


class Root(Controller):
    def index(self) -> str:
        return "controller"


APPS = {"/": validator(hello), "/chunks": validator(chunks), "/writer": writer, "/empty": validator(empty),
        "/null": validator(null), "/upload": validator(upload), "/broken": broken,
        "/broken-late": broken_late, "/no-start": no_start, "/text": text, "/text-chunks": text_chunks,
        "/write-only": write_only}


@pytest.fixture
def base() -> Iterator[str]:
    app = Manager()
    server = Server(("127.0.0.1", 0)).register(app)
    Gateway(APPS).register(app)
    with running(app):
        yield f"http://127.0.0.1:{server.port}"


def fetch(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, bytes, Any]:
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as r:
            return r.status, r.read(), r.headers
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers


def test_environ_and_mount_points(base: str) -> None:
    status, body, _ = fetch(f"{base}/some/where?a=1&b=%20", headers={"X-Foo": "bar"})
    assert status == 200
    assert body == b"GET script='' path='/some/where' qs='a=1&b=%20' x='bar'"
    status, body, _ = fetch(f"{base}/caf%C3%A9")  # PEP 3333: PATH_INFO is bytes as latin-1
    assert body == b"GET script='' path='/caf\xc3\x83\xc2\xa9' qs='' x=None"


def test_generator_write_empty_and_null(base: str) -> None:
    status, body, headers = fetch(f"{base}/chunks")
    assert status == 200 and body == b"chunk0;chunk1;chunk2;chunk3;chunk4;"
    assert headers.get("Transfer-Encoding") == "chunked"
    status, body, _ = fetch(f"{base}/writer")
    assert status == 201 and body == b"written-returned"
    status, body, _ = fetch(f"{base}/empty")
    assert status == 204 and body == b""
    status, body, headers = fetch(f"{base}/null")
    assert status == 200 and body == b"" and headers["Content-Length"] == "0"


def test_str_bodies_and_write_only(base: str) -> None:
    status, body, headers = fetch(f"{base}/text")
    assert (status, body) == (200, "Grüße".encode())
    assert headers["Content-Length"] == str(len(body)) and headers.get("Transfer-Encoding") is None
    status, body, headers = fetch(f"{base}/text-chunks")
    assert body == "Hello Wörld".encode() and headers.get("Transfer-Encoding") == "chunked"
    # PEP 3333: write() data is not buffered up to a Content-Length.
    status, body, headers = fetch(f"{base}/write-only")
    assert body == b"sent by write()" and headers.get("Transfer-Encoding") == "chunked"


def test_input_streaming(base: str) -> None:
    data = b"u" * 300_000
    status, body, _ = fetch(f"{base}/upload", data=data, headers={"Content-Type": "application/octet-stream"})
    assert status == 200
    assert body.startswith(b"300000 bytes in ") and body.endswith(b"CONTENT_LENGTH=300000")


@pytest.mark.parametrize("path", ["/broken", "/broken-late", "/no-start"])
def test_errors_become_500(base: str, path: str) -> None:
    status, body, _ = fetch(base + path)
    assert status == 500
    assert b"broken" not in body and b"failed before" not in body  # no traceback unless debugging


def test_error_pages_carry_the_traceback_in_debug_mode() -> None:
    app = Manager()
    server = Server(("127.0.0.1", 0), debug=True).register(app)
    Gateway({"/": broken}).register(app)
    with running(app):
        status, body, _ = fetch(f"http://127.0.0.1:{server.port}/")
    assert status == 500
    assert b"RuntimeError" in body and b"the application is broken" in body


def test_unmounted_paths_fall_through_to_the_dispatcher() -> None:
    app = Manager()
    server = Server(("127.0.0.1", 0)).register(app)
    Root().register(app)
    Gateway({"/wsgi": hello}).register(app)
    with running(app):
        base = f"http://127.0.0.1:{server.port}"
        assert fetch(f"{base}/")[1] == b"controller"
        assert fetch(f"{base}/wsgi/x")[1] == b"GET script='/wsgi' path='/x' qs='' x=None"
        assert fetch(f"{base}/wsgi")[1] == b"GET script='/wsgi' path='' qs='' x=None"
        assert fetch(f"{base}/wsgixyz")[0] == 404


def test_single_app_and_longest_prefix() -> None:
    gateway = Gateway(hello)
    assert gateway.match("/anything") == ("/", hello)
    gateway = Gateway({"/a": chunks, "/a/b/": empty, "/": hello})
    assert gateway.match("/a/b/c")[0] == "/a/b"
    assert gateway.match("/a/bc")[0] == "/a"
    assert gateway.match("/x")[0] == "/"
