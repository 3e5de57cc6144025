"""VirtualHosts: the Host header picks a path prefix before the dispatchers run."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from typing import Any

import pytest

from circuits import Manager
from circuits.web import Controller, Server
from circuits.web.dispatchers.virtualhosts import VirtualHosts
from circuits.web.wsgi import Gateway
from tests.core.helpers import TIMEOUT, running


class Root(Controller):
    def index(self) -> str:
        return "main site"


class SiteA(Controller):
    channel = "/a"

    def index(self) -> str:
        return "site A"

    def page(self) -> str:
        return f"A page at {self.request.path}"


def wsgi_b(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [f"B via WSGI: {environ['SCRIPT_NAME']} {environ['PATH_INFO']}".encode()]


@pytest.fixture
def port() -> Iterator[int]:
    app = Manager()
    server = Server(("127.0.0.1", 0)).register(app)
    VirtualHosts({"a.example": "/a", "B.example:8080": "/b/"}).register(app)
    Root().register(app)
    SiteA().register(app)
    Gateway({"/b": wsgi_b}).register(app)
    with running(app):
        yield server.port


def get(port: int, host: str, path: str = "/") -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        conn.request("GET", path, headers={"Host": host})
        r = conn.getresponse()
        return r.status, r.read().decode()
    finally:
        conn.close()


def test_hosts_map_to_prefixes(port: int) -> None:
    assert get(port, "a.example") == (200, "site A")
    assert get(port, "A.EXAMPLE:80", "/page") == (200, "A page at /a/page")  # case and port
    assert get(port, "b.example:8080", "/x/y") == (200, "B via WSGI: /b /x/y")
    assert get(port, "other.example") == (200, "main site")


def test_prefix_lookup() -> None:
    vhosts = VirtualHosts({"a.example": "/a", "root.example": "/"})
    assert vhosts.prefix_for("a.example") == "/a"
    assert vhosts.prefix_for("a.example:8000") == "/a"
    assert vhosts.prefix_for("root.example") == ""
    assert vhosts.prefix_for("[::1]") is None
