"""SLIP (RFC 1055): table-driven cases fed whole, byte by byte and with trailing data."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circuits.protocols.slip import (
    END,
    ESC,
    ESC_END,
    ESC_ESC,
    FrameTooLong,
    InvalidEscape,
    SlipDecoder,
    slip_encode,
)

E = bytes([END])
X = bytes([ESC])
XE = bytes([ESC, ESC_END])
XX = bytes([ESC, ESC_ESC])
TOO_LONG = "TOO_LONG"  # FrameTooLong.dropped depends on chunking; compare the kind only

Event = bytes | FrameTooLong | InvalidEscape


def normalize(events: list[Event]) -> list[bytes | InvalidEscape | str]:
    return [TOO_LONG if isinstance(e, FrameTooLong) else e for e in events]


@dataclass
class Case:
    id: str
    data: bytes
    expected: list[bytes | InvalidEscape | str]
    max_length: int = 64
    strict: bool = True


CASES = [
    Case("plain", E + b"abc" + E, [b"abc"]),
    Case("no-leading-end", b"abc" + E + b"de" + E, [b"abc", b"de"]),
    Case("escapes", E + XE + XX + E, [b"\xc0\xdb"]),
    Case(
        "escape-lookalikes", E + bytes([ESC_END, ESC_ESC]) + XX + bytes([ESC_END]) + E, [b"\xdc\xdd\xdb\xdc"]
    ),
    Case("empty-frames-ignored", E + E + E + b"a" + E + E, [b"a"]),
    Case("bad-escape", b"a" + X + b"x" + E, [InvalidEscape(length=3, offset=1)]),
    Case("esc-at-end", b"a" + X + E, [InvalidEscape(length=2, offset=1)]),
    Case("esc-esc", X + X + bytes([ESC_END]) + E, [InvalidEscape(length=3, offset=0)]),
    Case("bad-then-good", b"a" + X + b"x" + E + b"ok" + E, [InvalidEscape(3, 1), b"ok"]),
    Case("lenient-bad-escape", b"a" + X + b"x" + E, [InvalidEscape(3, 1), b"ax"], strict=False),
    Case("lenient-esc-esc", X + X + XE + E, [InvalidEscape(4, 0), b"\xdb\xc0"], strict=False),
    Case("lenient-esc-at-end", b"a" + X + E, [InvalidEscape(2, 1), b"a"], strict=False),
    Case("max-length", b"abcd" + E, [b"abcd"], max_length=4),
    Case("max-length-escaped", XE * 4 + E, [b"\xc0" * 4], max_length=4),
    Case("too-long", b"abcdefgh" + E + b"ok" + E, [TOO_LONG, b"ok"], max_length=4),
    Case("too-long-escaped", XE * 5 + E + b"ok" + E, [TOO_LONG, b"ok"], max_length=4),
]


def run(decoder: SlipDecoder, chunks: list[bytes]) -> list[bytes | InvalidEscape | str]:
    events: list[Event] = []
    for chunk in chunks:
        decoder.receive_data(chunk)
        events.extend(decoder)
    return normalize(events)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
@pytest.mark.parametrize("mode", ["whole", "bytewise", "trailing"])
def test_table(case: Case, mode: str) -> None:
    data = case.data
    expected = list(case.expected)
    if mode == "trailing":
        data += slip_encode(b"t\xc0")
        expected.append(b"t\xc0")
    chunks = [data[i : i + 1] for i in range(len(data))] if mode == "bytewise" else [data]
    decoder = SlipDecoder(case.max_length, strict=case.strict)
    assert run(decoder, chunks) == expected
    assert decoder.buffered == 0
    assert decoder.frames == sum(1 for e in expected if isinstance(e, bytes))
    assert decoder.dropped_frames == expected.count(TOO_LONG)
    assert decoder.invalid_escapes == sum(1 for e in expected if isinstance(e, InvalidEscape))


def test_encode() -> None:
    assert slip_encode(b"a\xc0b\xdbc") == E + b"a" + XE + b"b" + XX + b"c" + E
    assert slip_encode(b"\xdb\xdc", leading_end=False) == XX + b"\xdc" + E
    assert slip_encode(b"") == E + E


def test_overlong_discarded_immediately() -> None:
    decoder = SlipDecoder(max_length=100)
    events: list[Event] = []
    for _ in range(1000):
        events.extend(decoder.feed(b"\x01" * 97 + XE))
        assert decoder.buffered <= 2 * 100 + 1
    assert len(events) == 1 and isinstance(events[0], FrameTooLong)
    assert decoder.feed(b"junk" + E + slip_encode(b"next")) == [b"next"]


def test_flush_partial() -> None:
    decoder = SlipDecoder()
    assert decoder.feed(E + b"partial") == []
    assert decoder.flush() == b"partial"
    assert decoder.buffered == 0
    assert decoder.statistics()["frames"] == 0


def test_max_length_validation() -> None:
    with pytest.raises(ValueError):
        SlipDecoder(0)


@st.composite
def split(draw: st.DrawFn, data: bytes) -> list[bytes]:
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=10)))
    chunks, last = [], 0
    for cut in [*cuts, len(data)]:
        chunks.append(data[last:cut])
        last = cut
    return chunks


payload_bytes = st.lists(st.sampled_from([0xC0, 0xDB, 0xDC, 0xDD, 0x00, 0x41]), min_size=1, max_size=40).map(
    bytes
)


@settings(max_examples=200, deadline=None)
@given(st.lists(payload_bytes | st.binary(min_size=1, max_size=40), max_size=8), st.booleans(), st.data())
def test_round_trip(payloads: list[bytes], leading_end: bool, data: st.DataObject) -> None:
    stream = b"".join(slip_encode(p, leading_end=leading_end) for p in payloads)
    decoder = SlipDecoder(max_length=40)
    assert run(decoder, data.draw(split(stream))) == payloads


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300) | payload_bytes, st.booleans(), st.data())
def test_garbage_never_raises(garbage: bytes, strict: bool, data: st.DataObject) -> None:
    decoder = SlipDecoder(max_length=8, strict=strict)
    for chunk in data.draw(split(garbage)):
        for event in decoder.feed(chunk):
            assert isinstance(event, bytes | FrameTooLong | InvalidEscape)
            if isinstance(event, bytes):
                assert 0 < len(event) <= 8
        assert decoder.buffered <= 2 * 8 + 1
    decoder.flush()
