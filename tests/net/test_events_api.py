"""The documented API: event names and arguments, 2.x aliases, the bind parameter."""

from __future__ import annotations

import inspect
import socket
from pathlib import Path

import pytest

import circuits.net.sockets as sockets
from circuits.net import events
from circuits.net.addresses import parse_bind, split_host_port


@pytest.mark.parametrize(("cls", "args", "kwargs", "expected_args", "expected_kwargs"), [
    (events.connect, ("sock", "127.0.0.1", 8000), {}, ["sock", "127.0.0.1", 8000], {}),
    (events.connect, ("example.com", 443), {"secure": True}, ["example.com", 443], {"secure": True}),
    (events.disconnect, ("sock",), {}, ["sock"], {}),
    (events.disconnect, (), {}, [], {}),
    (events.connected, ("localhost", 80), {}, ["localhost", 80], {}),
    (events.disconnected, (), {}, [], {}),
    (events.read, ("sock", b"data"), {}, ["sock", b"data"], {}),
    (events.read, (b"data",), {}, [b"data"], {}),
    (events.write, ("sock", b"data"), {}, ["sock", b"data"], {}),
    (events.error, ("sock", OSError("boom")), {}, None, {}),
    (events.unreachable, ("localhost", 80), {}, ["localhost", 80, None], {}),
    (events.unreachable, ("localhost", 80, "refused"), {}, ["localhost", 80, "refused"], {}),
    (events.broadcast, (b"x", 9999), {}, [b"x", 9999], {}),
    (events.close, (), {}, [], {}),
    (events.close, ("sock",), {}, ["sock"], {}),
    (events.closed, (), {}, [], {}),
    (events.ready, ("component",), {}, ["component", None], {}),
    (events.ready, ("component", ("0.0.0.0", 80)), {}, ["component", ("0.0.0.0", 80)], {}),
    (events.starttls, ("sock",), {}, ["sock"], {}),
])
def test_events_carry_the_documented_arguments(cls, args, kwargs, expected_args, expected_kwargs):
    event = cls(*args, **kwargs)
    assert event.name == cls.__name__
    if expected_args is not None:
        assert event.args == expected_args
    assert event.kwargs == expected_kwargs


@pytest.mark.parametrize("cls", [events.connected, events.unreachable])
def test_events_with_required_arguments_reject_too_few(cls):
    with pytest.raises(TypeError):
        cls("only-host")


@pytest.mark.parametrize(("alias", "name"), [
    ("Connect", "connect"), ("Connected", "connected"), ("Close", "close"), ("Closed", "closed"),
    ("Read", "read"), ("Write", "write"), ("SocketError", "error"), ("Error", "error"),
    ("Disconnect", "disconnect"), ("Disconnected", "disconnected"), ("Unreachable", "unreachable"),
    ("Ready", "ready"), ("Broadcast", "broadcast"),
])
def test_2x_aliases_are_importable_from_sockets(alias, name):
    cls = getattr(sockets, alias)
    assert cls is getattr(events, name)
    assert cls.name == name


def test_sockets_module_has_the_documented_components():
    from circuits.net.sockets import (  # noqa: F401 - importability is the test
        Client,
        Pipe,
        Server,
        TCPClient,
        TCPServer,
        UDPClient,
        UDPServer,
        UNIXClient,
        UNIXServer,
    )
    assert UDPClient is UDPServer
    assert Client.channel == "client" and Server.channel == "server"
    assert TCPServer.socket_family == TCPClient.socket_family == UDPServer.socket_family == socket.AF_INET
    assert issubclass(TCPServer, Server) and issubclass(UNIXServer, Server)
    assert issubclass(TCPClient, Client) and issubclass(UNIXClient, Client)


def test_documented_constructor_defaults():
    server = inspect.signature(sockets.Server.__init__).parameters
    assert server["secure"].default is False
    assert server["backlog"].default == 5000
    assert server["bufsize"].default == 4096
    assert server["channel"].default == "server"
    client = inspect.signature(sockets.Client.__init__).parameters
    assert client["bind"].default is None
    assert client["bufsize"].default == 4096
    assert client["channel"].default == "client"


@pytest.mark.parametrize(("bind", "family", "expected"), [
    (8000, socket.AF_INET, ("0.0.0.0", 8000)),
    (8000, socket.AF_INET6, ("::", 8000)),
    (None, socket.AF_INET, ("0.0.0.0", 0)),
    (("127.0.0.1", 80), socket.AF_INET, ("127.0.0.1", 80)),
    (["127.0.0.1", "80"], socket.AF_INET, ("127.0.0.1", 80)),
    (("", 80), socket.AF_INET, ("0.0.0.0", 80)),
    ("127.0.0.1:80", socket.AF_INET, ("127.0.0.1", 80)),
    ("localhost:8080", socket.AF_INET, ("localhost", 8080)),
    (":80", socket.AF_INET, ("0.0.0.0", 80)),
    ("80", socket.AF_INET, ("0.0.0.0", 80)),
    ("[::1]:80", socket.AF_INET6, ("::1", 80)),
    ("[::]:0", socket.AF_INET6, ("::", 0)),
    ("/tmp/x.sock", socket.AF_UNIX, "/tmp/x.sock"),
    (Path("/tmp/x.sock"), socket.AF_UNIX, "/tmp/x.sock"),
])
def test_parse_bind(bind, family, expected):
    assert parse_bind(bind, family) == expected


@pytest.mark.parametrize(("bind", "family"), [
    ("host:port", socket.AF_INET),
    ("a:b:c", socket.AF_INET),
    ("127.0.0.1:70000", socket.AF_INET),
    ("[::1]", socket.AF_INET6),
    (8000, socket.AF_UNIX),
    (3.5, socket.AF_INET),
])
def test_parse_bind_rejects_nonsense(bind, family):
    with pytest.raises(ValueError):
        parse_bind(bind, family)


def test_split_host_port_default_host():
    assert split_host_port("1234", "::") == ("::", 1234)
    assert split_host_port(" example.org:1 ") == ("example.org", 1)
