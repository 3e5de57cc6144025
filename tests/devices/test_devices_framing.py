"""Framing: each case fed whole, one byte at a time, and with trailing data."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from circuits.protocols.slip import slip_encode
from devices.framing import Dropped, Framed, Framer, frame_encoder, make_framer
from devices.profile import FramingKind


def whole(data: bytes) -> Iterable[bytes]:
    return [data]


def bytewise(data: bytes) -> Iterable[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


def halves(data: bytes) -> Iterable[bytes]:
    return [data[: len(data) // 2], data[len(data) // 2 :]]


SPLITTERS: list[Callable[[bytes], Iterable[bytes]]] = [whole, bytewise, halves]


def run(framer: Framer, chunks: Iterable[bytes]) -> list[bytes]:
    return [message for chunk in chunks for message in framer.feed(chunk).messages]


def drops(framer: Framer, chunks: Iterable[bytes]) -> list[str]:
    return [drop.reason for chunk in chunks for drop in framer.feed(chunk).dropped]


CASES: list[tuple[FramingKind, int, bytes, list[bytes], dict[str, int]]] = [
    ("line", 16, b"a=1\r\nb=2\n", [b"a=1", b"b=2"], {"frames": 2}),
    ("line", 16, b"\r\n\n a \r\n", [b" a "], {"frames": 1, "empty": 2}),
    ("line", 4, b"1234\r\n12345\r\nok\n", [b"1234", b"ok"], {"frames": 2, "oversize": 1}),
    ("line", 4, b"x" * 100 + b"\nok\n", [b"ok"], {"oversize": 1}),
    ("line", 16, "é=1\n".encode() + b"\xff\n", ["é=1".encode(), b"\xff"], {"frames": 2}),
    ("slip", 16, slip_encode(b"one") + slip_encode(b"\xc0\xdb"), [b"one", b"\xc0\xdb"], {"frames": 2}),
    ("slip", 4, slip_encode(b"12345") + slip_encode(b"ok"), [b"ok"], {"frames": 1, "oversize": 1}),
    ("slip", 16, b"\xc0ab\xdbxcd\xc0" + slip_encode(b"ok"), [b"ok"], {"malformed": 1}),
    ("slip", 16, b"\xc0\xc0\xc0", [], {"frames": 0}),
]


@pytest.mark.parametrize("split", SPLITTERS, ids=lambda f: f.__name__)
@pytest.mark.parametrize(("kind", "max_length", "stream", "expected", "counts"), CASES)
def test_framing(
    split: Callable[[bytes], Iterable[bytes]],
    kind: FramingKind,
    max_length: int,
    stream: bytes,
    expected: list[bytes],
    counts: dict[str, int],
) -> None:
    framer = make_framer(kind, max_length)
    assert run(framer, split(stream)) == expected
    stats = framer.statistics()
    assert {key: stats[key] for key in counts} == counts
    assert stats["buffered"] == 0


DROP_CASES: list[tuple[FramingKind, int, bytes, list[str]]] = [
    ("line", 4, b"1234\r\n12345\r\nok\n" + b"x" * 50 + b"\n", ["oversize", "oversize"]),
    ("line", 16, b"a=1\n\n", []),
    ("slip", 4, slip_encode(b"12345") + slip_encode(b"ok"), ["oversize"]),
    ("slip", 16, b"\xc0ab\xdbxcd\xc0" + slip_encode(b"12345678901234567"), ["malformed", "oversize"]),
    ("raw", 4, b"0123456789", []),
]


@pytest.mark.parametrize("split", SPLITTERS, ids=lambda f: f.__name__)
@pytest.mark.parametrize(("kind", "max_length", "stream", "expected"), DROP_CASES)
def test_drops_are_returned_in_order(split: Callable[[bytes], Iterable[bytes]], kind: FramingKind,
                                     max_length: int, stream: bytes, expected: list[str]) -> None:
    # However the stream was cut, each drop comes back once, from the feed
    # that completed it, in stream order: no counters to compare.
    framer = make_framer(kind, max_length)
    assert drops(framer, split(stream)) == expected
    stats = framer.statistics()
    assert stats["oversize"] + stats["malformed"] == len(expected)


def test_a_drop_says_how_many_bytes_went() -> None:
    framer = make_framer("line", 4)
    assert framer.feed(b"123456789\nok\n") == Framed([b"ok"], (Dropped("oversize", 9),))
    assert "max_line (4 bytes; 9 bytes discarded)" in Dropped("oversize", 9).describe(4)
    assert make_framer("line", 4).feed(b"ok\n").dropped == ()


@pytest.mark.parametrize("split", SPLITTERS, ids=lambda f: f.__name__)
def test_trailing_partial_line_is_held_until_flush(split: Callable[[bytes], Iterable[bytes]]) -> None:
    framer = make_framer("line", 16)
    assert run(framer, split(b"a=1\r\nb=2\r")) == [b"a=1"]
    assert framer.statistics()["buffered"] == 4
    assert framer.feed(b"\n") == Framed([b"b=2"])  # CR and LF split across reads
    framer.feed(b"tail")
    assert framer.flush() == Framed([b"tail"])
    assert framer.flush() == Framed([])


def test_flush_strips_lone_cr_and_skips_empty() -> None:
    framer = make_framer("line", 16)
    framer.feed(b"x\r")
    assert framer.flush().messages == [b"x"]
    framer.feed(b"\r")
    assert framer.flush() == Framed([])


def test_slip_partial_frame_at_eof_is_dropped() -> None:
    framer = make_framer("slip", 16)
    assert framer.feed(slip_encode(b"ok") + b"\xc0part") == Framed([b"ok"])
    assert framer.flush() == Framed([], (Dropped("malformed", 4),))
    assert framer.statistics()["malformed"] == 1


def test_raw_passes_chunks_and_bounds_them() -> None:
    framer = make_framer("raw", 4)
    assert framer.feed(b"") == Framed([])
    assert framer.feed(b"ab") == Framed([b"ab"])
    assert framer.feed(b"0123456789") == Framed([b"0123", b"4567", b"89"])
    assert framer.flush() == Framed([])
    assert framer.statistics()["frames"] == 4


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="unknown framing"):
        make_framer("morse", 10)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_length"):
        make_framer("line", 0)
    with pytest.raises(ValueError, match="separator"):
        make_framer("slip", 10, separator=b";")


def test_custom_line_separator() -> None:
    framer = make_framer("line", 16, separator=b";")
    assert framer.feed(b"a=1;b=2;c").messages == [b"a=1", b"b=2"]


@pytest.mark.parametrize("kind", ["line", "slip", "raw"])
@given(payloads=st.lists(st.binary(min_size=1, max_size=40), max_size=8), cut=st.integers(0, 400))
def test_encoder_round_trips(kind: FramingKind, payloads: list[bytes], cut: int) -> None:
    if kind == "line":
        payloads = [p.replace(b"\n", b"").replace(b"\r", b"") or b"x" for p in payloads]
    encode = frame_encoder(kind)
    stream = b"".join(encode(p) for p in payloads)
    framer = make_framer(kind, 64)
    got = run(framer, [stream[:cut], stream[cut:]]) + framer.flush().messages
    if kind == "raw":  # raw keeps bytes, not message boundaries
        assert b"".join(got) == b"".join(payloads)
    else:
        assert got == payloads
