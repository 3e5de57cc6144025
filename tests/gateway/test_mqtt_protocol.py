"""The sans-I/O MQTT 3.1.1 client protocol: exact bytes out (checked
against the standard's layouts), every broker packet fed whole, one byte at
a time and with a partial next packet, and bad packets rejected."""

from __future__ import annotations

import struct
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.mqtt.protocol import (
    Connack,
    Message,
    MqttProtocol,
    MqttProtocolError,
    Pingresp,
    Published,
    Suback,
    _remaining,
)

Feed = Callable[[MqttProtocol, bytes], list[object]]


def whole(proto: MqttProtocol, data: bytes) -> list[object]:
    return list(proto.receive_data(data))


def bytewise(proto: MqttProtocol, data: bytes) -> list[object]:
    return [event for i in range(len(data)) for event in proto.receive_data(data[i:i + 1])]


def with_trailing(proto: MqttProtocol, data: bytes) -> list[object]:
    # A partial PUBLISH after the packets: held, no event, no error.
    events = list(proto.receive_data(data + b"\x30\x0a\x00\x01t"))
    assert proto._in == b"\x30\x0a\x00\x01t"
    return events


FEEDS: list[Feed] = [whole, bytewise, with_trailing]


def test_connect_packet_is_laid_out_as_the_standard_says() -> None:
    proto = MqttProtocol("gw", 30, username="u", password="p", will=("gw/status", b"offline", 1, True))
    proto.connect()
    body = (b"\x00\x04MQTT\x04" + bytes((0x80 | 0x40 | 0x20 | (1 << 3) | 0x04 | 0x02,)) + b"\x00\x1e"
            + b"\x00\x02gw" + b"\x00\x09gw/status" + b"\x00\x07offline" + b"\x00\x01u" + b"\x00\x01p")
    assert proto.data_to_send() == b"\x10" + bytes((len(body),)) + body
    assert proto.data_to_send() == b""


def test_connect_without_will_or_credentials() -> None:
    proto = MqttProtocol("", 0)
    proto.connect()
    assert proto.data_to_send() == b"\x10\x0c\x00\x04MQTT\x04\x02\x00\x00\x00\x00"


@pytest.mark.parametrize("feed", FEEDS, ids=lambda f: f.__name__)
def test_connack_accepts_or_refuses(feed: Feed) -> None:
    proto = MqttProtocol()
    assert feed(proto, b"\x20\x02\x00\x00") == [Connack(0, False)] and proto.connected
    refused = MqttProtocol()
    (ack,) = feed(refused, b"\x20\x02\x00\x05")
    assert ack == Connack(5, False) and ack.reason == "not authorized" and not refused.connected


@pytest.mark.parametrize("feed", FEEDS, ids=lambda f: f.__name__)
def test_qos1_publish_completes_on_its_puback_only(feed: Feed) -> None:
    proto = MqttProtocol()
    mids = [proto.publish("a/b", b"x" * n, 1) for n in (1, 200)]
    assert mids == [1, 2]
    out = proto.data_to_send()
    assert out == (b"\x32\x08\x00\x03a/b\x00\x01x"
                   + b"\x32" + _remaining(207) + b"\x00\x03a/b\x00\x02" + b"x" * 200)
    # An ack for an unknown mid (an earlier connection's) is no completion.
    acks = b"\x40\x02\x00\x02" + b"\x40\x02\x00\x09" + b"\x40\x02\x00\x01"
    assert feed(proto, acks) == [Published(2), Published(1)]
    assert proto.inflight == {}


@pytest.mark.parametrize("feed", FEEDS, ids=lambda f: f.__name__)
def test_qos2_publish_sends_pubrel_and_completes_on_pubcomp(feed: Feed) -> None:
    proto = MqttProtocol()
    mid = proto.publish("t", b"v", 2, retain=True)
    assert proto.data_to_send() == b"\x35\x06\x00\x01t\x00\x01v"
    assert feed(proto, b"\x50\x02\x00\x01") == []
    assert proto.data_to_send() == b"\x62\x02\x00\x01"  # PUBREL
    proto._in.clear()  # (with_trailing left a partial packet)
    assert feed(MqttProtocol(), b"\x70\x02\x00\x01") == []  # a PUBCOMP for nothing in flight
    assert proto.receive_data(b"\x70\x02\x00\x01") == [Published(mid)]


def test_qos0_gets_a_mid_but_no_packet_id() -> None:
    proto = MqttProtocol()
    assert proto.publish("t", b"v") == 1
    assert proto.data_to_send() == b"\x30\x04\x00\x01tv"
    assert proto.inflight == {}


@pytest.mark.parametrize("feed", FEEDS, ids=lambda f: f.__name__)
def test_incoming_messages_are_acknowledged_and_qos2_resends_delivered_once(feed: Feed) -> None:
    proto = MqttProtocol()
    q1 = b"\x32\x09\x00\x03a/w\x00\x07hi"
    q2 = b"\x34\x09\x00\x03a/w\x00\x08hi"
    events = feed(proto, q1 + q2 + q2 + b"\x62\x02\x00\x08" + b"\xd0\x00")
    assert events == [Message("a/w", b"hi", 1, False), Message("a/w", b"hi", 2, False), Pingresp()]
    assert proto.data_to_send() == (b"\x40\x02\x00\x07" + b"\x50\x02\x00\x08" + b"\x50\x02\x00\x08"
                                    + b"\x70\x02\x00\x08")


def test_subscribe_and_suback() -> None:
    proto = MqttProtocol()
    mid = proto.subscribe([("gw/+/write", 1), ("x", 0)])
    assert proto.data_to_send() == b"\x82\x13\x00\x01\x00\x0agw/+/write\x01\x00\x01x\x00"
    assert proto.receive_data(b"\x90\x04\x00\x01\x01\x80") == [Suback(mid, (1, 0x80))]


def test_ping_and_disconnect() -> None:
    proto = MqttProtocol()
    proto.ping()
    proto.disconnect()
    assert proto.data_to_send() == b"\xc0\x00\xe0\x00"


@pytest.mark.parametrize(("data", "why"), [
    (b"\x40\x03\x00\x01\x00", "not 2"),
    (b"\x36\x05\x00\x01t\x00\x01", "malformed PUBLISH"),  # QoS 3
    (b"\x30\xff\xff\xff\xff\x01", "remaining length"),
    (b"\xa0\x00", "unexpected packet type 10"),
    (b"\x20\x01\x00", "CONNACK"),
])
def test_bad_packets_are_errors(data: bytes, why: str) -> None:
    with pytest.raises(MqttProtocolError, match=why):
        MqttProtocol().receive_data(data)


def test_a_packet_over_the_limit_is_refused_before_it_is_buffered() -> None:
    with pytest.raises(MqttProtocolError, match="over the limit"):
        MqttProtocol(max_packet=100).receive_data(b"\x30" + _remaining(5000))


def test_mids_skip_those_in_flight_and_wrap() -> None:
    proto = MqttProtocol()
    proto._next_mid = 0xFFFE
    assert [proto.publish("t", b"", 1) for _ in range(3)] == [0xFFFF, 1, 2]
    proto._next_mid = 0xFFFE
    assert proto.publish("t", b"", 1) == 3  # 0xFFFF, 1 and 2 are still in flight


@given(length=st.integers(0, 268_435_455))
def test_remaining_length_round_trips(length: int) -> None:
    data = _remaining(length)
    assert 1 <= len(data) <= 4
    value = sum((b & 0x7F) << (7 * i) for i, b in enumerate(data))
    assert value == length and all(b & 0x80 for b in data[:-1]) and not data[-1] & 0x80


@given(payloads=st.lists(st.binary(max_size=300), min_size=1, max_size=5), cut=st.integers(0, 2000))
def test_publishes_parse_back_however_they_are_cut(payloads: list[bytes], cut: int) -> None:
    # What we send as QoS 1 PUBLISH is what a broker forwards: parse it back.
    sender, receiver = MqttProtocol(), MqttProtocol()
    for payload in payloads:
        sender.publish("r/t", payload, 1)
    wire = sender.data_to_send()
    events = receiver.receive_data(wire[:cut]) + receiver.receive_data(wire[cut:])
    assert [e.payload for e in events if isinstance(e, Message)] == payloads
    # ... and the receiver owes one PUBACK per message, in order.
    acks = receiver.data_to_send()
    assert acks == b"".join(b"\x40\x02" + struct.pack("!H", mid) for mid in range(1, len(payloads) + 1))
