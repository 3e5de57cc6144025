"""LineSplitter: table-driven cases fed whole, byte by byte and with trailing data."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circuits.protocols.linesplitter import LineSplitter, LineTooLong

TOO_LONG = "TOO_LONG"  # LineTooLong.dropped depends on chunking; compare the kind only


def normalize(events: list[bytes | LineTooLong]) -> list[bytes | str]:
    return [TOO_LONG if isinstance(e, LineTooLong) else e for e in events]


@dataclass
class Case:
    id: str
    data: bytes
    expected: list[bytes | str]
    separator: bytes | re.Pattern[bytes] | None = None
    max_length: int = 64
    trailer_sep: bytes = b"\n"
    kwargs: dict[str, int] = field(default_factory=dict)


CASES = [
    Case("lf", b"a\nbc\n", [b"a", b"bc"]),
    Case("crlf", b"a\r\nbc\r\n", [b"a", b"bc"]),
    Case("mixed", b"a\r\nb\nc\r\n", [b"a", b"b", b"c"]),
    Case("bare-cr-kept", b"a\rb\n", [b"a\rb"]),
    Case("only-one-cr-stripped", b"a\r\r\n", [b"a\r"]),
    Case("empty-lines", b"\n\r\n\n", [b"", b"", b""]),
    Case("exact-max", b"abcd\r\n", [b"abcd"], max_length=4),
    Case("exact-max-lf", b"abcd\nx\n", [b"abcd", b"x"], max_length=4),
    Case("too-long", b"abcdef\nxy\n", [TOO_LONG, b"xy"], max_length=4),
    Case("too-long-crlf", b"abcde\r\nok\r\n", [TOO_LONG, b"ok"], max_length=4),
    Case("too-long-twice", b"abcdefgh\n123456789\nok\n", [TOO_LONG, TOO_LONG, b"ok"], max_length=4),
    Case("too-long-then-empty", b"abcdefgh\n\n", [TOO_LONG, b""], max_length=4),
    Case("bytes-sep", b"a\nb\r\nc\r\n", [b"a\nb", b"c"], separator=b"\r\n", trailer_sep=b"\r\n"),
    Case("bytes-sep-overlap", b"xaaayaa", [b"x", b"ay"], separator=b"aa", trailer_sep=b"aa"),
    Case("bytes-sep-prefix-in-line", b"abc-d--ef--", [b"abc-d", b"ef"], separator=b"--", trailer_sep=b"--"),
    Case("bytes-sep-too-long", b"abcd--ef--", [TOO_LONG, b"ef"], separator=b"--", max_length=3, trailer_sep=b"--"),
    Case("bytes-sep-max-with-partial-sep", b"abc--", [b"abc"], separator=b"--", max_length=3, trailer_sep=b"--"),
    Case("nul-sep", b"one\x00two\x00", [b"one", b"two"], separator=b"\x00", trailer_sep=b"\x00"),
    Case("regex-crlf", b"a\r\nb\nc\r\n", [b"a", b"b", b"c"], separator=re.compile(rb"\r\n|\n")),
    Case("regex-class", b"a;b,,c;", [b"a", b"b", b"", b"c"], separator=re.compile(rb"[;,]"), trailer_sep=b";"),
    Case("regex-too-long", b"abcdefgh;ok;", [TOO_LONG, b"ok"], separator=re.compile(rb";"), max_length=4,
         trailer_sep=b";", kwargs={"regex_lookback": 2}),
]  # fmt: skip


def run(splitter: LineSplitter, chunks: list[bytes]) -> list[bytes | str]:
    events: list[bytes | LineTooLong] = []
    for chunk in chunks:
        splitter.receive_data(chunk)
        events.extend(splitter)
    return normalize(events)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
@pytest.mark.parametrize("mode", ["whole", "bytewise", "trailing"])
def test_table(case: Case, mode: str) -> None:
    data = case.data
    expected = list(case.expected)
    if mode == "trailing":
        # The line after the case's input must still be framed intact.
        data += b"z" + case.trailer_sep
        expected.append(b"z")
    chunks = [data[i : i + 1] for i in range(len(data))] if mode == "bytewise" else [data]
    splitter = LineSplitter(case.separator, case.max_length, **case.kwargs)
    assert run(splitter, chunks) == expected
    assert splitter.buffered == 0
    assert splitter.lines == sum(1 for e in expected if e != TOO_LONG)
    assert splitter.dropped_lines == expected.count(TOO_LONG)


def test_crlf_split_across_calls() -> None:
    splitter = LineSplitter()
    assert splitter.feed(b"hello\r") == []
    assert splitter.buffered == 6
    assert splitter.feed(b"\nworld") == [b"hello"]
    assert splitter.flush() == b"world"
    assert splitter.buffered == 0


def test_next_event_none_when_no_data() -> None:
    splitter = LineSplitter()
    assert splitter.next_event() is None
    splitter.receive_data(b"ab")
    assert splitter.next_event() is None
    splitter.receive_data(b"\n")
    assert splitter.next_event() == b"ab"
    assert splitter.next_event() is None


def test_overlong_discarded_immediately_and_reported_once() -> None:
    splitter = LineSplitter(max_length=1000)
    reports: list[bytes | LineTooLong] = []
    for _ in range(2000):  # 2 MB without a separator
        reports.extend(splitter.feed(b"x" * 1000))
        # Memory stays bounded: the partial line never exceeds max_length + 1.
        assert splitter.buffered <= 1001
    assert reports == [LineTooLong(dropped=2000)]
    assert splitter.feed(b"xxx\nnext line\r\n") == [b"next line"]
    assert splitter.dropped_lines == 1
    assert splitter.lines == 1
    assert splitter.statistics()["dropped_bytes"] >= 2_000_000


def test_overlong_reported_dropped_count() -> None:
    splitter = LineSplitter(max_length=4)
    assert splitter.feed(b"abcdefg") == [LineTooLong(dropped=7)]
    assert splitter.buffered == 0
    assert splitter.flush() == b""  # already reported, nothing to return
    assert splitter.feed(b"ok\n") == [b"ok"]


def test_overlong_bytes_separator_split_during_discard() -> None:
    splitter = LineSplitter(b"\r\n", max_length=4)
    assert splitter.feed(b"abcdefgh\r") == [LineTooLong(dropped=8)]
    assert splitter.buffered == 1  # the b"\r" may start the separator
    assert splitter.feed(b"\nok\r\n") == [b"ok"]


def test_flush_returns_partial() -> None:
    splitter = LineSplitter()
    assert splitter.feed(b"a\nunterminated\r") == [b"a"]
    assert splitter.flush() == b"unterminated\r"
    assert splitter.flush() == b""


def test_constructor_validation() -> None:
    with pytest.raises(ValueError):
        LineSplitter(b"")
    with pytest.raises(ValueError):
        LineSplitter(max_length=0)
    with pytest.raises(TypeError):
        LineSplitter(re.compile(r"\n"))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        LineSplitter("\n")  # type: ignore[arg-type]


def test_regex_zero_width_matches_ignored() -> None:
    splitter = LineSplitter(re.compile(rb";*"))
    assert splitter.feed(b"ab;;cd;") == [b"ab", b"cd"]


@pytest.mark.parametrize("separator", [None, b"\r\n", re.compile(rb"\r?\n")])
def test_bytewise_feeding_is_linear(separator: bytes | re.Pattern[bytes] | None) -> None:
    # One 100 kB line fed a byte at a time: a rescan of the whole partial line
    # per byte would be ~5e9 byte comparisons; a remembered offset is O(n).
    line = b"y" * 100_000
    splitter = LineSplitter(separator, max_length=1 << 20)
    for i in range(len(line)):
        splitter.receive_data(line[i : i + 1])
    assert splitter.feed(b"\r\n") == [line]


def reference_split(
    data: bytes, sep: bytes, strip_cr: bool, max_length: int
) -> tuple[list[bytes | str], bytes]:
    parts = data.split(sep)
    partial = parts.pop()
    out: list[bytes | str] = []
    for part in parts:
        if strip_cr and part.endswith(b"\r"):
            part = part[:-1]
        out.append(part if len(part) <= max_length else TOO_LONG)
    return out, partial


def split_points(draw: st.DrawFn, data: bytes) -> list[bytes]:
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=12)))
    chunks, last = [], 0
    for cut in [*cuts, len(data)]:
        chunks.append(data[last:cut])
        last = cut
    return chunks


@st.composite
def stream(draw: st.DrawFn) -> tuple[bytes, list[bytes]]:
    data = draw(
        st.binary(max_size=200) | st.lists(st.sampled_from([b"a", b"b", b"\r", b"\n", b"-"])).map(b"".join)
    )
    return data, split_points(draw, data)


@settings(max_examples=300, deadline=None)
@given(stream(), st.integers(1, 10))
def test_default_separator_matches_reference(sample: tuple[bytes, list[bytes]], max_length: int) -> None:
    data, chunks = sample
    splitter = LineSplitter(max_length=max_length)
    expected, partial = reference_split(data, b"\n", True, max_length)
    # An unterminated line already certainly too long is reported at once.
    overlong = len(partial) > max_length + 1
    assert run(splitter, chunks) == expected + [TOO_LONG] * overlong
    assert splitter.flush() == (b"" if overlong else partial)


@settings(max_examples=300, deadline=None)
@given(stream(), st.integers(1, 10), st.sampled_from([b"\n", b"\r\n", b"--", b"-a-", b"aa"]))
def test_bytes_separator_matches_reference(
    sample: tuple[bytes, list[bytes]], max_length: int, sep: bytes
) -> None:
    data, chunks = sample
    splitter = LineSplitter(sep, max_length=max_length)
    expected, partial = reference_split(data, sep, False, max_length)
    overlong = len(partial) > max_length + len(sep) - 1
    assert run(splitter, chunks) == expected + [TOO_LONG] * overlong
    assert splitter.flush() == (b"" if overlong else partial)


@settings(max_examples=200, deadline=None)
@given(stream(), st.integers(1, 10))
def test_regex_separator_matches_reference(sample: tuple[bytes, list[bytes]], max_length: int) -> None:
    data, chunks = sample
    splitter = LineSplitter(re.compile(rb"\r?\n"), max_length=max_length)
    parts = re.split(rb"\r?\n", data)
    parts.pop()
    assert run(splitter, chunks) == [p if len(p) <= max_length else TOO_LONG for p in parts]


@settings(max_examples=200, deadline=None)
@given(stream())
def test_arbitrary_input_never_raises(sample: tuple[bytes, list[bytes]]) -> None:
    _, chunks = sample
    for separator in (None, b"\x00\xff", re.compile(rb"[\x00-\x03]+")):
        splitter = LineSplitter(separator, max_length=16, regex_lookback=8)
        for chunk in chunks:
            splitter.feed(chunk)
            assert splitter.buffered <= 16 + 8
        splitter.flush()
