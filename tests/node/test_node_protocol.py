"""circuits.node.protocol.Protocol: the 3.x per-connection framing, driven without sockets."""

from __future__ import annotations

from typing import Any

from circuits import BaseComponent, Component, Event, Manager, handler
from circuits.node.protocol import Protocol
from circuits.node.utils import dump_event


class Wire(BaseComponent):
    """Takes the ``write`` events of two Protocols and feeds each to the other."""

    channel = "*"

    def init(self) -> None:
        self.a: Protocol | None = None
        self.b: Protocol | None = None
        self.split = False
        self.sent: list[bytes] = []

    @handler("write", channel="a")
    def _from_a(self, data: bytes) -> None:
        self._feed(self.b, data)

    @handler("write", channel="b")
    def _from_b(self, sock: Any, data: bytes) -> None:
        assert sock == "the socket"
        self._feed(self.a, data)

    def _feed(self, to: Any, data: bytes) -> None:
        self.sent.append(data)
        chunks = [data[i:i + 1] for i in range(len(data))] if self.split else [data]
        for chunk in chunks:
            to.add_buffer(chunk)


class Adder(Component):
    channel = "math"

    def add(self, a: int, b: int) -> int:
        return a + b


def pair(**server_kwargs: Any) -> tuple[Manager, Wire, Protocol, Protocol]:
    app = Manager()
    wire = Wire().register(app)
    wire.a = Protocol(channel="a").register(app)
    wire.b = Protocol(sock="the socket", server=True, channel="b", **server_kwargs).register(app)
    Adder().register(app)
    return app, wire, wire.a, wire.b


def call(app: Manager, protocol: Protocol, event: Event) -> Any:
    gen = protocol.send(event)
    for _ in range(100):
        got = next(gen)
        if got is not None:
            return got
        app.flush()
    raise AssertionError("no answer")


def test_a_request_is_fired_on_the_peer_and_its_value_comes_back() -> None:
    app, wire, a, _b = pair()
    app.flush()
    event = Event.create("add", 2, 3)
    event.channels = ("math",)
    value = call(app, a, event)
    assert value.value == 5 and not value.errors
    assert all(data.endswith(b"~~~") for data in wire.sent)


def test_packets_split_anywhere_are_put_back_together() -> None:
    app, wire, a, _b = pair()
    app.flush()
    wire.split = True  # every write arrives one byte at a time
    value = call(app, a, _on_math(40, 2))
    assert value.value == 42 and len(wire.sent) == 2


def _on_math(*args: Any) -> Event:
    e = Event.create("add", *args)
    e.channels = ("math",)
    return e


def test_the_firewalls_and_the_denied_names_refuse_events() -> None:
    seen: list[str] = []

    def only_add(event: Event, sock: Any) -> bool:
        seen.append(event.name)
        return event.name == "add"

    app, _wire, a, _b = pair(receive_event_firewall=only_add)
    app.flush()
    refused = call(app, a, Event.create("hello"))
    assert refused.errors and refused.value[1].type == "PermissionError" and seen == ["hello"]
    denied = call(app, a, Event.create("signal", 15))  # never asks the firewall
    assert denied.errors and seen == ["hello"]
    assert call(app, a, _on_math(1, 1)).value == 2

    blocked = Protocol(send_event_firewall=lambda e, s: False, channel="c").register(app)
    value = next(blocked.send(Event.create("add", 1, 2)))
    assert value.errors and value.value[0] is PermissionError


def test_a_whole_packet_without_its_separator_is_taken_and_junk_is_dropped() -> None:
    app, wire, _a, b = pair()
    app.flush()
    b.add_buffer(b"not json~~~")  # dropped, counted
    b.add_buffer(dump_event(_on_math(5, 5), 7).encode())  # whole: handled now
    app.flush()
    assert b.refused == 1
    assert wire.sent[-1].startswith(b'{"type":"value","id":7,"value":10')
    b.add_buffer(b'{"type": "ev')  # partial: kept for more
    assert b._buffer == b'{"type": "ev'
