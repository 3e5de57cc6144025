"""The master's answer by length: expected_response_length for every function,
and RtuDecoder.expect(unit, function, length) fed whole, byte by byte, with
trailing bytes, with a corrupted CRC (without timestamps: resync by scanning;
with timestamps: everything dropped until the line was silent)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circuits.protocols.modbus import Discarded, RtuDecoder, RtuFrame, encode_frame
from circuits.protocols.modbus.pdu import (
    BitsResponse,
    ExceptionResponse,
    ReadRequest,
    ReadWriteRegisters,
    RegistersResponse,
    Request,
    WriteCoils,
    WriteRegisters,
    WriteResponse,
    WriteSingle,
)
from circuits.protocols.modbus.rtu import EXCEPTION_LENGTH, expected_response_length

SILENCE = 0.00175


def corrupt(frame: bytes) -> bytes:
    return frame[:-1] + bytes([frame[-1] ^ 0xFF])


@pytest.mark.parametrize(
    "request_, answer",
    [
        (ReadRequest(1, 0, 1), BitsResponse(1, (True,))),
        (ReadRequest(1, 0, 8), BitsResponse(1, (True,) * 8)),
        (ReadRequest(2, 0, 9), BitsResponse(2, (False,) * 9)),
        (ReadRequest(2, 0, 2000), BitsResponse(2, (True,) * 2000)),
        (ReadRequest(3, 0, 1), RegistersResponse(3, (7,))),
        (ReadRequest(4, 10, 125), RegistersResponse(4, tuple(range(125)))),
        (ReadWriteRegisters(0, 3, 10, (1, 2)), RegistersResponse(23, (4, 5, 6))),
        (WriteSingle(5, 3, 1), WriteSingle(5, 3, 1)),
        (WriteSingle(6, 3, 99), WriteSingle(6, 3, 99)),
        (WriteCoils(0, (True,) * 20), WriteResponse(15, 0, 20)),
        (WriteRegisters(0, (1, 2, 3)), WriteResponse(16, 0, 3)),
    ],
    ids=lambda v: type(v).__name__,
)
def test_expected_length_is_the_encoded_answer(request_: Request, answer) -> None:
    assert expected_response_length(request_) == len(encode_frame(1, answer.encode()))
    assert EXCEPTION_LENGTH == len(encode_frame(1, ExceptionResponse(request_.function, 2).encode()))


READ10 = ReadRequest(3, 0, 10)
ANSWER10 = encode_frame(1, RegistersResponse(3, tuple(range(10))).encode())
EXC = encode_frame(1, ExceptionResponse(3, 2).encode())
OTHER_UNIT = encode_frame(2, RegistersResponse(3, tuple(range(10))).encode())
# Unit 1 answering 3 registers to a request for 10: CRC-valid, wrong count.
SHORT = encode_frame(1, RegistersResponse(3, (1, 2, 3)).encode())
# The byte count byte damaged so it promises 250 bytes: the request's length
# still ends the frame, where the byte count alone would wait for 255 bytes.
BAD_COUNT = ANSWER10[:2] + b"\xfa" + ANSWER10[3:]


@dataclass
class Case:
    id: str
    data: bytes
    frames: list[bytes]  # the frames found, whole
    damaged: bool = False
    garbage: int = 0


CASES = [
    Case("answer", ANSWER10, [ANSWER10]),
    Case("exception", EXC, [EXC]),
    Case("other-unit-first", OTHER_UNIT + ANSWER10, [ANSWER10], garbage=len(OTHER_UNIT)),
    Case("garbage-first", b"\x00\xff\x01" + ANSWER10, [ANSWER10], garbage=3),
    Case("wrong-count-reported", SHORT, [SHORT]),
    Case("corrupted-crc", corrupt(ANSWER10), [], damaged=True, garbage=len(ANSWER10)),
    Case("damaged-count", BAD_COUNT, [], damaged=True, garbage=len(ANSWER10)),
    Case("corrupted-exception", corrupt(EXC), [], damaged=True, garbage=len(EXC)),
    Case("corrupted-then-answer", corrupt(EXC) + ANSWER10, [ANSWER10], damaged=True, garbage=len(EXC)),
]


def feed(dec: RtuDecoder, chunks: list[bytes]) -> list:
    out = []
    for chunk in chunks:
        dec.receive_data(chunk)
        out.extend(dec)
    return out


def found(events: list) -> list[bytes]:
    return [encode_frame(e.unit, e.pdu) for e in events if isinstance(e, RtuFrame)]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
@pytest.mark.parametrize("how", ["whole", "bytewise", "trailing"])
def test_expect_by_length(case: Case, how: str) -> None:
    dec = RtuDecoder("master")
    dec.expect(1, 3, expected_response_length(READ10))
    data = case.data
    chunks = {"whole": [data], "bytewise": [data[i : i + 1] for i in range(len(data))],
              "trailing": [data + b"\x01\x03\x99"]}[how]
    events = feed(dec, chunks)
    assert found(events) == case.frames
    assert dec.answer_damaged is case.damaged
    # Trailing bytes after a found frame wait for more (they start like the
    # awaited answer); they are not taken for a frame and reset() drops them.
    trailing = 3 if how == "trailing" else 0
    assert dec.buffered == trailing
    dec.reset()
    events += list(dec)
    assert sum(e.count for e in events if isinstance(e, Discarded)) == case.garbage + trailing
    assert not dec.answer_damaged


def test_answer_complete_at_its_last_byte() -> None:
    """No wait for silence: the frame is out the moment the last byte is in."""
    dec = RtuDecoder("master", silence=SILENCE)
    dec.expect(1, 3, len(ANSWER10))
    for i, byte in enumerate(ANSWER10[:-1]):
        dec.receive_data(bytes([byte]), now=1.0 + i * 1e-5)
        assert list(dec) == []
    dec.receive_data(ANSWER10[-1:], now=1.001)
    assert list(dec) == [RtuFrame(1, ANSWER10[1:-2])]


def test_corrupted_crc_resyncs_on_silence() -> None:
    """With timestamps, after a bad CRC nothing is a frame until the line was silent."""
    dec = RtuDecoder("master", silence=SILENCE)
    dec.expect(1, 3, len(ANSWER10))
    dec.receive_data(corrupt(ANSWER10), now=1.0)
    assert dec.answer_damaged
    assert list(dec) == [Discarded(len(ANSWER10), "bad CRC")]
    # Within t3.5 of the last byte: still the damaged burst, even a valid frame.
    dec.receive_data(ANSWER10, now=1.0 + SILENCE / 2)
    assert list(dec) == [Discarded(len(ANSWER10), "bytes before the line went silent")]
    # After a silence: a new frame starts and is taken.
    dec.receive_data(ANSWER10, now=1.0 + SILENCE / 2 + 2 * SILENCE)
    assert list(dec) == [RtuFrame(1, ANSWER10[1:-2])]


def test_corrupted_crc_without_timestamps_scans() -> None:
    """Without timestamps (ptys, USB adapters) the scan finds the frame right behind."""
    dec = RtuDecoder("master", silence=SILENCE)
    dec.expect(1, 3, len(ANSWER10))
    dec.receive_data(corrupt(ANSWER10) + ANSWER10)
    assert found(list(dec)) == [ANSWER10]
    assert dec.answer_damaged


def test_expect_clears_damage_and_length() -> None:
    dec = RtuDecoder("master")
    dec.expect(1, 3, len(ANSWER10))
    dec.receive_data(corrupt(ANSWER10))
    assert dec.answer_damaged
    dec.expect(None)
    assert not dec.answer_damaged
    dec.receive_data(SHORT)  # no length awaited: the byte count decides
    assert found(list(dec)) == [SHORT]


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 247), st.sampled_from([1, 2, 3, 4]), st.integers(1, 120), st.binary(max_size=40),
       st.integers(1, 17), st.booleans())
def test_round_trip_by_length(unit: int, fc: int, count: int, garbage: bytes, chunk: int,
                              exception: bool) -> None:
    request = ReadRequest(fc, 0, count)
    if exception:
        pdu = ExceptionResponse(fc, 4).encode()
    elif fc in (1, 2):
        pdu = BitsResponse(fc, tuple(bool(i % 3) for i in range(count))).encode()
    else:
        pdu = RegistersResponse(fc, tuple(range(count))).encode()
    frame = encode_frame(unit, pdu)
    dec = RtuDecoder("master")
    dec.expect(unit, fc, expected_response_length(request))
    data = garbage + frame
    out = []
    for i in range(0, len(data), chunk):
        dec.receive_data(data[i : i + chunk])
        out.extend(dec)
    assert found(out)[-1:] == [frame]
    assert dec.buffered == 0


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(ANSWER10) - 1), st.integers(0, 255)), max_size=3),
       st.sampled_from([ANSWER10, EXC + ANSWER10[:20], OTHER_UNIT, BAD_COUNT]))
def test_one_read_of_the_answers_length_is_decoded_as_in_pieces(edits: list[tuple[int, int]],
                                                                base: bytes) -> None:
    """receive_data's shortcut (one read of exactly the awaited length, the
    master's common case) finds what the general path finds for those bytes."""
    data = bytearray(base)
    for index, value in edits:
        data[index] = value
    results = []
    for chunks in ([bytes(data)], [bytes(data[:1]), bytes(data[1:])]):
        dec = RtuDecoder("master")
        dec.expect(1, 3, len(ANSWER10))
        results.append((found(feed(dec, chunks)), dec.answer_damaged, dec.buffered))
    assert results[0] == results[1]
