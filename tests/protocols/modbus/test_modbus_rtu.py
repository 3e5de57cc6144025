"""Modbus RTU framing and CRC: table cases fed whole, byte by byte, with trailing
bytes and with a corrupted CRC; hypothesis round trips."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circuits.protocols.modbus import (
    Discarded,
    ModbusError,
    RtuDecoder,
    RtuFrame,
    crc16,
    encode_frame,
    silent_interval,
)
from circuits.protocols.modbus.rtu import character_time


def frames(events) -> list[RtuFrame]:
    return [e for e in events if isinstance(e, RtuFrame)]


def discarded(events) -> int:
    return sum(e.count for e in events if isinstance(e, Discarded))


def test_crc_check_value():
    # CRC-16/MODBUS catalogue check value, and the serial-line spec's example
    # frame "read 2 holding registers from 0 at unit 1" ending C4 0B.
    assert crc16(b"123456789") == 0x4B37
    assert encode_frame(1, bytes.fromhex("0300000002")) == bytes.fromhex("010300000002c40b")


@pytest.mark.parametrize(
    "baud, framing, expected",
    [
        (9600, (8, "E", 1), 3.5 * 11 / 9600),
        (9600, (8, "N", 1), 3.5 * 10 / 9600),
        (9600, (8, "N", 2), 3.5 * 11 / 9600),
        (19200, (8, "E", 1), 3.5 * 11 / 19200),
        (38400, (8, "E", 1), 0.00175),
        (115200, (8, "N", 1), 0.00175),
    ],
)
def test_silent_interval(baud, framing, expected):
    assert silent_interval(baud, *framing) == pytest.approx(expected)


def test_character_time_rejects_zero_baud():
    with pytest.raises(ValueError):
        character_time(0)


@dataclass
class Case:
    id: str
    role: str
    data: bytes
    expected: list[tuple[int, bytes]]
    garbage: int = 0


RESP_READ = encode_frame(1, bytes.fromhex("030400010002"))
RESP_EXC = encode_frame(7, bytes.fromhex("8302"))
RESP_W6 = encode_frame(2, bytes.fromhex("06000a007b"))
RESP_BITS = encode_frame(3, bytes.fromhex("0102cd01"))
REQ_READ = encode_frame(1, bytes.fromhex("0300000002"))
REQ_W16 = encode_frame(9, bytes.fromhex("100001000204000a0102"))
REQ_W23 = encode_frame(4, bytes.fromhex("1700030006000000010212 34".replace(" ", "")))
REQ_W15 = encode_frame(5, bytes.fromhex("0f0013000a02cd01"))


def corrupt(frame: bytes) -> bytes:
    return frame[:-1] + bytes([frame[-1] ^ 0xFF])


CASES = [
    Case("read-response", "master", RESP_READ, [(1, bytes.fromhex("030400010002"))]),
    Case("exception", "master", RESP_EXC, [(7, bytes.fromhex("8302"))]),
    Case("write-single-echo", "master", RESP_W6, [(2, bytes.fromhex("06000a007b"))]),
    Case("bits", "master", RESP_BITS, [(3, bytes.fromhex("0102cd01"))]),
    Case(
        "two-back-to-back",
        "master",
        RESP_READ + RESP_EXC,
        [(1, bytes.fromhex("030400010002")), (7, bytes.fromhex("8302"))],
    ),
    Case("garbage-before", "master", b"\xff\x00\x13" + RESP_READ, [(1, RESP_READ[1:-2])], 3),
    Case("corrupted-crc", "master", corrupt(RESP_READ), [], len(RESP_READ)),
    Case(
        "corrupted-then-good",
        "master",
        corrupt(RESP_EXC) + RESP_W6,
        [(2, RESP_W6[1:-2])],
        len(RESP_EXC),
    ),
    Case("unknown-function", "master", b"\x01\x42\x00\x00" + RESP_EXC, [(7, b"\x83\x02")], 4),
    Case("request-read", "slave", REQ_READ, [(1, REQ_READ[1:-2])]),
    Case("request-write-multiple", "slave", REQ_W16, [(9, REQ_W16[1:-2])]),
    Case("request-write-coils", "slave", REQ_W15, [(5, REQ_W15[1:-2])]),
    Case("request-read-write", "slave", REQ_W23, [(4, REQ_W23[1:-2])]),
    Case("request-garbage", "slave", b"\xfe\xfe" + REQ_W16, [(9, REQ_W16[1:-2])], 2),
]


def run(case: Case, chunks: list[bytes]) -> list:
    dec = RtuDecoder(case.role)  # type: ignore[arg-type]
    out = []
    for chunk in chunks:
        dec.receive_data(chunk)
        out.extend(dec)
    dec.reset()
    out.extend(dec)
    return out


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
@pytest.mark.parametrize("feed", ["whole", "bytewise", "trailing"])
def test_decoder_table(case: Case, feed: str):
    data = case.data
    if feed == "whole":
        chunks = [data]
    elif feed == "bytewise":
        chunks = [data[i : i + 1] for i in range(len(data))]
    else:
        # A whole good frame after the case: it is found too, nothing is lost.
        trailer = RESP_EXC if case.role == "master" else REQ_READ
        chunks = [data + trailer]
    events = run(case, chunks)
    got = [(f.unit, f.pdu) for f in frames(events)]
    want = list(case.expected)
    if feed == "trailing":
        want.append((7, b"\x83\x02") if case.role == "master" else (1, REQ_READ[1:-2]))
    assert got == want
    assert discarded(events) == case.garbage


def test_silence_ends_partial_frame():
    dec = RtuDecoder("master", silence=0.00175)
    dec.receive_data(RESP_READ[:4], now=10.0)
    assert list(dec) == []
    dec.receive_data(RESP_EXC, now=10.1)  # long gap: the torn frame is dropped
    events = list(dec)
    assert events[0] == Discarded(4, "partial frame ended by silence")
    assert frames(events) == [RtuFrame(7, b"\x83\x02")]


def test_short_gaps_keep_the_frame():
    dec = RtuDecoder("master", silence=0.00175)
    for i, b in enumerate(RESP_READ):
        dec.receive_data(bytes([b]), now=1.0 + i * 0.0001)
    assert frames(list(dec)) == [RtuFrame(1, RESP_READ[1:-2])]


def test_expect_skips_other_units():
    dec = RtuDecoder("master")
    dec.expect(7, 3)
    dec.receive_data(RESP_READ + RESP_EXC)
    events = list(dec)
    assert frames(events) == [RtuFrame(7, b"\x83\x02")]
    assert discarded(events) == len(RESP_READ)


def test_kilobyte_of_garbage_then_frame():
    garbage = bytes((i * 37 + 11) & 0xFF for i in range(1024))
    dec = RtuDecoder("master")
    dec.expect(1, 3)
    dec.receive_data(garbage)
    dec.reset()
    assert discarded(list(dec)) == 1024
    dec.receive_data(RESP_READ)
    assert frames(list(dec)) == [RtuFrame(1, RESP_READ[1:-2])]


@pytest.mark.parametrize("unit, pdu", [(248, b"\x03"), (-1, b"\x03"), (1, b""), (1, b"\x03" * 254)])
def test_encode_frame_limits(unit, pdu):
    with pytest.raises(ModbusError):
        encode_frame(unit, pdu)


def test_bad_role():
    with pytest.raises(ValueError):
        RtuDecoder("peer")  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(min_size=0, max_size=300), max_size=8), st.booleans())
def test_fuzz_never_raises(chunks, slave):
    dec = RtuDecoder("slave" if slave else "master", silence=0.001)
    t = 0.0
    for chunk in chunks:
        t += 0.0005
        dec.receive_data(chunk, now=t)
        for event in dec:
            assert isinstance(event, RtuFrame | Discarded)
    assert dec.buffered <= 256 + 300


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 247),
    st.sampled_from([3, 4, 23]),
    st.lists(st.integers(0, 0xFFFF), min_size=1, max_size=125),
    st.binary(max_size=40),
    st.integers(1, 17),
)
def test_round_trip_after_garbage(unit, fc, registers, garbage, chunk):
    body = b"".join(r.to_bytes(2, "big") for r in registers)
    pdu = bytes([fc, len(body)]) + body
    frame = encode_frame(unit, pdu)
    dec = RtuDecoder("master")
    dec.expect(unit, fc)
    data = garbage + frame
    out = []
    for i in range(0, len(data), chunk):
        dec.receive_data(data[i : i + chunk])
        out.extend(dec)
    assert frames(out)[-1] == RtuFrame(unit, pdu)
