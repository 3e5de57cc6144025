"""JSON-RPC 2.0 and XML-RPC dispatchers, called with urllib and xmlrpc.client."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import xmlrpc.client
from collections.abc import Iterator
from typing import Any

import pytest

from circuits import Component, Event, Manager
from circuits.web import Controller, Server
from circuits.web.dispatchers.jsonrpc import JSONRPC
from circuits.web.dispatchers.rpc import RESERVED, RPCError, check_method
from circuits.web.dispatchers.xmlrpc import XMLRPC, UnsafeXML, safe_loads
from tests.core.helpers import TIMEOUT, running


class slow_double(Event):
    pass


class API(Component):
    channel = "api"

    def add(self, a: int, b: int) -> int:
        return a + b

    def greet(self, name: str = "world") -> str:
        return f"hello {name}"

    def fail(self) -> None:
        raise KeyError("no such thing")

    def nothing(self) -> None:
        return None

    def blob(self) -> Any:
        return object()

    def doubled(self, x: int) -> Any:
        value = yield self.call(slow_double(x))
        return value.value

    def slow_double(self, x: int) -> int:
        return 2 * x


class Root(Controller):
    def index(self) -> str:
        return "controller"


@pytest.fixture
def base() -> Iterator[str]:
    app = Manager()
    server = Server(("127.0.0.1", 0)).register(app)
    Root().register(app)
    API().register(app)
    JSONRPC("/json", rpc_channel="api").register(app)
    XMLRPC("/RPC2", rpc_channel="api").register(app)
    with running(app):
        yield f"http://127.0.0.1:{server.port}"


def post(url: str, data: bytes, content_type: str = "application/json") -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=data, headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def jcall(base: str, payload: Any) -> Any:
    status, body = post(f"{base}/json", json.dumps(payload).encode())
    assert status in (200, 204)
    return json.loads(body) if body else None


def test_jsonrpc_calls(base: str) -> None:
    assert jcall(base, {"jsonrpc": "2.0", "method": "add", "params": [2, 3], "id": 1}) == {
        "jsonrpc": "2.0", "result": 5, "id": 1}
    assert jcall(base, {"jsonrpc": "2.0", "method": "greet", "params": {"name": "ann"}, "id": "x"})[
        "result"] == "hello ann"
    assert jcall(base, {"method": "greet", "id": 7})["result"] == "hello world"  # 1.0 style
    assert jcall(base, {"jsonrpc": "2.0", "method": "doubled", "params": [21], "id": 2})["result"] == 42
    assert jcall(base, {"jsonrpc": "2.0", "method": "nothing", "id": 3})["result"] is None


def test_jsonrpc_errors(base: str) -> None:
    def code(payload: Any) -> int:
        return jcall(base, payload)["error"]["code"]

    assert code({"jsonrpc": "2.0", "method": "missing", "id": 1}) == -32601
    assert code({"jsonrpc": "2.0", "method": "close", "id": 1}) == -32601  # reserved: never fired
    assert code({"jsonrpc": "2.0", "method": "_private", "id": 1}) == -32601
    assert code({"jsonrpc": "2.0", "method": "add", "params": [1], "id": 1}) == -32602
    assert code({"jsonrpc": "2.0", "method": "fail", "id": 1}) == -32000
    assert code({"jsonrpc": "2.0", "method": "blob", "id": 1}) == -32603
    assert code({"jsonrpc": "2.0", "id": 1}) == -32600
    status, body = post(f"{base}/json", b"{not json")
    assert json.loads(body)["error"]["code"] == -32700


def test_jsonrpc_batch_and_notifications(base: str) -> None:
    replies = jcall(base, [
        {"jsonrpc": "2.0", "method": "add", "params": [1, 1], "id": 1},
        {"jsonrpc": "2.0", "method": "add", "params": [5, 5]},  # notification: no reply
        {"jsonrpc": "2.0", "method": "missing", "id": 3},
    ])
    assert [r["id"] for r in replies] == [1, 3]
    assert replies[0]["result"] == 2 and replies[1]["error"]["code"] == -32601
    assert jcall(base, {"jsonrpc": "2.0", "method": "add", "params": [1, 2]}) is None  # 204
    assert jcall(base, [])["error"]["code"] == -32600


def test_rpc_coexists_with_the_dispatcher(base: str) -> None:
    with urllib.request.urlopen(base + "/", timeout=TIMEOUT) as r:
        assert r.read() == b"controller"
    with pytest.raises(urllib.error.HTTPError) as info:  # a GET is not a call: the dispatcher's 404
        urllib.request.urlopen(base + "/json", timeout=TIMEOUT)
    assert info.value.code == 404


def test_xmlrpc_calls(base: str) -> None:
    proxy = xmlrpc.client.ServerProxy(f"{base}/RPC2", allow_none=True)
    assert proxy.add(2, 3) == 5
    assert proxy.greet("bob") == "hello bob"
    assert proxy.doubled(4) == 8
    assert proxy.nothing() is None
    with pytest.raises(xmlrpc.client.Fault) as info:
        proxy.missing()
    assert info.value.faultCode == -32601
    with pytest.raises(xmlrpc.client.Fault) as info:
        proxy.fail()
    assert info.value.faultCode == -32000 and "no such thing" in info.value.faultString
    with pytest.raises(xmlrpc.client.Fault):
        proxy.write("x")


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<methodCall><methodName>greet</methodName><params><param><value><string>&lol2;</string></value></param>
</params></methodCall>"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<methodCall><methodName>greet</methodName><params><param><value><string>&x;</string></value></param>
</params></methodCall>"""


@pytest.mark.parametrize("document", [BILLION_LAUGHS, XXE, XXE.decode().encode("utf-16")])
def test_xmlrpc_refuses_entities(base: str, document: bytes) -> None:
    with pytest.raises(UnsafeXML):
        safe_loads(document)
    status, body = post(f"{base}/RPC2", document, "text/xml")
    assert status == 200
    with pytest.raises(xmlrpc.client.Fault) as info:
        xmlrpc.client.loads(body)
    assert info.value.faultCode == -32700 and "root:" not in info.value.faultString


def test_method_name_rules() -> None:
    assert check_method("getUser") == "get_user"
    for name in sorted(RESERVED)[:5] + ["x_success", "_hidden", "a b", 42]:
        with pytest.raises(RPCError):
            check_method(name)
