"""Line splitting does not depend on how the bytes arrive."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from circuits.protocols.linesplitter import LineSplitter, LineTooLong


def events_of(chunks: list[bytes], **options: object) -> list[object]:
    splitter = LineSplitter(max_length=16, **options)  # type: ignore[arg-type]
    seen: list[object] = []
    for chunk in chunks:
        splitter.receive_data(chunk)
        while (event := splitter.next_event()) is not None:
            seen.append("too long" if isinstance(event, LineTooLong) else event)
    return seen


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([b"\n", b"\r\n", b"\r", b"ab", b"x" * 9, b"\x00\xff"]), max_size=30).map(b"".join),
       st.lists(st.integers(1, 10), max_size=40), st.sampled_from([None, b"\r\n", b"|"]))
def test_lines_do_not_depend_on_the_cuts(data: bytes, cuts: list[int], separator: bytes | None) -> None:
    chunks, i = [], 0
    for size in cuts:
        chunks.append(data[i:i + size])
        i += size
    chunks.append(data[i:])
    options = {} if separator is None else {"separator": separator}
    assert events_of([c for c in chunks if c], **options) == events_of([data], **options)
