"""Modbus PDUs and the MBAP header: spec examples, limits, and hypothesis
round trips in which nothing but ModbusError escapes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circuits.protocols.modbus import (
    BitsResponse,
    ExceptionResponse,
    MbapDecoder,
    ModbusError,
    ReadRequest,
    ReadWriteRegisters,
    RegistersResponse,
    TcpAdu,
    WriteCoils,
    WriteRegisters,
    WriteResponse,
    WriteSingle,
    check_response,
    decode_request,
    decode_response,
    encode_adu,
    is_write,
)

# Examples from the Modbus Application Protocol v1.1b3, section 6.
REQUESTS = [
    ("6.1 read coils", "0100130013", ReadRequest(1, 19, 19)),
    ("6.2 read discrete", "0200c40016", ReadRequest(2, 196, 22)),
    ("6.3 read holding", "03006b0003", ReadRequest(3, 107, 3)),
    ("6.4 read input", "0400080001", ReadRequest(4, 8, 1)),
    ("6.5 write coil", "0500acff00", WriteSingle(5, 172, 1)),
    ("6.6 write register", "0600010003", WriteSingle(6, 1, 3)),
    (
        "6.11 write coils",
        "0f0013000a02cd01",
        WriteCoils(19, (True, False, True, True, False, False, True, True, True, False)),
    ),
    ("6.12 write registers", "100001000204000a0102", WriteRegisters(1, (0x000A, 0x0102))),
    (
        "6.17 read/write",
        "1700030006000e00030600ff00ff00ff",
        ReadWriteRegisters(3, 6, 14, (0xFF, 0xFF, 0xFF)),
    ),
]


@pytest.mark.parametrize("name, hexpdu, request_", REQUESTS, ids=[r[0] for r in REQUESTS])
def test_request_examples(name, hexpdu, request_):
    pdu = bytes.fromhex(hexpdu)
    assert decode_request(pdu) == request_
    assert request_.encode() == pdu


RESPONSES = [
    ("6.1", "0100130013", "0103cd6b05", None),
    ("6.3", "03006b0003", "0306022b00000064", RegistersResponse(3, (0x022B, 0, 0x64))),
    ("6.6", "0600010003", "0600010003", WriteSingle(6, 1, 3)),
    ("6.11", "0f0013000a02cd01", "0f0013000a", WriteResponse(15, 19, 10)),
    ("6.12", "100001000204000a0102", "1000010002", WriteResponse(16, 1, 2)),
    ("7 exception", "0100130013", "8102", ExceptionResponse(1, 2)),
]


@pytest.mark.parametrize("name, req, resp, expected", RESPONSES, ids=[r[0] for r in RESPONSES])
def test_response_examples(name, req, resp, expected):
    request_ = decode_request(bytes.fromhex(req))
    got = decode_response(bytes.fromhex(resp), request_)
    if expected is None:  # 6.1: coils 27..20 = CD, 35..28 = 6B, 38..36 = 05
        assert isinstance(got, BitsResponse) and len(got.bits) == 19
        assert got.bits[:8] == (True, False, True, True, False, False, True, True)
    else:
        assert got == expected
    assert got.encode() == bytes.fromhex(resp)


BAD_REQUESTS = [
    ("empty", "", 3),
    ("unknown fc", "2b0e0100", 1),
    ("fc 8 diagnostics", "0800000000", 1),
    ("short read", "030000", 3),
    ("read zero", "0300000000", 3),
    ("read 126 registers", "030000007e", 3),
    ("read 2001 coils", "01000007d1", 3),
    ("read past 65535", "03ffff0002", 2),
    ("coil value 0x1234", "0500011234", 3),
    ("byte count lies", "100001000203000a01", 3),
    ("coil byte count", "0f0013000a03cd0100", 3),
    ("write 124 registers", "100000007cf8" + "00" * 248, 3),
    ("too long", "10" + "00" * 253, 3),
]


@pytest.mark.parametrize("name, hexpdu, code", BAD_REQUESTS, ids=[b[0] for b in BAD_REQUESTS])
def test_bad_requests(name, hexpdu, code):
    with pytest.raises(ModbusError) as info:
        decode_request(bytes.fromhex(hexpdu))
    assert info.value.exception_code == code


@pytest.mark.parametrize(
    "req, resp",
    [
        ("03006b0003", "0304022b0000"),  # 2 registers for 3 asked
        ("03006b0003", "0406022b00000064"),  # wrong function
        ("0100130013", "0102cd6b"),  # 2 bytes cannot hold 19 bits
        ("100001000204000a0102", "1000010003"),  # wrong count echoed
        ("0600010003", "0600010004"),  # wrong echo
        ("03006b0003", "830201"),  # exception with extra byte
        ("03006b0003", "0305022b000000"),  # odd register byte count
    ],
)
def test_responses_that_do_not_answer(req, resp):
    with pytest.raises(ModbusError):
        decode_response(bytes.fromhex(resp), decode_request(bytes.fromhex(req)))


def test_constructors_check_limits():
    for make in (
        lambda: ReadRequest(3, 0, 0),
        lambda: ReadRequest(7, 0, 1),
        lambda: WriteSingle(5, 0, 2),
        lambda: WriteSingle(6, 0, 0x10000),
        lambda: WriteRegisters(0, ()),
        lambda: WriteRegisters(0, (1,) * 124),
        lambda: WriteCoils(0, (True,) * 1969),
        lambda: ReadWriteRegisters(0, 126, 0, (1,)),
        lambda: ReadWriteRegisters(0, 1, 0, (1,) * 122),
        lambda: WriteRegisters(65535, (1, 2)),
    ):
        with pytest.raises(ModbusError):
            make()


def test_is_write():
    assert is_write(bytes.fromhex("0600010003"))
    assert is_write(bytes.fromhex("0f0013000a02cd01"))
    assert not is_write(bytes.fromhex("03006b0003"))
    assert not is_write(bytes.fromhex("1700030006000e00030600ff00ff00ff"))
    assert not is_write(b"")


requests = st.one_of(
    st.builds(
        lambda fc, a, n: ReadRequest(fc, a, n),
        st.sampled_from([3, 4]),
        st.integers(0, 65535 - 125),
        st.integers(1, 125),
    ),
    st.builds(
        lambda fc, a, n: ReadRequest(fc, a, n),
        st.sampled_from([1, 2]),
        st.integers(0, 63000),
        st.integers(1, 2000),
    ),
    st.builds(lambda a, v: WriteSingle(5, a, v), st.integers(0, 65535), st.integers(0, 1)),
    st.builds(lambda a, v: WriteSingle(6, a, v), st.integers(0, 65535), st.integers(0, 65535)),
    st.builds(
        lambda a, v: WriteCoils(a, tuple(v)),
        st.integers(0, 60000),
        st.lists(st.booleans(), min_size=1, max_size=1968),
    ),
    st.builds(
        lambda a, v: WriteRegisters(a, tuple(v)),
        st.integers(0, 60000),
        st.lists(st.integers(0, 65535), min_size=1, max_size=123),
    ),
    st.builds(
        lambda ra, rn, wa, v: ReadWriteRegisters(ra, rn, wa, tuple(v)),
        st.integers(0, 60000),
        st.integers(1, 125),
        st.integers(0, 60000),
        st.lists(st.integers(0, 65535), min_size=1, max_size=121),
    ),
)


@settings(max_examples=300, deadline=None)
@given(requests)
def test_request_round_trip(request_):
    pdu = request_.encode()
    assert len(pdu) <= 253
    assert decode_request(pdu) == request_


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_decoders_raise_only_modbus_error(data):
    for decode in (decode_request, decode_response):
        try:
            decode(data)
        except ModbusError:
            pass


@settings(max_examples=200, deadline=None)
@given(requests, st.binary(max_size=260))
def test_response_checked_against_request_raises_only_modbus_error(request_, data):
    try:
        decode_response(data, request_)
    except ModbusError:
        pass


def _decoded(pdu: bytes, request_) -> bool | None:  # type: ignore[no-untyped-def]
    """What check_response must say: exception or not, None where decoding raises."""
    try:
        return isinstance(decode_response(pdu, request_), ExceptionResponse)
    except ModbusError:
        return None


def _checked(pdu: bytes, request_) -> bool | None:  # type: ignore[no-untyped-def]
    try:
        return check_response(pdu, request_)
    except ModbusError:
        return None


@settings(max_examples=300, deadline=None)
@given(requests, st.data())
def test_check_response_agrees_with_decode_response(request_, data):
    """The relay's check (no values built) accepts and refuses what decoding does:
    the request's own answer, that answer with a byte changed, cut or extended,
    an exception, and random bytes."""
    if isinstance(request_, ReadRequest) and request_.function in (3, 4):
        answer = RegistersResponse(request_.function, tuple(range(request_.count))).encode()
    elif isinstance(request_, ReadRequest):
        answer = BitsResponse(request_.function, (True,) * request_.count).encode()
    else:
        answer = bytes((request_.function,)) + data.draw(st.binary(max_size=8))
    edited = bytearray(answer)
    how = data.draw(st.sampled_from(["as is", "byte", "cut", "extended", "exception", "random"]))
    if how == "byte":
        edited[data.draw(st.integers(0, len(edited) - 1))] = data.draw(st.integers(0, 255))
    elif how == "cut":
        del edited[data.draw(st.integers(0, len(edited) - 1)):]
    elif how == "extended":
        edited += data.draw(st.binary(min_size=1, max_size=4))
    elif how == "exception":
        edited = bytearray((request_.function | 0x80, data.draw(st.integers(0, 255))))
    elif how == "random":
        edited = bytearray(data.draw(st.binary(max_size=260)))
    pdu = bytes(edited)
    assert _checked(pdu, request_) == _decoded(pdu, request_)


# -- MBAP ------------------------------------------------------------------


def test_mbap_example():
    # Messaging on TCP/IP 3.1.3: transaction 0x1501, unit 0xFF, read 1 holding.
    adu = encode_adu(0x1501, 0xFF, bytes.fromhex("0300040001"))
    assert adu == bytes.fromhex("150100000006ff0300040001")
    dec = MbapDecoder()
    for b in adu + adu[:3]:
        dec.receive_data(bytes([b]))
    assert list(dec) == [TcpAdu(0x1501, 0xFF, bytes.fromhex("0300040001"))]
    assert dec.buffered == 3


@pytest.mark.parametrize(
    "raw", ["000100010006010300000001", "000100000001ff", "000100000100ff", "0001000000ff01"]
)
def test_mbap_bad_header(raw):
    dec = MbapDecoder()
    dec.receive_data(bytes.fromhex(raw) + b"\x00" * 300)
    with pytest.raises(ModbusError):
        dec.next_event()


@pytest.mark.parametrize("args", [(70000, 1, b"\x03"), (1, 256, b"\x03"), (1, 1, b""), (1, 1, b"\x03" * 254)])
def test_encode_adu_limits(args):
    with pytest.raises(ModbusError):
        encode_adu(*args)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 65535), st.integers(0, 255), st.binary(min_size=1, max_size=253)), max_size=5
    ),
    st.integers(1, 50),
)
def test_mbap_round_trip(adus, chunk):
    data = b"".join(encode_adu(*a) for a in adus)
    dec = MbapDecoder()
    got = []
    for i in range(0, len(data), chunk):
        dec.receive_data(data[i : i + chunk])
        got.extend(dec)
    assert got == [TcpAdu(*a) for a in adus]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_mbap_garbage_raises_only_modbus_error(data):
    dec = MbapDecoder()
    dec.receive_data(data)
    try:
        list(dec)
    except ModbusError:
        pass
