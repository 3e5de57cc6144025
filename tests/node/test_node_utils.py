"""The node wire format: JSON packets, tagged tuples/bytes, refusals."""

from __future__ import annotations

import json

import pytest

from circuits import Event
from circuits.core.values import Value
from circuits.node import (
    PacketError,
    RemoteError,
    UnsafeValue,
    dump_event,
    dump_value,
    load_event,
    load_value,
)
from circuits.node.utils import decode, encode, load_packet

VALUES = [
    None, True, False, 0, -7, 2**70, 1.5, "", "text \n with \u2028 newline and é",
    [], [1, [2, [3]]], (), (1, "a", (2,)), b"", b"\x00\xffbytes", bytearray(b"ba"),
    {}, {"a": 1, "b": [1, 2]}, {"$tuple": [1, 2]}, {"$x": b"y", "z": (1,)},
]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_values_round_trip(value):
    wire = json.dumps(encode(value))
    expected = bytes(value) if isinstance(value, bytearray) else value
    assert decode(json.loads(wire)) == expected
    assert type(decode(json.loads(wire))) is type(expected)


class Thing:
    def __repr__(self) -> str:
        return "<Thing>"


@pytest.mark.parametrize("value", [Thing(), {1: "a"}, {"a", "b"}, float("nan"), float("inf"), [Thing()],
                                   object])
def test_unsafe_values_are_refused_in_events(value):
    with pytest.raises(UnsafeValue):
        dump_event(Event.create("hello", value), 1)


def test_unsafe_values_are_repred_in_values():
    value, id_, errors, _meta = load_value(dump_value({"t": Thing(), "n": float("nan")}, 4))
    assert value == {"t": "<Thing>", "n": "nan"} and id_ == 4 and errors is False


def test_event_round_trip():
    e = Event.create("greet", "bob", (1, 2), b"\x01", flag=True, opts={"k": [1]})
    event, id_ = load_event(dump_event(e, 42, ("greeter",)))
    channels = event.channels
    assert (event.name, event.args, event.kwargs) == ("greet", ["bob", (1, 2), b"\x01"],
                                                      {"flag": True, "opts": {"k": [1]}})
    assert id_ == 42 and channels == ("greeter",)


def test_value_of_a_Value_and_errors():
    v = Value()
    v.value = [1, (2, 3)]
    assert load_value(dump_value(v, 7)) == ([1, (2, 3)], 7, False, {})
    failed = Value()
    failed.errors = True
    failed.value = (ValueError, ValueError("boom"), ["  File x, line 1\n"])
    (etype, evalue, tb), id_, errors, _meta = load_value(dump_value(failed, 8))
    assert etype is RemoteError and errors and id_ == 8
    assert (evalue.type, evalue.message, tb) == ("ValueError", "boom", ["  File x, line 1\n"])


def test_an_event_s_channels_default_to_its_own():
    e = Event.create("greet")
    e.channels = ("a", "b")
    assert load_event(dump_event(e, 1))[0].channels == ("a", "b")
    assert load_event(dump_event(Event.create("greet"), 1))[0].channels == ("*",)


class flagged(Event):
    success = True


def test_meta_carries_flags_and_instance_attributes_but_not_machinery():
    e = flagged(1)
    e.user = {"k": (1, 2)}
    e._mine = 2
    e.lock = object()  # cannot cross: left out, the event still goes
    packet = json.loads(dump_event(e, 3))
    assert packet["meta"] == {"success": True, "user": {"k": {"$tuple": [1, 2]}}, "_mine": 2}
    # What a peer may not set: dunder names, the event's own machinery.
    packet["meta"].update({"__class__": "x", "__dict__": {}, "args": [9], "value": 1, "stop": 0})
    event, id_ = load_event(json.dumps(packet))
    assert (event.name, event.args, event.success, event.user, event._mine) == \
        ("flagged", [1], True, {"k": (1, 2)}, 2)
    assert not hasattr(event, "lock") and callable(event.stop) and type(event).__name__ == "flagged"


def test_a_value_carries_its_event_s_attributes_without_the_flags():
    e = flagged()
    e.note = "set by a handler"
    v = Value(e)
    v.value = "ok"
    assert load_value(dump_value(v, 5)) == ("ok", 5, False, {"note": "set by a handler"})
    with pytest.raises(PacketError):
        load_value(b'{"type": "value", "id": 1, "meta": [1]}')


@pytest.mark.parametrize("line", [
    b"not json",
    b"[1, 2]",
    b'{"type": "event"}',  # no id
    b'{"type": "event", "id": true, "name": "x"}',  # bool is not an id
    b'{"type": "other", "id": 1}',
    b'{"type": "event", "id": 1, "name": "__import__(\'os\')"}',
    b'{"type": "event", "id": 1, "name": "x", "args": {"a": 1}}',
    b'{"type": "event", "id": 1, "name": "x", "args": [{"$pickle": "..."}]}',
    b'{"type": "event", "id": 1, "name": "x", "args": [{"$bytes": "not base64!"}]}',
    b'{"type": "event", "id": 1, "name": "x", "kwargs": {"_name": 1}}',
    b'{"type": "event", "id": 1, "name": "x", "kwargs": {"not an identifier": 1}}',
    b'{"type": "event", "id": 1, "name": "x", "channels": [1]}',
    b'{"type": "event", "id": 1, "name": "x", "args": ' + b"[" * 5000 + b"]" * 5000 + b"}",
])
def test_bad_packets_are_refused(line):
    with pytest.raises(PacketError):
        load_event(load_packet(line))
