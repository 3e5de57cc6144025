"""SLIP decoding does not depend on how the bytes arrive."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from circuits.protocols.slip import FrameTooLong, SlipDecoder


def _shape(events: list[object]) -> list[object]:
    # FrameTooLong.dropped is how much was held when it was reported: chunking may change it.
    return [type(e).__name__ if isinstance(e, FrameTooLong) else e for e in events]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([b"\xc0", b"\xdb", b"\xdb\xdc", b"\xdb\xdd", b"\xdbx", b"a", b"abcdefgh"]),
                max_size=40).map(b"".join),
       st.lists(st.integers(min_value=1, max_value=9), max_size=30),
       st.booleans())
def test_events_do_not_depend_on_how_the_stream_is_split(data: bytes, cuts: list[int], strict: bool) -> None:
    whole = SlipDecoder(max_length=12, strict=strict).feed(data)
    split = SlipDecoder(max_length=12, strict=strict)
    events: list[object] = []
    view, i = memoryview(data), 0
    for size in cuts + [len(data)]:
        events += split.feed(bytes(view[i:i + size]))
        i += size
    assert _shape(events) == _shape(whole)


def test_a_frame_too_long_and_badly_escaped_is_too_long_whole_or_byte_by_byte() -> None:
    frame = b"x" * 20 + b"\xdbq" + b"\xc0"
    whole = SlipDecoder(max_length=10).feed(frame)
    decoder = SlipDecoder(max_length=10)
    bytewise = [e for b in frame for e in decoder.feed(bytes([b]))]
    assert _shape(whole) == _shape(bytewise) == ["FrameTooLong"]
