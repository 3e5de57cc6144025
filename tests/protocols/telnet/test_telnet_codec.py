"""Telnet codec, Q-method options and the RFC 2217 server session."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from circuits.protocols.telnet import (
    ComPortRequest,
    ComPortServer,
    Data,
    Negotiation,
    OptionTable,
    Subnegotiation,
    TelnetDecoder,
    TelnetError,
    escape,
    subnegotiation,
)
from circuits.protocols.telnet import constants as C

CASES = [
    (b"hello", [Data(b"hello")]),
    (b"a\xff\xffb", [Data(b"a"), Data(b"\xff"), Data(b"b")]),
    (b"\xff\xfb\x2c", [Negotiation(C.WILL, 44)]),
    (b"\xff\xfa\x2c\x01\x00\x00\x25\x80\xff\xf0", [Subnegotiation(44, b"\x01\x00\x00\x25\x80")]),
    (b"\xff\xfa\x2c\x01\xff\xff\xff\xf0", [Subnegotiation(44, b"\x01\xff")]),
]


def _merge(events):
    out, buf = [], b""
    for e in events:
        if isinstance(e, Data):
            buf += e.data
        else:
            if buf:
                out.append(Data(buf))
                buf = b""
            out.append(e)
    if buf:
        out.append(Data(buf))
    return out


@pytest.mark.parametrize("wire,expected", CASES)
def test_whole_bytewise_trailing(wire, expected):
    assert _merge(TelnetDecoder().receive_data(wire)) == _merge(expected)
    dec = TelnetDecoder()
    got = [e for i in range(len(wire)) for e in dec.receive_data(wire[i:i + 1])]
    assert _merge(got) == _merge(expected)
    assert _merge(TelnetDecoder().receive_data(wire + b"tail")) == _merge([*expected, Data(b"tail")])


def test_subnegotiation_bounded():
    dec = TelnetDecoder(max_subnegotiation=16)
    with pytest.raises(TelnetError):
        list(dec.receive_data(b"\xff\xfa\x2c" + b"x" * 100))
    with pytest.raises(TelnetError):
        list(dec.receive_data(b"more"))


@given(st.binary(max_size=300))
def test_escape_roundtrip(data):
    assert _merge(TelnetDecoder().receive_data(escape(data))) == ([Data(data)] if data else [])


@given(st.binary(max_size=300))
def test_garbage_only_telnet_error(data):
    server = ComPortServer()
    try:
        server.receive_data(data)
    except TelnetError:
        pass


def test_q_method_same_option_many_times_answers_once():
    table = OptionTable({C.BINARY}, {C.BINARY})
    replies = [table.receive(C.DO, C.BINARY)[0] for _ in range(1000)]
    assert replies[0] == bytes((C.IAC, C.WILL, C.BINARY))
    assert all(r == b"" for r in replies[1:])
    assert table.receive(C.DO, 99)[0] == bytes((C.IAC, C.WONT, 99))


def test_refusing_client_settles():
    server = ComPortServer()
    out = server.start()
    assert out
    wire = b""
    for i in range(0, len(out), 3):
        verb, opt = out[i + 1], out[i + 2]
        wire += bytes((C.IAC, C.WONT if verb == C.DO else C.DONT, opt))
    server.receive_data(wire)
    assert server.data_to_send() == b""


def test_baudrate_request_and_reply():
    server = ComPortServer()
    server.start()
    server.receive_data(bytes((C.IAC, C.WILL, 44)))
    events = server.receive_data(subnegotiation(44, b"\x01" + struct.pack("!I", 9600)))
    assert events == [ComPortRequest(C.SET_BAUDRATE, 9600)]
    assert server.reply(C.SET_BAUDRATE, 9600) == subnegotiation(44, b"\x65" + struct.pack("!I", 9600))


def test_com_port_command_while_our_request_is_pending_is_taken_as_the_answer():
    # pyserial's reader thread can take our crossing WILL/DO as the answer to
    # requests it then never sends: its first COM-PORT-OPTION command arrives
    # while both our requests are still WANTYES.
    server = ComPortServer()
    server.start()
    events = server.receive_data(subnegotiation(44, b"\x01" + struct.pack("!I", 9600)))
    assert events == [ComPortRequest(C.SET_BAUDRATE, 9600)]
    assert server.active


def test_com_port_command_after_a_refusal_is_ignored():
    server = ComPortServer()
    server.start()
    server.receive_data(bytes((C.IAC, C.WONT, 44, C.IAC, C.DONT, 44)))
    events = server.receive_data(subnegotiation(44, b"\x01" + struct.pack("!I", 9600)))
    assert [type(e).__name__ for e in events] == ["Ignored"]
    assert not server.active


@given(st.lists(st.binary(max_size=40), max_size=12))
def test_only_data_promises_exactly_what_receive_data_does(chunks):
    # The bridge's hot path skips receive_data when only_data() says so:
    # it must be right in every state a session can be in.
    server = ComPortServer()
    for chunk in chunks:
        if not server.only_data(chunk):
            try:
                server.receive_data(chunk)
            except TelnetError:
                assert not server.only_data(b"x")  # a broken session never takes the fast path
                return
            server.data_to_send()
            continue
        assert server.receive_data(chunk) == ([Data(chunk)] if chunk else [])
        assert server.data_to_send() == b""


def test_only_data_is_false_inside_a_command_split_across_reads():
    server = ComPortServer()
    assert server.only_data(b"plain") is True
    assert server.only_data(b"a\xffb") is False
    server.receive_data(b"\xff\xfa\x2c\x01")  # a SET-BAUDRATE cut after its code
    assert server.only_data(b"\x00\x00") is False  # these bytes are its parameter, not data
    server.receive_data(b"\x00\x00\x25\x80\xff\xf0")
    assert server.only_data(b"plain") is True
